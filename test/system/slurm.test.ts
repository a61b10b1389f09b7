import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { requireRootOrSkip } from '../helpers/index.js';
import { waitFor } from '../helpers/wait.js';
import { TermClient } from '../helpers/terminal-client.js';
import { TEST_USERS, run } from './harness.js';
import { cancelTestJobs, ensureCluster, jobsOf, jobState, requireSlurm } from './slurm-cluster.js';
import { SystemStack } from './system-stack.js';

const { alice, bob } = TEST_USERS;
const WEB = ['/usr/bin/python3', '-m', 'http.server', '{port}', '--bind', '127.0.0.1'];
/** Serves, and a few seconds after it is ready asks for 600 MB: over its 200 MB job limit. */
const HOG = 'import http.server,threading,time,sys\n'
  + 's=http.server.HTTPServer(("127.0.0.1",int(sys.argv[1])),http.server.SimpleHTTPRequestHandler)\n'
  + 'threading.Thread(target=s.serve_forever,daemon=True).start()\n'
  + 'time.sleep(4)\nb=bytearray(600*1024*1024)\nfor i in range(0,len(b),4096): b[i]=1\ntime.sleep(600)\n';
const job = (extra: object = {}) => ({ mem_mb: 200, cpus: 1, time_minutes: 10, ...extra });

const APPS = {
  webjob: { title: 'Web job', command: WEB, ready: { timeout: 30 }, slurm: job({ choices: { hours: { max: 4 }, cpus: { max: 2 }, mem_mb: { max: 1024 } } }) },
  termjob: { title: 'Terminal job', builtin: 'terminal', slurm: job() },
  hog: { title: 'Memory hog', command: ['/usr/bin/python3', '-c', HOG, '{port}'], ready: { timeout: 30 }, slurm: job() },
  short: { title: 'One minute', command: WEB, ready: { timeout: 30 }, slurm: job({ time_minutes: 1 }) },
  later: { title: 'Starts in an hour', command: WEB, slurm: job({ extra_args: ['--begin=now+3600'] }) },
};

describe('system: apps as Slurm jobs (real sudo, real Slurm, real CHP)', function () {
  this.timeout(240_000);
  const stack = new SystemStack({ apps: APPS, config: { slurm: { apps: Object.keys(APPS), pending_timeout: 600 } } });
  let mode = '';
  let bobToken = '';

  before(async function () {
    requireRootOrSkip(this);
    requireSlurm(this);
    mode = await ensureCluster();
    process.stderr.write(`  slurm enforcement mode: ${mode}\n`);
    await stack.setUp();
    bobToken = (await stack.api('POST', `/users/${bob}/tokens`, { note: 'slurm test' })).body.token as string;
  });
  afterEach(function () {
    if (this.currentTest?.state === 'failed') {
      stack.reportFailure(this.currentTest.fullTitle());
      for (const f of ['webjob', 'hog', 'short', 'later', 'term']) {
        try {
          process.stderr.write(`--- log ${f}:\n${readFileSync(join(stack.stateDir, 'logs', `${alice}--${f}.log`), 'utf8').slice(-3000)}\n`);
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

  const events = async (name: string): Promise<string[]> => {
    const r = await stack.api('GET', `/users/${alice}/servers/${name}/progress?format=json`);
    return JSON.stringify(r.body).match(/"message":"[^"]*"/g) ?? [];
  };
  const asAdmin = () => ({ authorization: `token ${stack.adminToken}` });

  it('starts an app as a Slurm job of its user, routes CHP to the node, and serves it through CHP', async () => {
    const r = await stack.api('POST', `/users/${alice}/servers/webjob`, { app: 'webjob', options: { hours: 2, cpus: 2, mem_mb: 300 } });
    assert.equal(r.status, 202, JSON.stringify(r.body));
    await stack.waitState(alice, 'webjob', ['running'], 60_000);
    const jobs = (await jobsOf(alice)).filter((j) => j.name === 'hubapps-webjob');
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
  });
});
