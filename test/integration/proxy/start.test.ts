import assert from 'node:assert/strict';
import { readFileSync, readlinkSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { userInfo } from 'node:os';
import { PROXY_EXIT, type HealthReport } from '../../../src/protocol/wire.js';
import { waitFor } from '../../helpers/index.js';
import {
  makeSpec,
  processAlive,
  runProxy,
  startProxy,
  type Catalog,
  type FakeService,
  type RunningProxy,
} from '../../unit/proxy/harness.js';
import { startBed, tearDown } from './bed.js';

/** An HTTP app that sleeps 0.3 s before it listens on the port in argv[1]. */
const LATE_APP = [
  'import socket, sys, time',
  'time.sleep(0.3)',
  's = socket.socket()',
  's.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)',
  "s.bind(('127.0.0.1', int(sys.argv[1])))",
  's.listen()',
  'while True:',
  '    c, _ = s.accept()',
  '    c.recv(65536)',
  "    c.sendall(b'HTTP/1.1 200 OK\\r\\ncontent-length: 2\\r\\nconnection: close\\r\\n\\r\\nok')",
  '    c.close()',
  '',
].join('\n');

describe('hubapps-proxy start', () => {
  let catalog: Catalog;
  let service: FakeService;
  const running: RunningProxy[] = [];
  const track = (p: RunningProxy) => (running.push(p), p);

  before(async () => ({ catalog, service } = await startBed()));
  afterEach(async () => {
    await Promise.all(running.splice(0).map((p) => p.kill()));
  });
  after(() => tearDown({ catalog, service }));

  it('reports numbered progress through health until the app is ready', async () => {
    const proxy = track(await startProxy({ catalog, app: 'echo', service }));
    const report = await proxy.ready();
    assert.equal(report.serverId, 7);
    assert.equal(report.pid, proxy.child.pid);
    assert.ok(report.appPid && processAlive(report.appPid));
    assert.ok(report.appTarget && 'port' in report.appTarget);
    assert.ok(report.readyAt);
    const messages = report.progress.map((p) => p.message);
    assert.equal(messages[0], 'starting echo');
    assert.match(messages[1]!, /^waiting for port \d+$/);
    assert.match(messages.at(-1)!, /^ready after \d+ ms$/);
    assert.deepEqual(
      report.progress.map((p) => p.seq),
      messages.map((_, i) => i + 1),
    );
    const later = await proxy.report(2);
    assert.deepEqual(
      later.progress.map((p) => p.seq),
      [3],
    );
  });

  it('answers health only with the secret: a wrong or missing one gets 401', async () => {
    const proxy = track(await startProxy({ catalog, app: 'echo', service }));
    await proxy.ready();
    const wrong = await proxy.health(undefined, 'x'.repeat(proxy.spec.secret.length));
    assert.equal(wrong.status, 401);
    assert.doesNotMatch(wrong.body, /appPid/);
    const none = await proxy.get('/_hubapps/health');
    assert.equal(none.status, 401);
    const shutdown = await proxy.get(
      '/_hubapps/shutdown',
      { authorization: 'Bearer nope' },
      'POST',
    );
    assert.equal(shutdown.status, 401);
    const plain = await proxy.get('/_hubapps/health', {
      authorization: `Bearer ${proxy.spec.secret}`,
    });
    assert.equal(plain.status, 401, 'the secret itself is no longer a credential on the wire');
    assert.equal((await proxy.report()).state, 'ready');
  });

  it('exits with 98 when its port is taken, before starting the app', async () => {
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      const proxy = track(await startProxy({ catalog, app: 'echo', service, port }));
      const { code } = await proxy.exited;
      assert.equal(code, PROXY_EXIT.portInUse);
      assert.match(proxy.output(), /port \d+ on 127\.0\.0\.1 is already in use/);
      assert.doesNotMatch(proxy.output(), /starting echo/);
    } finally {
      blocker.close();
    }
  });

  it('exits with 3 and says so when the app is not in the catalog', async () => {
    const proxy = track(await startProxy({ catalog, app: 'nosuchapp', service }));
    const { code } = await proxy.exited;
    assert.equal(code, PROXY_EXIT.appNotInCatalog);
    assert.match(proxy.output(), /app 'nosuchapp' is not in the catalog/);
  });

  it('refuses a catalog file that breaks the app schema, naming the file and key', async () => {
    catalog.app('broken', 'title: Broken\ncommand: []\n');
    const proxy = track(await startProxy({ catalog, app: 'broken', service }));
    const { code } = await proxy.exited;
    assert.equal(code, 1);
    assert.match(proxy.output(), /broken\.yaml: key 'command'/);
  });

  it('refuses an unknown placeholder in the catalog before starting anything', async () => {
    catalog.app('typo', 'title: Typo\ncommand: [sleep, "{prot}"]\n');
    const proxy = track(await startProxy({ catalog, app: 'typo', service }));
    const { code } = await proxy.exited;
    assert.equal(code, 1);
    assert.match(proxy.output(), /unknown placeholder \{prot\}/);
  });

  it('exits with 2 and one clear line for bad JSON or an unknown op', async () => {
    const bad = track(runProxy(null, ['--catalog-dir', catalog.dir], 'this is not json\n'));
    assert.equal((await bad.exited).code, PROXY_EXIT.badRequest);
    assert.equal(bad.output().trim().split('\n').length, 1);
    assert.match(bad.output(), /not one JSON request/);
    const unknown = track(runProxy({ op: 'explode', version: 1 }, ['--catalog-dir', catalog.dir]));
    assert.equal((await unknown.exited).code, PROXY_EXIT.badRequest);
    assert.match(unknown.output(), /unknown op "explode"/);
    const big = track(runProxy(null, ['--catalog-dir', catalog.dir], `${'x'.repeat(70 * 1024)}\n`));
    assert.equal((await big.exited).code, PROXY_EXIT.badRequest);
    assert.match(big.output(), /larger than 65536 bytes/);
  });

  it('answers the version op with the protocol version, node version and user', async () => {
    const proxy = track(runProxy({ op: 'version', version: 1 }, []));
    assert.equal((await proxy.exited).code, 0);
    assert.deepEqual(JSON.parse(proxy.output()), {
      protocol: 1,
      node: process.version,
      user: userInfo().username,
    });
  });

  it('with --expect-user-check refuses a request for another user (exit 4)', async () => {
    const spec = makeSpec({ catalog, app: 'echo', service, user: 'somebody-else' }, 1);
    const proxy = track(
      runProxy(spec, [
        '--catalog-dir',
        catalog.dir,
        '--expect-user-check',
        '--allowed-group',
        'nogroup',
      ]),
    );
    assert.equal((await proxy.exited).code, PROXY_EXIT.wrongUser);
    assert.match(proxy.output(), /request is for 'somebody-else'/);
  });

  it('with --expect-user-check refuses to start without the policy the installed wrapper passes (exit 2)', async () => {
    const spec = makeSpec({ catalog, app: 'echo', service, user: userInfo().username }, 1);
    const proxy = track(runProxy(spec, ['--catalog-dir', catalog.dir, '--expect-user-check']));
    assert.equal((await proxy.exited).code, PROXY_EXIT.badRequest);
    assert.match(proxy.output(), /needs --allowed-group/);
  });

  it('starts the app with a clean environment that never holds the secret', async () => {
    process.env.HUBAPPS_TEST_LEAK = 'must-not-reach-the-app';
    let proxy: RunningProxy;
    try {
      proxy = track(await startProxy({ catalog, app: 'echo', service }));
    } finally {
      delete process.env.HUBAPPS_TEST_LEAK;
    }
    const report = await proxy.ready();
    const environ = readFileSync(`/proc/${report.appPid}/environ`, 'utf8');
    const cmdline = readFileSync(`/proc/${report.appPid}/cmdline`, 'utf8');
    assert.ok(!environ.includes(proxy.spec.secret), 'secret in the app environment');
    assert.ok(!cmdline.includes(proxy.spec.secret), 'secret in the app argv');
    const env = Object.fromEntries(
      environ
        .split('\0')
        .filter(Boolean)
        .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
    );
    assert.equal(env.HUBAPPS_TEST_LEAK, undefined);
    assert.equal(env.PATH, '/usr/local/bin:/usr/bin:/bin');
    assert.equal(env.HOME, userInfo().homedir);
    assert.equal(env.USER, userInfo().username);
    assert.equal(env.TERM, 'xterm-256color');
    assert.equal(env.JUPYTERHUB_USER, 'alice');
    assert.equal(env.JUPYTERHUB_SERVER_NAME, 'echo');
    assert.equal(env.JUPYTERHUB_SERVICE_PREFIX, '/apps/alice/echo/');
    assert.equal(env.JUPYTERHUB_BASE_URL, '/');
    assert.equal(
      env.JUPYTERHUB_SERVICE_URL,
      `http://127.0.0.1:${(report.appTarget as { port: number }).port}/`,
    );
    assert.equal(env.HUBAPPS_SERVER_ID, '7');
    assert.equal(readlinkSync(`/proc/${report.appPid}/cwd`), userInfo().homedir);
  });

  it('holds a health call that asks to wait until it has news, so the service hears of readiness when it happens', async () => {
    const script = catalog.file('late.py', LATE_APP);
    catalog.app(
      'late',
      `title: Late\ncommand: [/usr/bin/python3, ${JSON.stringify(script)}, "{port}"]\n`,
    );
    const proxy = track(await startProxy({ catalog, app: 'late', service }));
    const first = await waitFor(
      async () => {
        const r = await proxy.report();
        return r.appPid ? r : null;
      },
      { what: 'the app started' },
    );
    assert.equal(first.state, 'starting', 'the app sleeps before it listens');
    let seen = first.progress.at(-1)!.seq;
    for (;;) {
      const t0 = Date.now();
      const answer = await proxy.health(seen, undefined, 1000);
      const report = JSON.parse(answer.body) as HealthReport;
      const news = report.progress.length > 0 || report.state !== 'starting';
      // Without news the proxy answers only when the wait is over, never at once.
      assert.ok(
        news || Date.now() - t0 >= 1000,
        `answered after ${Date.now() - t0} ms with nothing new`,
      );
      seen = report.progress.at(-1)?.seq ?? seen;
      if (report.state === 'ready') {
        assert.match(report.progress.map((p) => p.message).join('\n'), /ready after/);
        break;
      }
    }
    const ready = await proxy.health(seen, undefined, 1000);
    assert.equal(JSON.parse(ready.body).state, 'ready', 'a ready proxy answers at once');
  });

  it('gives up when the app is not ready in time, kills it and exits non-zero', async () => {
    catalog.app('mute', 'title: Mute\ncommand: [sleep, "300"]\nready: {timeout: 1}\n');
    const proxy = track(await startProxy({ catalog, app: 'mute', service }));
    const report = await waitFor(
      async () => ((await proxy.report()).appPid ? proxy.report() : null),
      { what: 'the app pid' },
    );
    const exitReport = await waitFor(
      async () => {
        const r = await proxy.report();
        return r.state === 'exited' ? r : null;
      },
      { timeout: 6000, what: 'the timeout' },
    );
    assert.match(exitReport.exit!.reason, /was not ready after 1 s/);
    const { code } = await proxy.exited;
    assert.notEqual(code, 0);
    assert.equal(processAlive(report.appPid!), false);
  });
});
