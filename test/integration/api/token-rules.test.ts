import assert from 'node:assert/strict';
import { startLocalStack, type LocalStack } from '../../helpers/stack.js';

/** The audit trail as admins read it: newest first. */
async function audit(stack: LocalStack): Promise<Array<{ message: string; actor: string }>> {
  const r = await stack.api('GET', '/events?kind=audit&limit=50');
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body.events;
}

for (const adminAccess of [false, true]) {
  describe(`API tokens and login links belong to their user (admin_access ${adminAccess ? 'on' : 'off'})`, function () {
    this.timeout(30000);
    let stack: LocalStack;
    let carol = ''; // an admin user
    let alice = ''; // a plain user
    const as = (token: string) => ({ authorization: `token ${token}` });
    before(async () => {
      stack = await startLocalStack({
        apps: {},
        config: {
          admin_access: adminAccess,
          admin_users: ['carol'],
          limits: { tokens_per_user: 3 },
        },
      });
      carol = (await stack.api('POST', '/users/carol/tokens', {})).body.token;
      alice = (await stack.api('POST', '/users/alice/tokens', {})).body.token;
    });
    after(async () => stack?.stop());

    it('lets a user create, list and delete their own tokens', async () => {
      const made = await stack.api('POST', '/users/alice/tokens', { note: 'mine' }, as(alice));
      assert.equal(made.status, 201);
      assert.equal(
        (await stack.api('GET', '/users/alice/tokens', undefined, as(alice))).status,
        200,
      );
      assert.equal(
        (await stack.api('DELETE', `/users/alice/tokens/${made.body.id}`, undefined, as(alice)))
          .status,
        204,
      );
    });

    it("refuses another plain user's attempt with 403 and a message naming the owner", async () => {
      const r = await stack.api('POST', '/users/carol/tokens', {}, as(alice));
      assert.equal(r.status, 403);
      assert.match(r.body.message, /only carol may/);
    });

    it(
      adminAccess
        ? "lets an admin user act on another user's tokens and login links, each act in the audit trail"
        : "refuses an admin user another user's tokens and login links, with a message naming admin_access",
      async () => {
        const created = await stack.api('POST', '/users/alice/tokens', {}, as(carol));
        const listed = await stack.api('GET', '/users/alice/tokens', undefined, as(carol));
        const link = await stack.api('POST', '/users/alice/login-links', {}, as(carol));
        if (!adminAccess) {
          for (const r of [created, listed, link]) {
            assert.equal(r.status, 403, JSON.stringify(r.body));
            assert.match(r.body.message, /only when admin_access is on/);
          }
          return;
        }
        assert.equal(created.status, 201);
        assert.equal(listed.status, 200);
        assert.equal(link.status, 201);
        const deleted = await stack.api(
          'DELETE',
          `/users/alice/tokens/${created.body.id}`,
          undefined,
          as(carol),
        );
        assert.equal(deleted.status, 204);
        const trail = (await audit(stack)).filter((e) => e.actor === 'carol').map((e) => e.message);
        assert.ok(
          trail.some((m) => /API token ha_\S+… created for alice/.test(m)),
          trail.join('\n'),
        );
        assert.ok(trail.includes('API tokens listed (for alice, by carol)'), trail.join('\n'));
        assert.ok(trail.includes('login link minted for alice'), trail.join('\n'));
        assert.ok(
          trail.includes(`API token ${created.body.id} deleted (for alice, by carol)`),
          trail.join('\n'),
        );
      },
    );

    it("lets the operator's admin_token mint for anyone, on the record", async () => {
      assert.equal((await stack.api('POST', '/users/dave/login-links', {})).status, 201);
      assert.ok(
        (await audit(stack)).some(
          (e) => e.actor === 'admin' && e.message === 'login link minted for dave',
        ),
      );
    });

    it('refuses a token beyond limits.tokens_per_user with 429, and makes room when one is deleted', async () => {
      const mine = await stack.api('GET', '/users/erin/tokens');
      assert.equal(mine.body.tokens.length, 0);
      const ids: number[] = [];
      for (let i = 0; i < 3; i++)
        ids.push((await stack.api('POST', '/users/erin/tokens', {})).body.id);
      const over = await stack.api('POST', '/users/erin/tokens', {});
      assert.equal(over.status, 429);
      assert.match(over.body.message, /erin already has 3 API tokens \(limits\.tokens_per_user\)/);
      assert.equal(
        (await stack.api('GET', '/users/erin/tokens')).body.tokens.length,
        3,
        'a refused token was stored',
      );
      assert.equal((await stack.api('DELETE', `/users/erin/tokens/${ids[0]}`)).status, 204);
      assert.equal((await stack.api('POST', '/users/erin/tokens', {})).status, 201);
    });
  });
}
