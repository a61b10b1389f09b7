/**
 * The mocha hooks of a suite on the spawner stack: the hub stack's (prerequisites, set-up,
 * logs of a failing test, tear-down) with the spawner module installed for the hub, then
 * alice and bob logged in to the hub in Chromium, each with a hub token of their own.
 */
import { existsSync } from 'node:fs';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { requirePrerequisite } from '../helpers/index.js';
import { waitFor } from '../helpers/wait.js';
import { TEST_USERS } from '../system/harness.js';
import { useHubStack } from './hub-suite.js';
import { hubTokenFromPage, loginToHub } from './hub-spawner-steps.js';
import { SPAWNER_MODULE, type SpawnerStack } from './spawner-stack.js';

export interface HubUser {
  context: BrowserContext;
  page: Page;
  /** A hub token with the user's own scopes, as a script of theirs holds it. */
  token: string;
}

/** Filled in once the suite's `before` hooks have run. */
export interface SpawnerSuite {
  browser: Browser;
  alice: HubUser;
  bob: HubUser;
}

export function useSpawnerSuite(s: SpawnerStack): SpawnerSuite {
  const suite = {} as SpawnerSuite;
  const stack = s.hub;
  const login = async (user: string): Promise<HubUser> => {
    const { context, page } = await loginToHub(
      suite.browser,
      stack.publicUrl,
      stack.password,
      user,
    );
    return { context, page, token: await hubTokenFromPage(page, stack.publicUrl, user) };
  };
  useHubStack(stack, {
    setUpMs: 180_000,
    prerequisites: (ctx) =>
      requirePrerequisite(
        ctx,
        existsSync(SPAWNER_MODULE),
        `needs the spawner module (${SPAWNER_MODULE}): npm run build`,
      ),
    beforeSetUp: () => s.installModule(),
    afterTearDown: () => s.removeModule(),
    ready: async (browser) => {
      suite.browser = browser;
      suite.alice = await login(TEST_USERS.alice);
      suite.bob = await login(TEST_USERS.bob);
    },
  });
  return suite;
}

/** Until the hub's API shows the server ready. */
export async function waitReady(s: SpawnerStack, user: string, server: string): Promise<void> {
  await waitFor(async () => (await s.hubServer(user, server))?.ready === true, {
    timeout: 60_000,
    interval: 250,
    what: `the hub to report ${user}/${server} ready`,
  });
}
