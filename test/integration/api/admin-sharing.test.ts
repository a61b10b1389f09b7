import assert from 'node:assert/strict';
import { authorizeStatus, writeAppScript } from '../../helpers/browser-steps.js';
import { startLocalStack, type LocalStack } from '../../helpers/stack.js';
import { waitFor } from '../../helpers/wait.js';

const APP_SOURCE = `require('http').createServer((q, s) => s.end('visitor=' + (q.headers['x-hubapps-user'] || ''))).listen(+process.argv[2], '127.0.0.1');`;

for (const adminAccess of [false, true]) {
  describe(`admins and sharing (admin_access ${adminAccess ? 'on' : 'off'}, per-server origins, real CHPs)`, function () {
    this.timeout(60000);
    let stack: LocalStack;
    let script: ReturnType<typeof writeAppScript> | undefined;
    let host: string;
    let alice: Record<string, string>;
    let adm: Record<string, string>;

    before(async () => {
      script = writeAppScript(APP_SOURCE);
      const { file } = script;
      const lab = {
        title: 'Lab',
        command: [process.execPath, file, '{port}'],
        ready: { timeout: 10 },
      };
      stack = await startLocalStack({
        apps: { lab, terminal: { ...lab, title: 'Terminal' } },
        hostLayout: true,
        config: { admin_access: adminAccess, admin_users: ['adm'], reconcile_interval: 3600 },
      });
      alice = {
        authorization: `token ${(await stack.api('POST', '/users/alice/tokens', {})).body.token}`,
      };
      adm = {
        authorization: `token ${(await stack.api('POST', '/users/adm/tokens', {})).body.token}`,
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

    it("never lets an admin or the admin_token add a share or a share link to another user's server, not even one the admin started", async () => {
      const started = await stack.api(
        'POST',
        '/users/alice/servers/shell',
        { app: 'terminal' },
        adm,
      );
      assert.equal(started.status, 202, JSON.stringify(started.body));
      for (const server of ['lab', 'shell']) {
        for (const [who, as] of [
          ['adm', adm],
          ['admin_token', {}],
        ] as const) {
          const share = await stack.api(
            'POST',
            `/users/alice/servers/${server}/shares`,
            { user: 'adm' },
            as,
          );
          assert.equal(
            share.status,
            403,
            `${who} shared alice/${server}: ${JSON.stringify(share.body)}`,
          );
          assert.match(share.body.message, /only alice may share alice\//);
          const group = await stack.api(
            'POST',
            `/users/alice/servers/${server}/shares`,
            { group: 'root' },
            as,
          );
          assert.equal(group.status, 403, `${who} shared alice/${server} with a group`);
          const link = await stack.api(
            'POST',
            `/users/alice/servers/${server}/share-links`,
            {},
            as,
          );
          assert.equal(
            link.status,
            403,
            `${who} minted a share link for alice/${server}: ${JSON.stringify(link.body)}`,
          );
        }
      }
      assert.deepEqual((await stack.api('GET', '/shares')).body.shares, []);
      for (const server of ['lab', 'shell'])
        assert.deepEqual(
          (await stack.api('GET', `/users/alice/servers/${server}/share-links`)).body.links,
          [],
        );
      assert.equal(await authorizeStatus(stack, host, 'adm'), adminAccess ? 302 : 403);
    });

    if (!adminAccess) {
      it("gives an admin no other way into alice's server: login links, tokens, the authorize page, the admin's token at the proxy", async () => {
        assert.equal((await stack.api('POST', '/users/alice/login-links', {}, adm)).status, 403);
        assert.equal((await stack.api('POST', '/users/alice/tokens', {}, adm)).status, 403);
        assert.equal((await stack.api('GET', '/users/alice/tokens', undefined, adm)).status, 403);
        assert.equal(await authorizeStatus(stack, host, 'adm'), 403);
        const withToken = await stack.viaApps(host, '/', { headers: adm });
        assert.equal(withToken.status, 403, withToken.body);
        assert.equal(
          (await stack.viaApps(host, '/', { headers: alice })).body,
          'visitor=',
          'alice herself gets in with her token',
        );
      });
    }

    it("lets the owner share, and an admin list and revoke alice's shares and share links", async () => {
      const share = await stack.api(
        'POST',
        '/users/alice/servers/lab/shares',
        { user: 'bob' },
        alice,
      );
      assert.equal(share.status, 201);
      const link = await stack.api('POST', '/users/alice/servers/lab/share-links', {}, alice);
      assert.equal(link.status, 201);
      const listed = await stack.api('GET', '/users/alice/servers/lab/shares', undefined, adm);
      assert.deepEqual(
        listed.body.shares.map((s: { user: string }) => s.user),
        ['bob'],
      );
      assert.equal(
        (await stack.api('GET', '/users/alice/servers/lab/share-links', undefined, adm)).body.links
          .length,
        1,
      );
      assert.equal(
        (
          await stack.api(
            'DELETE',
            `/users/alice/servers/lab/shares/${share.body.id}`,
            undefined,
            adm,
          )
        ).status,
        204,
      );
      assert.equal(
        (
          await stack.api(
            'DELETE',
            `/users/alice/servers/lab/share-links/${link.body.id}`,
            undefined,
            adm,
          )
        ).status,
        204,
      );
      assert.deepEqual((await stack.api('GET', '/shares')).body.shares, []);
    });
  });
}
