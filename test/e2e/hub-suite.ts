/**
 * The mocha hooks every e2e suite on the hub stack has, in one place: prerequisites
 * checked (a skip, or a failure under CI=true), the stack and one Chromium up before the
 * tests, a failing test's logs reported after it, and everything torn down at the end.
 */
import type { Browser } from 'playwright-core';
import { launchChromium } from './browser.js';
import { requireHubStackPrerequisites, type HubStack } from './stack.js';

export interface HubSuiteOptions {
  /** How long setting up may take (JupyterHub, CHP, the installed service, Chromium, and `ready`). */
  setUpMs: number;
  /** The suite's own prerequisites, checked before anything starts. */
  prerequisites?: (ctx: Mocha.Context) => void;
  /** The suite's own set-up before the stack comes up (e.g. files the hub's config names). */
  beforeSetUp?: () => Promise<void>;
  /** The suite's own tear-down after the stack is down. */
  afterTearDown?: () => Promise<void>;
  /** The suite's own set-up, once the stack and Chromium are up. */
  ready?: (browser: Browser) => Promise<void>;
}

export function useHubStack(stack: HubStack, opts: HubSuiteOptions): void {
  let browser: Browser | undefined;
  before(async function () {
    this.timeout(opts.setUpMs);
    requireHubStackPrerequisites(this);
    opts.prerequisites?.(this);
    await opts.beforeSetUp?.();
    await stack.setUp();
    browser = await launchChromium();
    await opts.ready?.(browser);
  });
  afterEach(function () {
    stack.reportFailure(this);
  });
  after(async function () {
    this.timeout(60_000);
    await browser?.close();
    try {
      await stack.tearDown();
    } finally {
      await opts.afterTearDown?.();
    }
  });
}
