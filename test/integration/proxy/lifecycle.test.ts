import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, lstatSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { waitFor } from '../../helpers/index.js';
import { echoApp, familyApp } from './apps.js';
import {
  processAlive,
  runProxy,
  startProxy,
  type Catalog,
  type FakeService,
  type RunningProxy,
} from '../../unit/proxy/harness.js';
import { startBed, tearDown } from './bed.js';
import { signCall } from '../../../src/protocol/challenge.js';

const AUTH = { authorization: 'token alice-token' };

describe('hubapps-proxy app lifecycle', () => {
  let catalog: Catalog;
  let service: FakeService;
  const running: RunningProxy[] = [];
  const track = (p: RunningProxy) => (running.push(p), p);

  before(async () => ({ catalog, service } = await startBed()));
  afterEach(async () => {
    await Promise.all(running.splice(0).map((p) => p.kill()));
  });
  after(() => tearDown({ catalog, service }));

  it('proxies an app on a unix socket in a private 0700 directory', async () => {
    echoApp(catalog, 'sock', { socket: true });
    const proxy = track(await startProxy({ catalog, app: 'sock', service, serverId: 41 }));
    const report = await proxy.ready();
    assert.ok(report.appTarget && 'socket' in report.appTarget, 'target is a socket');
    const socket = report.appTarget.socket;
    assert.equal(
      dirname(dirname(socket)),
      proxy.spec.runtimeDir,
      'in a directory of its own in runtime_dir',
    );
    assert.match(socket, new RegExp(`/${process.getuid!()}-[A-Za-z0-9]{6}/app\\.sock$`));
    const dir = lstatSync(dirname(socket));
    assert.ok(dir.isDirectory());
    assert.equal(dir.mode & 0o777, 0o700);
    assert.equal(dir.uid, process.getuid!());
    const answer = await proxy.get('/apps/alice/sock/hello', AUTH);
    assert.equal(answer.status, 200);
    assert.equal(JSON.parse(answer.body).url, '/hello');
    const cmdline = readFileSync(`/proc/${report.appPid}/cmdline`, 'utf8');
    assert.ok(cmdline.includes(socket), 'the app was told the socket path');
    await proxy.kill();
    assert.equal(existsSync(dirname(socket)), false, "the server's runtime directory goes at stop");
  });

  it('reports an app that exits before it is ready, then exits itself', async () => {
    catalog.app('crash', 'title: Crash\ncommand: [sh, -c, "sleep 0.2; exit 3"]\n');
    const proxy = track(await startProxy({ catalog, app: 'crash', service }));
    const report = await waitFor(
      async () => {
        const r = await proxy.report();
        return r.state === 'exited' ? r : null;
      },
      { what: 'the exit to be reported' },
    );
    assert.equal(report.exit!.code, 3);
    assert.match(report.exit!.reason, /app exited with code 3 before it was ready/);
    assert.ok(report.progress.some((p) => /exited with code 3/.test(p.message)));
    const { code } = await proxy.exited;
    assert.equal(code, 1);
    const lastLine = proxy.output().trim().split('\n').at(-1)!;
    assert.match(
      lastLine,
      /app exited with code 3 before it was ready; the proxy exits with code 1$/,
      'the last log line says why',
    );
  });

  it('reports a command that cannot be run', async () => {
    catalog.app('missing', 'title: Missing\ncommand: [/nonexistent/bin/app, "{port}"]\n');
    const proxy = track(await startProxy({ catalog, app: 'missing', service }));
    const report = await waitFor(
      async () => {
        const r = await proxy.report();
        return r.state === 'exited' ? r : null;
      },
      { what: 'the failure to be reported' },
    );
    assert.equal(report.exit!.reason, 'cannot run /nonexistent/bin/app: ENOENT');
    assert.equal((await proxy.exited).code, 1);
  });

  it('exits 0 when a ready app exits 0 on its own, and 1 for any other code', async () => {
    const ok = track(await startProxy({ catalog, app: 'echo', service }));
    await ok.ready();
    await ok.get('/apps/alice/echo/exit-0', AUTH);
    assert.equal((await ok.exited).code, 0);
    const bad = track(await startProxy({ catalog, app: 'echo', service }));
    await bad.ready();
    await bad.get('/apps/alice/echo/exit-5', AUTH);
    assert.equal((await bad.exited).code, 1);
    assert.match(bad.output(), /app exited with code 5\n/);
  });

  it('on shutdown stops the whole app, grandchildren and escaped processes included', async () => {
    const pidFile = join(catalog.dir, 'family.pids');
    familyApp(catalog, 'family', pidFile);
    const proxy = track(await startProxy({ catalog, app: 'family', service }));
    const report = await proxy.ready();
    const pids = JSON.parse(readFileSync(pidFile, 'utf8')) as { inGroup: number; escaped: number };
    assert.ok(processAlive(pids.inGroup) && processAlive(pids.escaped));
    const answer = await proxy.get(
      '/_hubapps/shutdown',
      { authorization: signCall(proxy.spec.secret, 'POST', '/_hubapps/shutdown').header },
      'POST',
    );
    assert.equal(answer.status, 202);
    assert.equal((await proxy.exited).code, 0);
    assert.equal(processAlive(report.appPid!), false, 'app');
    assert.equal(processAlive(pids.inGroup), false, 'grandchild in the group');
    assert.equal(processAlive(pids.escaped), false, 'grandchild in its own session');
  });

  it('stops the app the same way on SIGTERM', async () => {
    const pidFile = join(catalog.dir, 'family2.pids');
    familyApp(catalog, 'family2', pidFile);
    const proxy = track(await startProxy({ catalog, app: 'family2', service }));
    const report = await proxy.ready();
    const pids = JSON.parse(readFileSync(pidFile, 'utf8')) as { inGroup: number; escaped: number };
    proxy.child.kill('SIGTERM');
    assert.equal((await proxy.exited).code, 0);
    for (const pid of [report.appPid!, pids.inGroup, pids.escaped])
      assert.equal(processAlive(pid), false, `pid ${pid}`);
  });

  it('keeps lastActivity null while only health is polled, and sets it on a proxied request', async () => {
    const proxy = track(await startProxy({ catalog, app: 'echo', service }));
    await proxy.ready();
    for (let i = 0; i < 3; i++) assert.equal((await proxy.report()).lastActivity, null);
    const before = Date.now();
    assert.equal((await proxy.get('/apps/alice/echo/', AUTH)).status, 200);
    const last = (await proxy.report()).lastActivity;
    assert.ok(last !== null && Date.parse(last) >= before - 5);
  });

  it('the stop op kills a wedged proxy and what is left of its app', async () => {
    const pidFile = join(catalog.dir, 'family3.pids');
    familyApp(catalog, 'family3', pidFile);
    const proxy = track(await startProxy({ catalog, app: 'family3', service, serverId: 99 }));
    const report = await proxy.ready();
    const pids = JSON.parse(readFileSync(pidFile, 'utf8')) as { inGroup: number; escaped: number };
    proxy.child.kill('SIGSTOP');
    try {
      const stop = track(
        runProxy({ op: 'stop', version: 1, pid: proxy.child.pid, server: { id: 99 } }, []),
      );
      assert.equal((await stop.exited).code, 0, stop.output());
      assert.match(stop.output(), /is gone/);
    } finally {
      proxy.child.kill('SIGCONT');
    }
    await proxy.exited;
    await sleep(100);
    for (const pid of [report.appPid!, pids.inGroup, pids.escaped])
      assert.equal(processAlive(pid), false, `pid ${pid}`);
  });

  it('the stop op leaves a process alone that is not a hubapps-proxy', async () => {
    const victim = spawn('sleep', ['30'], { stdio: 'ignore' });
    try {
      const stop = track(
        runProxy({ op: 'stop', version: 1, pid: victim.pid, server: { id: 1 } }, []),
      );
      assert.equal((await stop.exited).code, 1);
      assert.match(stop.output(), /is not a hubapps-proxy/);
      assert.ok(processAlive(victim.pid!));
    } finally {
      victim.kill('SIGKILL');
    }
  });
});
