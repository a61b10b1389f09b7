import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { requireRootOrSkip } from '../helpers/index.js';
import { waitFor } from '../helpers/wait.js';
import { TermClient } from '../helpers/terminal-client.js';
import { TEST_USERS, run } from './harness.js';
import { cancelTestJobs, ensureCluster, jobsOf, jobState, requireSlurm } from './slurm-cluster.js';
import { routeTargetOf, SystemStack } from './system-stack.js';

const { alice, bob } = TEST_USERS;
const WEB = ['/usr/bin/python3', '-m', 'http.server', '{port}', '--bind', '127.0.0.1'];
/** Serves, and a few seconds after it is ready asks for 600 MB: over its 200 MB job limit. */
const HOG =
  'import http.server,threading,time,sys\n' +
  's=http.server.HTTPServer(("127.0.0.1",int(sys.argv[1])),http.server.SimpleHTTPRequestHandler)\n' +
  'threading.Thread(target=s.serve_forever,daemon=True).start()\n' +
  'time.sleep(4)\nb=bytearray(600*1024*1024)\nfor i in range(0,len(b),4096): b[i]=1\ntime.sleep(600)\n';
const job = (extra: object = {}) => ({ mem_mb: 200, cpus: 1, time_minutes: 10, ...extra });

const APPS = {
  webjob: {
    title: 'Web job',
    command: WEB,
    ready: { timeout: 30 },
    slurm: job({ choices: { hours: { max: 4 }, cpus: { max: 2 }, mem_mb: { max: 1024 } } }),
  },
  termjob: { title: 'Terminal job', builtin: 'terminal', slurm: job() },
  hog: {
    title: 'Memory hog',
    command: ['/usr/bin/python3', '-c', HOG, '{port}'],
    ready: { timeout: 30 },
    slurm: job(),
  },
  short: {
    title: 'One minute',
    command: WEB,
    ready: { timeout: 30 },
    slurm: job({ time_minutes: 1 }),
  },
  later: {
    title: 'Starts in an hour',
    command: WEB,
    slurm: job({ extra_args: ['--begin=now+3600'] }),
  },
  idle: { title: 'Idle', command: WEB, ready: { timeout: 30 }, idle_timeout: 3, slurm: job() },
  nowhere: { title: 'No such partition', command: WEB, slurm: job({ partition: 'nosuch' }) },
};

describe('system: apps as Slurm jobs (real sudo, real Slurm, real CHP)', function () {
  this.timeout(240_000);
  const stack = new SystemStack({
    apps: APPS,
    config: { slurm: { apps: Object.keys(APPS), pending_timeout: 15 } },
  });
  let mode = '';
  let bobToken = '';

  before(async function () {
    requireRootOrSkip(this);
    requireSlurm(this);
    mode = await ensureCluster();
    process.stderr.write(`  slurm enforcement mode: ${mode}\n`);
    await stack.setUp();
    // The one-minute job runs while the other tests do; its test comes last.
    await start('short', 'short');
    bobToken = (await stack.api('POST', `/users/${bob}/tokens`, { note: 'slurm test' })).body
      .token as string;
  });
  afterEach(function () {
    if (this.currentTest?.state === 'failed') {
      stack.reportFailure(this.currentTest.fullTitle());
      for (const f of ['webjob', 'hog', 'short', 'later', 'term']) {
        try {
          process.stderr.write(
            `--- log ${f}:\n${readFileSync(join(stack.stateDir, 'logs', `${alice}--${f}.log`), 'utf8').slice(-3000)}\n`,
          );
        } catch {
          // no such server in this test
        }
      }
    }
  });
  after(async () => {
    await cancelTestJobs();
    await stack.tearDown();
  });

  /** Read straight from SQLite: the messages the progress stream carried, and the launcher's saved state. */
  const query = <T>(sql: string, ...args: unknown[]): T[] => {
    const db = new Database(stack.dbFile, { readonly: true, fileMustExist: true });
    try {
      return db.prepare(sql).all(...args) as T[];
    } finally {
      db.close();
    }
  };
  const messages = (name: string) =>
    query<{ message: string }>(
      'SELECT message FROM events WHERE user = ? AND server = ? ORDER BY id',
      alice,
      name,
    ).map((e) => e.message);
  const saved = (name: string) => {
    const [row] = query<{ launcher: string; launcher_state: string }>(
      'SELECT launcher, launcher_state FROM servers WHERE user = ? AND name = ?',
      alice,
      name,
    );
    return {
      launcher: row!.launcher,
      ...(JSON.parse(row!.launcher_state) as { jobId: string; host: string; nodePort: number }),
    };
  };
  const ended = (name: string) => {
    const row = stack.row(alice, name)!;
    return ['failed', 'stopped'].includes(row.state) ? row : undefined;
  };
  const start = async (name: string, app: string, options: object = {}) => {
    const r = await stack.api('POST', `/users/${alice}/servers/${name}`, { app, options });
    assert.equal(r.status, 202, JSON.stringify(r.body));
  };
  const asAdmin = () => ({ authorization: `token ${stack.adminToken}` });

  it('starts an app as a Slurm job of its user, routes CHP to the node, and serves it through CHP', async () => {
    await start('webjob', 'webjob', { hours: 2, cpus: 2, mem_mb: 300 });
    await stack.waitState(alice, 'webjob', ['running'], 60_000);
    const jobs = (await jobsOf(alice)).filter(
      (j) => j.name === 'hubapps-webjob' && j.state !== 'CANCELLED' && j.state !== 'COMPLETED',
    );
    assert.equal(jobs.length, 1, JSON.stringify(jobs));
    assert.deepEqual([jobs[0]!.state, jobs[0]!.user], ['RUNNING', alice]);
    const shown = await run('scontrol', ['-o', 'show', 'job', jobs[0]!.id]);
    assert.match(shown.stdout, /MinMemoryNode=300M/);
    assert.match(shown.stdout, /TimeLimit=02:00:00/);
    assert.match(shown.stdout, /NumCPUs=2/);
    const route = (await stack.routes())[`/apps/${alice}/webjob`]!;
    assert.match(route.target, new RegExp(`^http://${jobs[0]!.node}:\\d+$`));
    const res = await stack.viaChp(`/apps/${alice}/webjob/`, asAdmin());
    assert.equal(res.status, 200);
    assert.match(await res.text(), /Directory listing/);
    assert.equal(saved('webjob').launcher, 'slurm');
    assert.equal(saved('webjob').jobId, jobs[0]!.id);
    const said = messages('webjob').join('\n');
    assert.match(said, /spawned via slurm launcher/);
    assert.match(said, /listening on \S+:\d+/);
  });

  it('runs apps not listed in slurm.apps on this host through sudo, beside the jobs', async () => {
    await start('onhost', 'web');
    await stack.waitState(alice, 'onhost', ['running'], 30_000);
    const row = stack.row(alice, 'onhost')!;
    assert.equal(saved('onhost').launcher, 'sudo');
    assert.equal((await stack.routes())[`/apps/${alice}/onhost`]!.target, routeTargetOf(row));
    assert.equal((await jobsOf(alice)).filter((j) => j.name === 'hubapps-onhost').length, 0);
    const r = await stack.api('DELETE', `/users/${alice}/servers/onhost`);
    assert.equal(r.body.state, 'stopped', r.body.reason);
  });

  it("refuses resource choices beyond the admin's limits, and options the app does not offer, before anything is submitted", async () => {
    const before = (await jobsOf(alice)).length;
    for (const [options, re] of [
      [{ hours: 5 }, /hours.*from 1 to 4/],
      [{ mem_mb: 4096 }, /mem_mb.*from 1 to 1024/],
      [{ gpus: 1 }, /no option 'gpus'/],
    ] as const) {
      const r = await stack.api('POST', `/users/${alice}/servers/toomuch`, {
        app: 'webjob',
        options,
      });
      assert.equal(r.status, 400, JSON.stringify(r.body));
      assert.match(r.body.message, re);
    }
    assert.equal((await jobsOf(alice)).length, before);
    assert.equal(stack.row(alice, 'toomuch'), undefined);
  });

  it("answers a job Slurm refuses with 422 and sbatch's reason; the server is failed and no job or request file is left", async () => {
    const r = await stack.api('POST', `/users/${alice}/servers/nowhere`, { app: 'nowhere' });
    assert.equal(r.status, 422, JSON.stringify(r.body));
    assert.match(r.body.message, /Slurm did not accept the job: .*(partition|Partition)/);
    assert.equal(stack.row(alice, 'nowhere')!.state, 'failed');
    assert.equal((await jobsOf(alice)).filter((j) => j.name === 'hubapps-nowhere').length, 0);
    const left = await run('find', [`/home/${alice}/.hubapps/slurm`, '-name', 'nowhere-*.json']);
    assert.equal(left.stdout.trim(), '');
  });

  it("keeps the secret out of reach: a 0700 directory, no request file left once the job's proxy read it, nothing in scontrol or the batch script", async () => {
    const dir = await run('stat', ['-c', '%a %U', `/home/${alice}/.hubapps/slurm`]);
    assert.equal(dir.stdout.trim(), `700 ${alice}`);
    const left = await run('find', [`/home/${alice}/.hubapps/slurm`, '-name', '*.json']);
    assert.equal(left.stdout.trim(), '', 'a request file with the secret was left behind');
    const secret = stack.row(alice, 'webjob')!.secret!;
    const shown = await run('scontrol', ['-o', 'show', 'job', saved('webjob').jobId]);
    assert.ok(!shown.stdout.includes(secret), 'the secret shows in scontrol show job');
    const script = await run('scontrol', ['write', 'batch_script', saved('webjob').jobId, '-']);
    assert.ok(
      script.stdout.length > 0 && !script.stdout.includes(secret),
      'the secret is in the batch script',
    );
  });

  it("carries WebSocket traffic through CHP to an app in a job (the built-in terminal), which sees its job's SLURM_* variables", async () => {
    await start('term', 'termjob');
    await stack.waitState(alice, 'term', ['running'], 60_000);
    const origin = new URL(stack.chp!.proxyUrl).origin;
    const url = `${stack.chp!.proxyUrl.replace(/^http/, 'ws')}/apps/${alice}/term/socket?cols=80&rows=24`;
    const client = await TermClient.open(url, { headers: { ...asAdmin(), origin } });
    try {
      const [, jobId] = await client.run('echo job-$SLURM_JOB_ID-end', /job-(\d+)-end/);
      assert.equal(jobId, saved('term').jobId);
    } finally {
      await client.close();
    }
  });

  it("keeps another user out: bob can neither reach, stop nor scancel alice's job", async () => {
    const row = await stack.waitState(alice, 'webjob', ['running']);
    const res = await stack.viaChp(`/apps/${alice}/webjob/`, {
      authorization: `token ${bobToken}`,
    });
    assert.equal(res.status, 403);
    const { host, nodePort, jobId } = saved('webjob');
    const direct = await fetch(`http://${host}:${nodePort}/apps/${alice}/webjob/`, {
      headers: { authorization: `token ${bobToken}` },
      redirect: 'manual',
    });
    assert.equal(direct.status, 403, 'the proxy on the node checks access itself');
    const stop = await fetch(`${stack.apiUrl}/users/${alice}/servers/webjob`, {
      method: 'DELETE',
      headers: { authorization: `token ${bobToken}` },
    });
    assert.equal(stop.status, 403);
    const cancel = await run('runuser', ['-u', bob, '--', 'scancel', jobId]);
    assert.notEqual(cancel.code, 0);
    assert.match(cancel.stderr, /denied|not permitted/i);
    assert.equal(await jobState(jobId), 'RUNNING');
    assert.equal(stack.row(alice, 'webjob')!.state, row.state);
  });

  it('re-adopts a running job after the service is killed with SIGKILL: same job, route intact, still served', async () => {
    const before = saved('webjob');
    await stack.service!.kill9();
    assert.equal(await jobState(before.jobId), 'RUNNING');
    await stack.startService();
    assert.equal(stack.row(alice, 'webjob')!.state, 'running');
    assert.deepEqual(saved('webjob'), before);
    await waitFor(() => /"adopted":[1-9]/.test(stack.service!.output()), {
      what: 'the service to report the re-adopted servers',
    });
    const res = await stack.viaChp(`/apps/${alice}/webjob/`, asAdmin());
    assert.equal(res.status, 200);
  });

  it('stops a server by ending its job: row stopped, job no longer running, route gone', async () => {
    const { jobId } = saved('webjob');
    const r = await stack.api('DELETE', `/users/${alice}/servers/webjob`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.state, 'stopped', r.body.reason);
    assert.ok(
      ['COMPLETED', 'CANCELLED', null].includes(await jobState(jobId)),
      `job ${jobId} is ${await jobState(jobId)}`,
    );
    assert.equal(
      (await jobsOf(alice)).filter(
        (j) => j.id === jobId && ['RUNNING', 'PENDING'].includes(j.state),
      ).length,
      0,
    );
    assert.equal((await stack.routes())[`/apps/${alice}/webjob`], undefined);
  });

  it("shows a queued job's reason while it waits, and cancels it when the server is stopped", async () => {
    await start('later', 'later');
    await waitFor(() => messages('later').find((m) => /^queued \(BeginTime\)$/.test(m)), {
      timeout: 30_000,
      what: 'the queue reason in the progress',
    });
    assert.equal(stack.row(alice, 'later')!.state, 'starting');
    const { jobId } = saved('later');
    assert.equal(await jobState(jobId), 'PENDING');
    const r = await stack.api('DELETE', `/users/${alice}/servers/later`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.state, 'stopped', r.body.reason);
    assert.equal(await jobState(jobId), 'CANCELLED');
  });

  it("gives up on a job still queued after slurm.pending_timeout: cancelled, and the start failed with the queue's reason", async () => {
    await start('later2', 'later');
    const row = await waitFor(() => ended('later2'), {
      timeout: 45_000,
      interval: 500,
      what: 'the queued start to time out',
    });
    assert.equal(row.state, 'failed');
    assert.match(
      row.reason ?? '',
      /waited in the queue for more than 15 s \(BeginTime\) and was cancelled/,
    );
    assert.equal(await jobState(saved('later2').jobId), 'CANCELLED');
  });

  it('culls an idle server by ending its job', async () => {
    await start('idle', 'idle');
    await stack.waitState(alice, 'idle', ['running'], 60_000);
    const row = await waitFor(() => ended('idle'), {
      timeout: 30_000,
      interval: 500,
      what: 'the idle server to be culled',
    });
    assert.equal(row.state, 'stopped', row.reason ?? '');
    assert.match(row.reason ?? '', /culled: idle/);
    assert.ok(['COMPLETED', 'CANCELLED', null].includes(await jobState(saved('idle').jobId)));
  });

  it('ends a job that outgrows its memory with a reason that says so (enforced with task/cgroup)', async function () {
    if (mode !== 'task/cgroup') {
      process.stderr.write(
        `  skipped: this runner has no cgroup v1 memory controller, so Slurm runs with ${mode} and does not enforce memory\n`,
      );
      return this.skip();
    }
    await start('hog', 'hog');
    await stack.waitState(alice, 'hog', ['running'], 60_000);
    const row = await waitFor(() => ended('hog'), { timeout: 60_000, what: 'the hog to end' });
    assert.equal(row.state, 'failed');
    assert.match(row.reason ?? '', /ran out of memory \(its limit is 200 MB\)/);
    // The row turns failed first (state lives in SQLite), the route goes right after it.
    await waitFor(async () => (await stack.routes())[`/apps/${alice}/hog`] === undefined, {
      timeout: 5000,
      what: "the hog's route to go",
    });
  });

  it('ends a job at its time limit with a reason that says so', async () => {
    const row = await waitFor(() => ended('short'), {
      timeout: 150_000,
      interval: 1000,
      what: 'the one-minute job to reach its limit',
    });
    assert.equal(row.state, 'failed');
    assert.match(row.reason ?? '', /reached its time limit of 1 min/);
  });
});
