import assert from 'node:assert/strict';
import { pino } from 'pino';
import { startLocalStack, type LocalStack } from '../../helpers/stack.js';
import { waitFor } from '../../helpers/wait.js';

const node = process.execPath;
const APPS = {
  crash: {
    title: 'Crash',
    command: [node, '-e', 'console.error("crash: settings missing"); process.exit(3)'],
    ready: { timeout: 10 },
  },
  mute: {
    title: 'Never ready',
    command: [node, '-e', 'setInterval(() => {{}}, 1000)'],
    ready: { timeout: 1 },
  },
  ghost: {
    title: 'Missing program',
    command: ['/nonexistent/hubapps-t-ghost', '{port}'],
    ready: { timeout: 10 },
  },
};

interface Line {
  level: number;
  msg: string;
  user?: string;
  server?: string;
  app?: string;
  code?: string;
  reason?: string;
}

describe('lifecycle: a failed start is visible to the admin and in the log tail', function () {
  this.timeout(60000);
  let stack: LocalStack;
  const lines: Line[] = [];
  before(async () => {
    const log = pino(
      { level: 'info' },
      { write: (s: string) => void lines.push(JSON.parse(s) as Line) },
    );
    stack = await startLocalStack({ apps: APPS, log });
  });
  after(async () => stack?.stop());

  const failed = (user: string, name: string) =>
    waitFor(
      async () => {
        const r = await stack.api('GET', `/users/${user}/servers/${name}`);
        return r.body.state === 'failed' ? (r.body as { reason: string }) : undefined;
      },
      { timeout: 20000, what: `${user}/${name} to fail` },
    );
  const failureLines = (user: string, server: string) =>
    lines.filter((l) => l.msg.startsWith('start failed') && l.user === user && l.server === server);

  for (const [app, why] of [
    ['crash', /exit|code 3/],
    ['mute', /not ready after 1 s/],
    ['ghost', /hubapps-t-ghost|not found|ENOENT|exit/],
  ] as const) {
    it(`writes exactly one service log line with user, server, app and reason when ${APPS[app].title.toLowerCase()} fails to start`, async () => {
      assert.equal((await stack.api('POST', `/users/alice/servers/${app}-1`, { app })).status, 202);
      const server = await failed('alice', `${app}-1`);
      assert.match(server.reason, why);
      const found = await waitFor(
        () =>
          failureLines('alice', `${app}-1`).length > 0
            ? failureLines('alice', `${app}-1`)
            : undefined,
        { what: 'the failure line' },
      );
      assert.equal(found.length, 1, JSON.stringify(found));
      const [line] = found;
      assert.equal(line!.level, 40);
      assert.deepEqual(
        [line!.user, line!.server, line!.app, line!.reason],
        ['alice', `${app}-1`, app, server.reason],
      );
      assert.equal(line!.msg, `start failed: alice/${app}-1 (app ${app}): ${server.reason}`);
      assert.ok(line!.code && /^[a-z_]+$/.test(line!.code), `no reason code: ${line!.code}`);
    });
  }

  it("marks where each attempt begins in the server's log, and the log API says where the newest one starts", async () => {
    await stack.api('POST', '/users/bob/servers/again', { app: 'crash' });
    await failed('bob', 'again');
    await stack.api('POST', '/users/bob/servers/again', { app: 'crash' });
    await waitFor(
      async () =>
        (await stack.api('GET', '/users/bob/servers/again/logs?tail=100')).body.lines.filter(
          (l: string) => l === 'crash: settings missing',
        ).length === 2,
      {
        timeout: 20000,
        what: 'the second attempt to write its error',
      },
    );
    await failed('bob', 'again');
    const { body } = await stack.api('GET', '/users/bob/servers/again/logs?tail=100');
    const lines = body.lines as string[];
    const starts = lines
      .map((l, i) => (/ hubapps: start of bob\/again \(app crash\)$/.test(l) ? i : -1))
      .filter((i) => i >= 0);
    assert.equal(starts.length, 2, lines.join('\n'));
    assert.equal(body.current_attempt, starts[1]);
    assert.equal(
      lines.slice(body.current_attempt).filter((l) => l === 'crash: settings missing').length,
      1,
      lines.join('\n'),
    );
    const short = await stack.api('GET', '/users/bob/servers/again/logs?tail=1');
    assert.equal(
      short.body.current_attempt,
      0,
      'a tail that starts inside the newest attempt begins with it',
    );
    assert.equal(failureLines('bob', 'again').length, 2, 'one line per failed attempt');
  });
});
