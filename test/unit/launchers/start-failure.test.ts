import assert from 'node:assert/strict';
import { attemptLine, currentAttemptStart } from '../../../src/store/server-logs.js';
import { explainEarlyExit } from '../../../src/launchers/start-failure.js';

describe('explaining a start that ended early', () => {
  it("retries on another port when the proxy's log says the port was taken, even before its exit status is known", () => {
    const tail = [
      '2026-11-28T04:33:31.368Z hubapps-proxy: port 52478 on 127.0.0.1 is already in use',
    ];
    const failure = explainEarlyExit('sudo', { code: null, signal: null }, tail, 'alice', 'users');
    assert.deepEqual(failure, { code: 'port_in_use', retry: true, reason: 'the port was taken' });
  });

  it("judges an attempt by its own lines only: an earlier attempt's sudo refusal does not explain a later exit", () => {
    const log = [
      attemptLine('alice', 'lab', 'lab').trimEnd(),
      'sudo: a password is required',
      attemptLine('alice', 'lab', 'lab').trimEnd(),
      '2026-11-28T04:40:00.000Z hubapps-proxy: app exited with code 2',
    ];
    const current = log.slice(currentAttemptStart(log));
    assert.equal(current.length, 2);
    assert.equal(
      explainEarlyExit('sudo', { code: 1, signal: null }, current, 'alice', 'users').code,
      'proxy_exited',
    );
    assert.equal(
      explainEarlyExit('sudo', { code: 1, signal: null }, log, 'alice', 'users').code,
      'sudo_refused',
      'the whole log would blame sudo',
    );
  });
});
