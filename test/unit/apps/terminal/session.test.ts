import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { waitFor } from '../../../helpers/index.js';
import type { TermClient } from '../../../helpers/terminal-client.js';
import { markedProcesses } from '../../../../src/procfs/processes.js';
import { localTerminal, type LocalTerminal } from './local.js';

/** The shell's pid, asked in a way whose answer cannot be mistaken for the echoed command. */
async function shellPid(client: TermClient): Promise<number> {
  return Number((await client.run('echo pid-$$-end', /pid-(\d+)-end/))[1]);
}

describe('the built-in terminal session (real pty, real WebSocket)', function () {
  this.timeout(30_000);
  let term: LocalTerminal | undefined;
  afterEach(async () => {
    await term?.close();
    term = undefined;
  });

  it('runs a typed command in the shell and sends its output back', async () => {
    term = await localTerminal();
    const client = await term.connect();
    assert.equal(term.session.pid === null, false, 'the first tab starts the shell');
    const m = await client.run('echo hubapps-$((6*7)) "$TERM" "$LANG"', /hubapps-42 (\S+) (\S+)/);
    assert.deepEqual([m[1], m[2]], ['xterm-256color', 'C.UTF-8']);
    assert.deepEqual(client.controls[0], { type: 'attached' });
  });

  it('starts no shell before a tab attaches', async () => {
    term = await localTerminal();
    await sleep(200);
    assert.equal(term.session.pid, null);
  });

  it('starts the shell with the first tab size and passes resizes to the pty (stty size)', async () => {
    term = await localTerminal();
    const client = await term.connect({ query: 'cols=101&rows=33' });
    await client.run('stty size', /\r33 101\r\n/);
    client.resize(132, 43);
    await client.run('stty size', /\r43 132\r\n/);
    client.resize(0, 43);
    client.ws.send('{"type":"resize","cols":"wide"}');
    client.ws.send('not json');
    await client.run('stty size', /\r43 132\r\n/);
  });

  it('keeps the shell for a tab that reconnects within the grace period, replaying the earlier output', async () => {
    term = await localTerminal({ limits: { graceMs: 5000 } });
    const first = await term.connect();
    const pid = await shellPid(first);
    await first.run('echo before-$((40+2))', /before-42/);
    await first.close();
    await sleep(300);
    const again = await term.connect();
    await again.expect(/before-42/);
    assert.equal(await shellPid(again), pid);
  });

  it('shows the same output to two tabs and takes input from both', async () => {
    term = await localTerminal();
    const a = await term.connect();
    const b = await term.connect();
    const pid = await shellPid(a);
    await b.expect(new RegExp(`pid-${pid}-end`));
    await b.run('echo from-b-$((1+1))', /from-b-2/);
    await a.expect(/from-b-2/);
  });

  it('hangs up the shell when no tab has been attached for the grace period', async () => {
    term = await localTerminal({ limits: { graceMs: 300 } });
    const client = await term.connect();
    await shellPid(client);
    await client.close();
    const exit = await term.session.exited;
    assert.equal(exit.signal, 'SIGHUP');
    assert.ok(
      term.logs.some((l) => /hanging up the shell/.test(l)),
      term.logs.join('\n'),
    );
  });

  it('ends when the shell exits: tabs get the exit code and a normal close', async () => {
    term = await localTerminal();
    const a = await term.connect();
    const b = await term.connect();
    await shellPid(a);
    a.type('exit 3\r');
    assert.deepEqual(await term.session.exited, { code: 3, signal: null, error: null });
    for (const client of [a, b]) {
      assert.deepEqual((await client.closed).code, 1000);
      assert.deepEqual(client.controls.at(-1), { type: 'exit', code: 3, signal: null });
    }
    const late = await term.connect();
    assert.equal((await late.closed).code, 1001, 'a tab arriving after the end is turned away');
  });

  it('stops the shell and what was started from it, also outside its process group', async () => {
    const marks = { HUBAPPS_SERVER_ID: '424242', HUBAPPS_PROXY_PID: String(process.pid) };
    term = await localTerminal({ env: marks });
    const client = await term.connect();
    await client.run(
      'setsid sleep 300 </dev/null >/dev/null 2>&1 & echo started-$((1+1))',
      /started-2/,
    );
    await waitFor(() => markedProcesses(marks).length >= 2, {
      what: 'the shell and the escaped sleep',
    });
    await term.session.stop(1000);
    assert.deepEqual(markedProcesses(marks), []);
    assert.equal((await term.session.exited).signal, 'SIGHUP');
  });

  it('resolves exited without a shell when stopped before any tab attached', async () => {
    term = await localTerminal();
    await term.session.stop(1000);
    assert.deepEqual(await term.session.exited, { code: null, signal: null, error: null });
    assert.equal(term.session.pid, null);
  });

  it('pauses the shell while a tab does not acknowledge output, and resumes when it does', async () => {
    const highWater = 64 * 1024;
    term = await localTerminal({ limits: { highWater, lowWater: 16 * 1024 } });
    const client = await term.connect({ ack: false });
    client.type('yes | head -c 3000000; echo flood-$((2*3))-done\r');
    await waitFor(() => client.bytes > highWater, { what: 'output up to the high-water mark' });
    await sleep(500);
    const held = client.bytes;
    await sleep(500);
    assert.equal(client.bytes, held, 'output went on although nothing was acknowledged');
    assert.ok(held < highWater + 256 * 1024, `${held} bytes arrived unacknowledged`);
    client.autoAck = true;
    client.ack();
    await client.expect(/flood-6-done/, { timeout: 60_000 });
  });

  it('loses no output across many pauses and resumes', async () => {
    term = await localTerminal({ limits: { highWater: 8 * 1024, lowWater: 2 * 1024 } });
    const client = await term.connect();
    const from = client.text.length;
    client.type('yes | head -c 600000; echo count-$((1+1))-done\r');
    await client.expect(/count-2-done\r\n/, { from, timeout: 60_000 });
    assert.equal(client.text.slice(from).match(/y\r\n/g)?.length, 300_000);
  });

  it('disconnects a tab that stays congested, and the shell goes on for the others', async () => {
    term = await localTerminal({
      limits: { highWater: 32 * 1024, lowWater: 8 * 1024, stallMs: 500 },
    });
    const stuck = await term.connect({ ack: false });
    const live = await term.connect();
    live.type('yes | head -c 2000000; echo after-stall-$((3*3))\r');
    const closed = await stuck.closed;
    assert.equal(closed.code, 1006, 'the stalled tab is cut off');
    await live.expect(/after-stall-9/, { timeout: 60_000 });
  });
});
