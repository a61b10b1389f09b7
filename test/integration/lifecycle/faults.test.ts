import assert from 'node:assert/strict';
import { alive } from '../../../src/procfs/processes.js';
import { startLocalStack, type LocalStack } from '../../helpers/stack.js';
import { waitFor } from '../../helpers/wait.js';

/** The app starts a grandchild in its own session, as daemons and notebook kernels do. */
const APP = `
const spawn = require('child_process').spawn;
spawn('sleep', ['300'], {{ detached: true, stdio: 'ignore' }}).unref();
require('http').createServer((q, s) => s.end('ok')).listen(+process.argv[1], '127.0.0.1');
`;

describe('lifecycle: processes that die under a running server', function () {
  this.timeout(40000);
  let stack: LocalStack;
  before(async () => {
    stack = await startLocalStack({
      apps: { daemonish: { title: 'D', command: [process.execPath, '-e', APP, '{port}'] } },
      config: { reconcile_interval: 0.5 },
    });
  });
  after(async () => stack?.stop());

  const startRunning = async (name: string) => {
    await stack.api('POST', `/users/alice/servers/${name}`, { app: 'daemonish' });
    await waitFor(
      async () => (await stack.api('GET', `/users/alice/servers/${name}`)).body.state === 'running',
      { timeout: 15000, what: `${name} to run` },
    );
    return stack.service.deps.store.get('alice', name)!;
  };
  const settled = (name: string) =>
    waitFor(
      async () => {
        const r = await stack.api('GET', `/users/alice/servers/${name}`);
        return r.body.state === 'failed' || r.body.state === 'stopped' ? r.body : undefined;
      },
      { timeout: 10000, what: `${name} to be marked` },
    );
  /** Processes carrying this server's marks (server id and proxy pid, as the proxy sets them). */
  const sessionOrphans = (serverId: number, proxyPid: number) =>
    import('node:fs').then((fs) =>
      fs
        .readdirSync('/proc')
        .filter((p) => /^\d+$/.test(p))
        .filter((p) => {
          try {
            const env = fs.readFileSync(`/proc/${p}/environ`, 'utf8').split('\0');
            return (
              env.includes(`HUBAPPS_SERVER_ID=${serverId}`) &&
              env.includes(`HUBAPPS_PROXY_PID=${proxyPid}`)
            );
          } catch {
            return false;
          }
        }),
    );

  it('kill -9 of the proxy: the server is marked failed, its route goes, and no app process is left', async () => {
    const row = await startRunning('proxykill');
    assert.ok(
      (await sessionOrphans(row.id, row.proxy_pid!)).length >= 2,
      'the app and its grandchild should carry the server mark',
    );
    process.kill(row.proxy_pid!, 'SIGKILL');
    const marked = await settled('proxykill');
    assert.equal(marked.state, 'failed');
    assert.match(marked.reason, /proxy (is gone|was killed by SIGKILL)/);
    await waitFor(async () => (await sessionOrphans(row.id, row.proxy_pid!)).length === 0, {
      timeout: 8000,
      what: 'the orphaned app processes to be killed',
    });
    assert.ok(!alive(row.app_pid));
    assert.ok(!(await stack.service.deps.routes.list()).has('/apps/alice/proxykill'));
  });

  it('kill -9 of the app: the proxy exits, the server is marked failed, the grandchild is stopped', async () => {
    const row = await startRunning('appkill');
    process.kill(row.app_pid!, 'SIGKILL');
    const marked = await settled('appkill');
    assert.equal(marked.state, 'failed');
    await waitFor(async () => (await sessionOrphans(row.id, row.proxy_pid!)).length === 0, {
      timeout: 8000,
      what: 'the grandchild to be stopped',
    });
    assert.ok(!alive(row.proxy_pid));
  });
});
