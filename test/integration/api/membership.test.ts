import assert from 'node:assert/strict';
import { HubappsError } from '../../../src/errors.js';
import type { Account, UserChecker } from '../../../src/users/account.js';
import { appAllowed } from '../../../src/users/policy.js';
import { httpFetch } from '../../helpers/http-fetch.js';
import {
  authorizeStatus,
  launcherSession,
  NAV,
  writeAppScript,
} from '../../helpers/browser-steps.js';
import { startLocalStack, type LocalStack } from '../../helpers/stack.js';
import { waitFor } from '../../helpers/wait.js';

const APP_SOURCE = `require('http').createServer((q, s) => s.end('visitor=' + (q.headers['x-hubapps-user'] || ''))).listen(+process.argv[2], '127.0.0.1');`;
const LAB_GROUP = 'hubapps-t-lab';

/**
 * Local mode puts every name in one group and opens every app to it; these tests need
 * users that differ, so the policy's look-up is replaced by a table (names not in it are
 * outside the allowed group) and the production rule for allowed_groups is used.
 */
function fakeMembership(stack: LocalStack, groups: Record<string, string[]>): void {
  const users = stack.service.deps.users as UserChecker;
  const lookup = users.check.bind(users);
  users.check = async (name: string): Promise<Account> => {
    const account = await lookup(name);
    if (!groups[name])
      throw new HubappsError('user_not_in_group', `user ${name} is not a member of group local`);
    return { ...account, groups: groups[name]! };
  };
  users.appAllowed = appAllowed;
}

describe('membership and app groups are checked on every way in (per-server origins, real CHPs)', function () {
  this.timeout(60000);
  let stack: LocalStack;
  let script: ReturnType<typeof writeAppScript> | undefined;
  let host: string;
  let alice: Record<string, string>;
  const members: Record<string, string[]> = {};

  before(async () => {
    script = writeAppScript(APP_SOURCE);
    const { file } = script;
    const lab = {
      title: 'Lab',
      command: [process.execPath, file, '{port}'],
      ready: { timeout: 10 },
      allowed_groups: [LAB_GROUP],
    };
    const hideout = {
      title: 'Hideout',
      command: [process.execPath, file, '{port}'],
      ready: { timeout: 10 },
      hidden: true,
    };
    stack = await startLocalStack({
      apps: { lab: { ...lab, category: 'Research' }, hideout },
      hostLayout: true,
      config: { reconcile_interval: 3600 },
    });
    Object.assign(members, {
      alice: ['local', LAB_GROUP],
      bob: ['local', 'root', LAB_GROUP],
      carol: ['local', 'root'],
      dave: ['local', LAB_GROUP],
    });
    fakeMembership(stack, members);
    alice = {
      authorization: `token ${(await stack.api('POST', '/users/alice/tokens', {})).body.token}`,
    };
    assert.equal(
      (await stack.api('POST', '/users/alice/servers/lab', { app: 'lab' }, alice)).status,
      202,
    );
    await waitFor(
      async () => (await stack.api('GET', '/users/alice/servers/lab')).body.state === 'running',
      { timeout: 15000, what: 'alice/lab to run' },
    );
    host = `lab--alice.apps.localhost:${stack.appsChp!.port}`;
  });
  after(async () => {
    await stack?.stop();
    script?.remove();
  });

  it('lists to each user only the apps allowed_groups lets them use, hidden ones flagged (still startable), and every app to an admin', async () => {
    const carol = {
      authorization: `token ${(await stack.api('POST', '/users/carol/tokens', {})).body.token}`,
    };
    const listed = async (headers?: Record<string, string>) =>
      (await stack.api('GET', '/apps', undefined, headers)).body.apps.map(
        (a: { name: string; hidden: boolean; category: string | null; usable: boolean }) => [
          a.name,
          a.hidden,
          a.category,
          a.usable,
        ],
      );
    assert.deepEqual(await listed(carol), [['hideout', true, null, true]]);
    assert.deepEqual(await listed(alice), [
      ['hideout', true, null, true],
      ['lab', false, 'Research', true],
    ]);
    assert.deepEqual(await listed(), [
      ['hideout', true, null, false],
      ['lab', false, 'Research', false],
    ]);
    const started = await stack.api('POST', '/users/carol/servers/hid', { app: 'hideout' }, carol);
    assert.equal(started.status, 202, JSON.stringify(started.body));
    const refused = await stack.api('POST', '/users/carol/servers/lab', { app: 'lab' }, carol);
    assert.deepEqual([refused.status, refused.body.code], [403, 'app_not_allowed']);
    await waitFor(
      async () => (await stack.api('GET', '/users/carol/servers/hid')).body.state === 'running',
      { timeout: 15000, what: 'carol/hid to run' },
    );
    await stack.api('DELETE', '/users/carol/servers/hid');
  });

  it("refuses the API tokens of a user removed from the allowed group, at the API and at a running server's proxy", async () => {
    const used = {
      authorization: `token ${(await stack.api('POST', '/users/dave/tokens', {})).body.token}`,
    };
    const fresh = {
      authorization: `token ${(await stack.api('POST', '/users/dave/tokens', {})).body.token}`,
    };
    assert.equal((await stack.api('GET', '/users/dave', undefined, used)).status, 200);
    const daveLab = await stack.api('POST', '/users/dave/servers/lab', { app: 'lab' }, used);
    assert.equal(daveLab.status, 202);
    await waitFor(
      async () => (await stack.api('GET', '/users/dave/servers/lab')).body.state === 'running',
      { timeout: 15000, what: 'dave/lab to run' },
    );
    const daveHost = `lab--dave.apps.localhost:${stack.appsChp!.port}`;
    assert.equal((await stack.viaApps(daveHost, '/', { headers: used })).body, 'visitor=');

    delete members.dave;
    const api = await stack.api('GET', '/users/dave', undefined, used);
    assert.equal(api.status, 403, JSON.stringify(api.body));
    assert.match(
      api.body.message,
      /dave may not use hubapps: user dave is not a member of group local/,
    );
    assert.equal((await stack.api('POST', '/users/dave/tokens', {}, fresh)).status, 403);
    const atProxy = await stack.viaApps(daveHost, '/', { headers: fresh });
    assert.equal(atProxy.status, 403, atProxy.body);
    members.dave = ['local', LAB_GROUP];
    assert.equal(
      (await stack.viaApps(daveHost, '/', { headers: fresh })).status,
      200,
      'a member again gets in',
    );
  });

  it("keeps a visitor outside the app's allowed_groups out of a group share and a share link, and lets a visitor inside in", async () => {
    assert.equal(
      (await stack.api('POST', '/users/alice/servers/lab/shares', { group: 'root' }, alice)).status,
      201,
    );
    const direct = await stack.api(
      'POST',
      '/users/alice/servers/lab/shares',
      { user: 'carol' },
      alice,
    );
    assert.equal(direct.status, 400);
    assert.match(
      direct.body.message,
      /cannot share with carol: app 'lab' is limited to other groups/,
    );

    assert.equal(await authorizeStatus(stack, host, 'carol'), 403);
    assert.equal(await authorizeStatus(stack, host, 'bob'), 302);
    assert.deepEqual((await stack.api('GET', '/users/carol/shared-with-me')).body.shares, []);
    assert.equal((await stack.api('GET', '/users/bob/shared-with-me')).body.shares.length, 1);

    const link = await stack.api(
      'POST',
      '/users/alice/servers/lab/share-links',
      { uses: 5 },
      alice,
    );
    assert.equal(link.status, 201);
    const code = new URL(link.body.url).searchParams.get('code')!;
    const linkUrl = new URL(link.body.url);
    const origin = stack.service.urls.publicOrigin;
    const redeem = async (user: string) =>
      httpFetch(`${stack.service.urls.serviceOrigin}${linkUrl.pathname}`, {
        method: 'POST',
        headers: {
          ...NAV,
          origin,
          referer: `${origin}${linkUrl.pathname}${linkUrl.search}`,
          'sec-fetch-site': 'same-origin',
          'content-type': 'application/x-www-form-urlencoded',
          cookie: await launcherSession(stack, user),
        },
        body: new URLSearchParams({ code }).toString(),
      });
    const refused = await redeem('carol');
    assert.equal(refused.status, 403);
    const text = await refused.text();
    assert.match(text, /limited to other groups/, text);
    assert.equal(
      (await stack.api('GET', '/shares')).body.shares.some(
        (s: { user?: string }) => s.user === 'carol',
      ),
      false,
      'carol got a share',
    );
    assert.equal((await redeem('dave')).status, 302);
  });
});
