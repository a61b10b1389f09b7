import assert from 'node:assert/strict';
import type { Context } from 'koa';
import { spawnerOnly } from '../../../src/api/guards.js';
import type { ApiDeps } from '../../../src/api/deps.js';
import { HubappsError } from '../../../src/errors.js';

/** The guard's deps: an authenticator that records being asked, and the spawner_token setting. */
function deps(spawnerToken: string | undefined) {
  const asked: unknown[] = [];
  const d = {
    auth: {
      require: async (_ctx: Context, opts: unknown) => {
        asked.push(opts);
        return { name: 'jupyterhub', admin: false, via: 'hub_spawner' as const };
      },
    },
    config: { jupyterhub: { spawner_token: spawnerToken } },
  } as unknown as Pick<ApiDeps, 'auth' | 'config'>;
  return { d, asked };
}

describe('the spawner API guard', () => {
  it('without jupyterhub.spawner_token: 404 spawner_off, asking no credential', async () => {
    const { d, asked } = deps(undefined);
    const ctx = { state: {} } as Context;
    let ran = false;
    await assert.rejects(
      spawnerOnly(d)(ctx, async () => void (ran = true)),
      (err: unknown) =>
        err instanceof HubappsError && err.code === 'spawner_off' && err.status === 404,
    );
    assert.equal(ran, false);
    assert.deepEqual(asked, []);
  });

  it('with it: asks for the spawner and nothing else, and lets the handler see who', async () => {
    const { d, asked } = deps('t');
    const ctx = { state: {} } as Context;
    await spawnerOnly(d)(ctx, async () => undefined);
    assert.deepEqual(asked, [{ spawner: true }]);
    assert.equal(ctx.state.who?.via, 'hub_spawner');
  });
});
