import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitReady, type ReadinessCheck } from '../../../../src/proxy/app/readiness.js';

describe('waitReady: the proxy waiting for its app', () => {
  let dir: string;
  let server: Server | undefined;
  const notes: string[] = [];
  const check = (socket: string, timeoutMs = 5000): ReadinessCheck => ({
    target: { socket },
    kind: 'tcp',
    path: '/',
    statusBelow: 400,
    timeoutMs,
  });

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'hubapps-t-ready-'));
    notes.length = 0;
  });
  afterEach(() => {
    server?.close();
    server = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  it('is ready once the app creates and listens on its socket, later than the first attempts', async () => {
    const socket = join(dir, 'app.sock');
    setTimeout(() => (server = createServer().listen(socket)), 150);
    const result = await waitReady(check(socket), new AbortController().signal, (m) =>
      notes.push(m),
    );
    assert.equal(result, 'ready');
    assert.ok(server?.listening, 'the socket listens');
    assert.deepEqual(notes, []);
  });

  it('gives up after its timeout when nothing listens', async () => {
    const result = await waitReady(
      check(join(dir, 'none.sock'), 100),
      new AbortController().signal,
      (m) => notes.push(m),
    );
    assert.equal(result, 'timeout');
  });

  it('stops waiting when aborted (a stop while the app starts)', async () => {
    const abort = new AbortController();
    setTimeout(() => abort.abort(), 50);
    const result = await waitReady(check(join(dir, 'none.sock')), abort.signal, (m) =>
      notes.push(m),
    );
    assert.equal(result, 'aborted');
  });

  it('polls on when the socket directory cannot be watched (it does not exist yet)', async () => {
    const socket = join(dir, 'later', 'app.sock');
    setTimeout(() => {
      mkdirSync(join(dir, 'later'));
      server = createServer().listen(socket);
    }, 100);
    const result = await waitReady(check(socket), new AbortController().signal, (m) =>
      notes.push(m),
    );
    assert.equal(result, 'ready');
  });
});
