import assert from 'node:assert/strict';
import fs from 'node:fs';
import { createServer, type Server } from 'node:http';
import { RateLimit } from '../../../src/limits/rate.js';
import { StreamSlots } from '../../../src/limits/streams.js';
import { HubappsError } from '../../../src/errors.js';
import { startLocalStack, type LocalStack } from '../../helpers/stack.js';
import { waitFor } from '../../helpers/wait.js';

const node = process.execPath;
const is429 = (pattern: RegExp) => (err: unknown) =>
  err instanceof HubappsError && err.status === 429 && pattern.test(err.message);

describe('limits one user cannot exceed', function () {
  this.timeout(60000);

  describe('the shared rate limit', () => {
    it('lets perMinute through at once, refuses the next with 429 naming the key, and refills with time', () => {
      let now = 0;
      const limit = new RateLimit(4, 'logins', 'limits.logins_per_minute', () => now);
      for (let i = 0; i < 4; i++) limit.take();
      assert.throws(
        () => limit.take(),
        is429(/too many logins right now \(limits\.logins_per_minute: 4 a minute\)/),
      );
      now += 15_000; // a quarter of a minute: one more
      limit.take();
      assert.throws(() => limit.take(), is429(/logins/));
    });
  });

  describe('stream slots', () => {
    it('counts per user, refuses past the cap, and gives a slot back once only', () => {
      const slots = new StreamSlots(2);
      const a1 = slots.take('alice');
      slots.take('alice');
      assert.throws(
        () => slots.take('alice'),
        is429(/alice already has 2 progress streams open \(limits\.streams_per_user\)/),
      );
      slots.take('bob');
      a1();
      a1();
      assert.equal(slots.held('alice'), 1);
      slots.take('alice');
      assert.throws(() => slots.take('alice'), is429(/streams_per_user/));
    });
  });

  describe('through the API', () => {
    let stack: LocalStack;
    let hub: Server;
    let hubAsked = 0;
    const budget = 64 * 1024;
    before(async () => {
      // Just enough of JupyterHub for /login to send a browser there: its API root answers.
      hub = createServer((req, res) => {
        hubAsked++;
        res
          .writeHead(req.url === '/hub/api/' ? 200 : 404, { 'content-type': 'application/json' })
          .end('{}');
      });
      await new Promise<void>((resolve) => hub.listen(0, '127.0.0.1', resolve));
      const hubUrl = `http://127.0.0.1:${(hub.address() as { port: number }).port}`;
      process.env[`HUBAPPS_T_LIMITS_${process.pid}`] = 'client-secret-for-limits';
      stack = await startLocalStack({
        apps: {
          // Never ready: its start stays open, so its progress stream does too.
          slow: {
            title: 'Slow',
            command: [node, '-e', 'setInterval(Date.now, 1000)'],
            ready: { timeout: 60 },
          },
          // Floods its output as fast as it can, and serves HTTP.
          flood: {
            title: 'Flood',
            command: [
              '/bin/sh',
              '-c',
              `yes hubapps-t-flood-line & exec ${node} -e "require('http').createServer((q, s) => s.end('ok')).listen(+process.argv[1], '127.0.0.1')" {port}`,
            ],
            ready: { timeout: 20 },
          },
        },
        config: {
          limits: { streams_per_user: 2, logins_per_minute: 3, logins_per_minute_total: 8 },
          log_max_bytes: budget,
          // No reconcile pass cuts the log during the test: the budget alone must hold.
          reconcile_interval: 3600,
          jupyterhub: {
            api_url: `${hubUrl}/hub/api`,
            api_token: `env:HUBAPPS_T_LIMITS_${process.pid}`,
          },
        },
      });
    });
    after(async () => {
      await stack?.stop();
      await new Promise<void>((resolve) => hub?.close(() => resolve()));
    });

    it('refuses a third open progress stream of one user with 429, and takes one again once a stream closes', async () => {
      const started = await stack.api('POST', '/users/alice/servers/s', { app: 'slow' });
      assert.equal(started.status, 202, JSON.stringify(started.body));
      const url = `${stack.service.urls.serviceOrigin}/services/hubapps/api/users/alice/servers/s/progress`;
      const open = () => {
        const abort = new AbortController();
        return {
          abort,
          res: fetch(url, {
            headers: { authorization: `token ${stack.token}` },
            signal: abort.signal,
          }),
        };
      };
      // admin_token streams count for the caller, 'admin'.
      const a = open();
      const b = open();
      assert.equal((await a.res).status, 200);
      assert.equal((await b.res).status, 200);
      const third = await open().res;
      assert.equal(third.status, 429);
      assert.match(
        ((await third.json()) as { message: string }).message,
        /admin already has 2 progress streams open/,
      );
      a.abort.abort();
      await waitFor(
        async () => {
          const again = open();
          const r = await again.res;
          again.abort.abort();
          return r.status === 200 ? true : undefined;
        },
        { timeout: 10000, what: 'a slot to come back after a stream closed' },
      );
      b.abort.abort();
      await stack.api('DELETE', '/users/alice/servers/s');
    });

    it('rate-limits unauthenticated /login per client: past logins_per_minute it answers 429 without asking the hub or writing a state', async () => {
      const login = () =>
        fetch(`${stack.service.urls.serviceOrigin}/services/hubapps/login`, { redirect: 'manual' });
      const answers: number[] = [];
      for (let i = 0; i < 3; i++) answers.push((await login()).status);
      assert.deepEqual(answers, [302, 302, 302]);
      const asked = hubAsked;
      const over = await login();
      assert.equal(over.status, 429);
      assert.match(
        ((await over.json()) as { message: string }).message,
        /limits\.logins_per_minute\b/,
      );
      assert.equal(hubAsked, asked, 'the hub was asked for a refused login');
    });

    it("keeps logging in other clients (the address CHP forwards) while one client's flood is refused, up to the total for all", async () => {
      const from = (client: string) =>
        fetch(`${stack.service.urls.serviceOrigin}/services/hubapps/login`, {
          redirect: 'manual',
          headers: { 'x-forwarded-for': client },
        });
      for (let i = 0; i < 3; i++) assert.equal((await from('203.0.113.66')).status, 302);
      assert.equal((await from('203.0.113.66')).status, 429);
      assert.equal(
        (await from('198.51.100.1, 203.0.113.66')).status,
        429,
        'a forged first hop made a fresh client',
      );
      assert.equal((await from('192.0.2.10')).status, 302, "another client's login was refused");
      for (let i = 11; i < 14; i++) await from(`192.0.2.${i}`);
      const total = await from('192.0.2.20');
      assert.equal(total.status, 429);
      assert.match(
        ((await total.json()) as { message: string }).message,
        /limits\.logins_per_minute_total/,
      );
    });

    it('keeps an app that floods its output within the log budget, with a line saying output was dropped', async () => {
      assert.equal(
        (await stack.api('POST', '/users/alice/servers/flood', { app: 'flood' })).status,
        202,
      );
      const row = stack.service.deps.store.get('alice', 'flood')!;
      const log = row.log_file!;
      await waitFor(
        () =>
          fs.existsSync(log) && fs.readFileSync(log, 'utf8').includes('reached its budget')
            ? true
            : undefined,
        { timeout: 20000, what: 'the budget line' },
      );
      const sizes: number[] = [];
      for (let i = 0; i < 4; i++) {
        await new Promise((r) => setTimeout(r, 250));
        sizes.push(fs.statSync(log).size);
      }
      // The budget, plus the one line that says output is being dropped.
      for (const size of sizes)
        assert.ok(size <= budget + 512, `log grew to ${size} bytes past a budget of ${budget}`);
      await stack.api('DELETE', '/users/alice/servers/flood');
    });
  });
});
