import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, rmdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { requirePrerequisite, requireRootOrSkip } from '../helpers/index.js';
import { waitFor } from '../helpers/wait.js';
import { TEST_USERS } from './harness.js';
import { isAlive } from './proc-scan.js';
import { SystemStack } from './system-stack.js';

const { alice, bob, carol, svc } = TEST_USERS;
const CGROUP_NAME = `${svc}-cg`;
const CONTROLLERS = ['memory', 'cpu', 'pids'] as const;
const root = (ctrl: string) => `/sys/fs/cgroup/${ctrl}/${CGROUP_NAME}`;
const CLI = fileURLToPath(new URL('../../src/cli.js', import.meta.url));
const MIB = 1024 * 1024;

/** Answers every request; GET /eat first holds 300 MiB, touched (a str of spaces), far beyond its 64 MiB limit. */
const HOG = `import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    held = []
    def do_GET(self):
        if self.path == '/eat':
            H.held.append(' ' * (300 << 20))
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b'ok')
    def log_message(self, *args):
        pass
http.server.HTTPServer(('127.0.0.1', int(sys.argv[1])), H).serve_forever()`;

/** GET /spin: spins for 2 s of wall time and answers the CPU seconds it got; GET /fork: how many of 64 children it could start. */
const SPIN = `import http.server, subprocess, sys, time
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = 'ok'
        if self.path == '/spin':
            t0, c0 = time.time(), time.process_time()
            while time.time() - t0 < 2:
                pass
            body = str(time.process_time() - c0)
        if self.path == '/fork':
            kids = []
            try:
                for i in range(64):
                    kids.append(subprocess.Popen(['/bin/sleep', '30']))
            except OSError:
                pass
            body = str(len(kids))
            for k in kids:
                k.kill()
                k.wait()
        self.send_response(200)
        self.end_headers()
        self.wfile.write(body.encode())
    def log_message(self, *args):
        pass
http.server.HTTPServer(('127.0.0.1', int(sys.argv[1])), H).serve_forever()`;

const APPS = {
  hog: {
    title: 'Hog',
    command: ['/usr/bin/python3', '-c', HOG, '{port}'],
    ready: { timeout: 20 },
    limits: { mem_mb: 64, cpus: 0.5, pids: 64 },
  },
  big: {
    title: 'Big',
    command: ['/usr/bin/python3', '-c', HOG, '{port}'],
    ready: { timeout: 20 },
    limits: { mem_mb: 200 },
  },
  spin: {
    title: 'Spin',
    command: ['/usr/bin/python3', '-c', SPIN, '{port}'],
    ready: { timeout: 20 },
    limits: { cpus: 0.2, pids: 40 },
  },
  // Meets its limit before it ever listens.
  greedy: {
    title: 'Greedy',
    command: ['/usr/bin/python3', '-c', "held = ' ' * (300 << 20)"],
    ready: { timeout: 20 },
    limits: { mem_mb: 64 },
  },
};

/** The v1 cgroup a process is in for one controller, from /proc/PID/cgroup. */
function cgroupOf(pid: number, ctrl: string): string {
  const line = readFileSync(`/proc/${pid}/cgroup`, 'utf8')
    .split('\n')
    .find((l) => l.split(':')[1]?.split(',').includes(ctrl));
  return line?.split(':')[2] ?? '';
}

const read = (file: string) => readFileSync(file, 'utf8').trim();

describe('system: per-server resource limits on the host (cgroup v1, real sudo)', function () {
  this.timeout(90_000);
  const stack = new SystemStack({
    apps: APPS,
    config: {
      server_limits: {
        cgroups: 'required',
        cgroup_name: CGROUP_NAME,
        mem_mb: 100,
        user_mem_mb: 250,
      },
      // carol's own Unix group (useradd makes one of her name) gives her servers other memory.
      group_settings: { [carol]: { mem_mb: 80, max_mem_mb: 120 } },
    },
  });
  before(async function () {
    requireRootOrSkip(this);
    requirePrerequisite(
      this,
      CONTROLLERS.every((c) => existsSync(`/sys/fs/cgroup/${c}/cgroup.procs`)),
      'needs the cgroup v1 controllers memory, cpu and pids under /sys/fs/cgroup',
    );
    await stack.setUp();
    // The unit's ExecStartPre=+ step, as root; the service already runs and needs no restart.
    execFileSync(
      process.execPath,
      [CLI, 'cgroup-setup', '--config', stack.configPath, '--user', svc],
      { stdio: 'pipe' },
    );
  });
  afterEach(function () {
    if (this.currentTest?.state === 'failed') stack.reportFailure(this.currentTest.fullTitle());
  });
  after(async () => {
    await stack.tearDown();
    for (const c of CONTROLLERS) {
      if (!existsSync(root(c))) continue;
      for (const d of readdirSync(root(c)).filter((n) => n.startsWith('server-')))
        rmdirSync(`${root(c)}/${d}`);
      rmdirSync(root(c));
    }
  });

  it('gives the service user its cgroup root: one directory per controller, owned by it', () => {
    const uid = Number(execFileSync('id', ['-u', svc], { encoding: 'utf8' }));
    for (const c of CONTROLLERS)
      assert.equal(
        execFileSync('stat', ['-c', '%u', root(c)], { encoding: 'utf8' }).trim(),
        String(uid),
        root(c),
      );
  });

  it("starts sudo, the proxy and the app inside the server's own cgroup, with the app's limits written", async () => {
    const row = await stack.startServer(alice, 'hog', 'hog');
    const leaf = `/${CGROUP_NAME}/server-${row.id}`;
    for (const pid of [row.launcher_pid!, row.proxy_pid!, row.app_pid!]) {
      for (const c of CONTROLLERS)
        assert.equal(cgroupOf(pid, c), leaf, `pid ${pid}, controller ${c}`);
    }
    assert.equal(
      Number(read(`${root('memory')}/server-${row.id}/memory.limit_in_bytes`)),
      64 * MIB,
    );
    const used = Number(read(`${root('memory')}/server-${row.id}/memory.usage_in_bytes`)) / MIB;
    process.stdout.write(
      `      (measured: sudo, proxy and idle app charge ${used.toFixed(1)} MiB to the server's cgroup)\n`,
    );
    assert.equal(read(`${root('cpu')}/server-${row.id}/cpu.cfs_quota_us`), '50000');
    assert.equal(read(`${root('pids')}/server-${row.id}/pids.max`), '64');
    assert.equal(
      cgroupOf(stack.service!.pid, 'memory').includes(CGROUP_NAME),
      false,
      'the service stays outside the servers’ cgroups',
    );
    assert.equal(
      read(`/proc/${row.app_pid}/oom_score_adj`),
      '500',
      'the kernel picks the app before its proxy',
    );
    assert.equal(read(`/proc/${row.proxy_pid}/oom_score_adj`), '0');
  });

  it("refuses a start beyond the user's memory total with 429 and a JSON error naming the totals", async () => {
    const r = await stack.api('POST', `/users/${alice}/servers/big`, { app: 'big' });
    assert.equal(r.status, 429, JSON.stringify(r.body));
    assert.equal(r.body.code, 'limit_reached');
    assert.match(
      r.body.message,
      /hold 64 MB of memory; this start asks for 200 MB more, beyond the 250 MB/,
    );
    assert.equal(stack.row(alice, 'big'), undefined, 'no row written');
  });

  it("kills alice's app at its 64 MiB limit alone, while bob's app keeps answering; the reason reaches the API, the audit trail and the metrics", async () => {
    const bobRow = await stack.startServer(bob, 'web', 'web');
    const row = stack.row(alice, 'hog')!;
    const t0 = Date.now();
    const eat = await stack
      .viaChp(`/apps/${alice}/hog/eat`, { authorization: `token ${stack.adminToken}` })
      .catch((err: Error) => err);
    if (eat instanceof Response) await eat.body?.cancel();
    const gone = await stack
      .waitState(alice, 'hog', ['failed', 'stopped'], 20_000)
      .catch(() => stack.row(alice, 'hog')!);
    const ms = Date.now() - t0;
    assert.match(
      gone.reason ?? '',
      /^stopped: out of memory \(limit 64 MiB\)/,
      `state ${gone.state}, reason ${gone.reason}`,
    );
    const api = await stack.api('GET', `/users/${alice}/servers/hog`);
    assert.match(api.body.reason, /out of memory \(limit 64 MiB\)/);
    const res = await stack.viaChp(`/apps/${bob}/web/`, {
      authorization: `token ${stack.adminToken}`,
    });
    assert.equal(res.status, 200, "bob's app must keep answering");
    await res.body?.cancel();
    assert.equal(stack.row(bob, 'web')!.state, 'running');
    assert.ok(
      isAlive(bobRow.app_pid) && isAlive(stack.service!.pid),
      'bob’s app and the service are untouched',
    );
    const db = new Database(stack.dbFile, { readonly: true });
    const audit = db
      .prepare("SELECT message, actor FROM events WHERE server_id = ? AND kind = 'audit'")
      .all(row.id) as Array<{ message: string; actor: string }>;
    db.close();
    assert.deepEqual(audit, [
      {
        message: "the kernel killed the app at the server's memory limit (64 MiB)",
        actor: 'kernel',
      },
    ]);
    const metrics = await fetch(stack.apiUrl.replace(/api$/, 'metrics'), {
      headers: { authorization: `token ${stack.adminToken}` },
    });
    assert.match(await metrics.text(), /hubapps_server_oom_kills_total\{app="hog"\} 1/);
    await waitFor(() => !existsSync(`${root('memory')}/server-${row.id}`), {
      timeout: 5000,
      what: "the ended server's cgroup to be removed",
    });
    process.stdout.write(`      (measured: killed and recorded ${ms} ms after GET /eat)\n`);
  });

  it('fails a start whose app meets its memory limit before it is ready, with the same reason', async () => {
    const r = await stack.api('POST', `/users/${bob}/servers/greedy`, { app: 'greedy' });
    assert.equal(r.status, 202, JSON.stringify(r.body));
    const row = await stack.waitState(bob, 'greedy', ['failed'], 20_000);
    assert.match(row.reason ?? '', /^stopped: out of memory \(limit 64 MiB\)$/);
    await waitFor(() => !existsSync(`${root('memory')}/server-${row.id}`), {
      timeout: 5000,
      what: "the failed server's cgroup to be removed",
    });
  });

  it('holds a spinning app to its CPU quota and its forks to pids.max', async () => {
    await stack.startServer(alice, 'spin', 'spin');
    const get = async (path: string) => {
      const res = await stack.viaChp(`/apps/${alice}/spin${path}`, {
        authorization: `token ${stack.adminToken}`,
      });
      assert.equal(res.status, 200);
      return Number(await res.text());
    };
    const cpuSeconds = await get('/spin');
    const children = await get('/fork');
    process.stdout.write(
      `      (measured: ${cpuSeconds.toFixed(2)} CPU s in 2 s of spinning at cpus 0.2; ${children} of 64 children started at pids 40)\n`,
    );
    assert.ok(
      cpuSeconds < 0.8,
      `the app got ${cpuSeconds} CPU seconds in 2 s with a quota of 0.2 cores`,
    );
    assert.ok(children > 0 && children < 40, `${children} children started`);
    assert.equal((await stack.api('DELETE', `/users/${alice}/servers/spin`)).status, 200);
  });

  it("gives a member of a group in group_settings that group's memory for her server's cgroup", async () => {
    const row = await stack.startServer(carol, 'web', 'web');
    const limit = (id: number) =>
      Number(read(`${root('memory')}/server-${id}/memory.limit_in_bytes`)) / MIB;
    assert.equal(limit(row.id), 80, "carol's group sets mem_mb: 80");
    assert.equal(limit(stack.row(bob, 'web')!.id), 100, 'bob keeps server_limits.mem_mb');
    assert.equal((await stack.api('DELETE', `/users/${carol}/servers/web`)).status, 200);
  });

  it("removes a stopped server's cgroup from every controller", async () => {
    const row = stack.row(bob, 'web')!;
    assert.equal((await stack.api('DELETE', `/users/${bob}/servers/web`)).status, 200);
    for (const c of CONTROLLERS) assert.equal(existsSync(`${root(c)}/server-${row.id}`), false, c);
  });
});
