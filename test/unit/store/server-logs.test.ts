import assert from 'node:assert/strict';
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  attemptLine,
  capLog,
  currentAttemptStart,
  logFileFor,
  tailLog,
} from '../../../src/store/server-logs.js';
import { tmpDir, type TmpDir } from '../../helpers/tmp.js';

describe("a server's log file", () => {
  let tmp: TmpDir;
  beforeEach(async () => (tmp = await tmpDir('logs')));
  afterEach(async () => tmp.remove());

  it('is named USER@SERVER.log, so no two (user, server) pairs share one', () => {
    assert.equal(logFileFor('/var/log/hubapps', 'alice', 'lab'), '/var/log/hubapps/alice@lab.log');
    assert.notEqual(logFileFor('/l', 'alice--x', 'y'), logFileFor('/l', 'alice', 'x--y'));
  });

  it('shows its last lines, and nothing (no error) when it does not exist yet', () => {
    const file = join(tmp.path, 'a.log');
    assert.deepEqual(tailLog(file), []);
    assert.deepEqual(tailLog(null), []);
    writeFileSync(file, Array.from({ length: 10 }, (_, i) => `line ${i}`).join('\n') + '\n');
    assert.deepEqual(tailLog(file, 3), ['line 7', 'line 8', 'line 9']);
  });

  it('reads at most maxBytes from the end and drops the first line it cut in half', () => {
    const file = join(tmp.path, 'big.log');
    writeFileSync(file, `${'x'.repeat(100)}\nshort\nlast\n`);
    assert.deepEqual(tailLog(file, 100, 12), ['short', 'last']);
  });

  it('splits attempts: the newest start marker begins the current attempt', () => {
    const lines = [
      attemptLine('alice', 'lab', 'jupyter', new Date(0)).trimEnd(),
      'first attempt failed',
      attemptLine('alice', 'lab', 'jupyter', new Date(1000)).trimEnd(),
      'second attempt runs',
    ];
    assert.equal(currentAttemptStart(lines), 2);
    assert.equal(currentAttemptStart(['no marker shown']), 0);
  });

  it('is cut back to its newest half when it grows past its cap, and left alone below it', () => {
    const file = join(tmp.path, 'cap.log');
    writeFileSync(file, 'a'.repeat(600));
    assert.equal(capLog(file, 1000), false);
    appendFileSync(file, 'b'.repeat(600));
    assert.equal(capLog(file, 1000), true);
    const kept = readFileSync(file, 'utf8');
    assert.ok(kept.length <= 1000, `kept ${kept.length} bytes`);
    assert.ok(kept.endsWith('b'.repeat(100)), 'the newest bytes are kept');
    assert.match(kept, /^\[hubapps: log cut to its newest \d+ bytes at /);
    assert.equal(capLog(join(tmp.path, 'missing.log'), 10), false);
  });
});
