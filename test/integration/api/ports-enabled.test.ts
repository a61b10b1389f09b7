import assert from 'node:assert/strict';
import { startLocalStack, type LocalStack } from '../../helpers/stack.js';
import { waitFor } from '../../helpers/wait.js';

const APP =
  "require('http').createServer((q, s) => s.end('ok')).listen(+process.argv[1], '127.0.0.1')";
const app = (extra: object = {}) => ({
  title: 'App',
  command: [process.execPath, '-e', APP, '{port}'],
  ready: { timeout: 10 },
  ...extra,
});

/** The launcher lists ports under a server only when the server forwards any: the API says which. */
describe("the ports API tells whether a server forwards users' own ports at all (local launcher, real CHP and SQLite)", function () {
  this.timeout(60000);
  const stacks: LocalStack[] = [];
  async function running(stack: LocalStack, name: string, appName: string): Promise<void> {
    assert.equal(
      (await stack.api('POST', `/users/alice/servers/${name}`, { app: appName })).status,
      202,
    );
    await waitFor(
      async () => (await stack.api('GET', `/users/alice/servers/${name}`)).body.state === 'running',
      { timeout: 15000, what: `alice/${name} to run` },
    );
  }
  after(async () => Promise.all(stacks.map((s) => s.stop())));

  it('answers enabled: true by default, and false for an app whose file says ports: false', async () => {
    const stack = await startLocalStack({ apps: { lab: app(), plain: app({ ports: false }) } });
    stacks.push(stack);
    await running(stack, 'lab', 'lab');
    await running(stack, 'plain', 'plain');
    assert.deepEqual((await stack.api('GET', '/users/alice/servers/lab/ports')).body, {
      enabled: true,
      ports: [],
    });
    assert.deepEqual((await stack.api('GET', '/users/alice/servers/plain/ports')).body, {
      enabled: false,
      ports: [],
    });
  });

  it('answers enabled: false for every server when user_ports.enabled is false', async () => {
    const stack = await startLocalStack({
      apps: { lab: app() },
      config: { user_ports: { enabled: false } },
    });
    stacks.push(stack);
    await running(stack, 'lab', 'lab');
    assert.deepEqual((await stack.api('GET', '/users/alice/servers/lab/ports')).body, {
      enabled: false,
      ports: [],
    });
  });
});
