/**
 * Missing prerequisites (root, chromium, jupyterhub, ...): on a developer's machine the
 * test is skipped with a one-line reason; in CI (CI=true) it fails, so a broken CI image
 * can never pass by skipping everything.
 */

export function isRoot(): boolean {
  return process.getuid?.() === 0;
}

export function inCi(): boolean {
  return process.env.CI === 'true';
}

/** Skip (or in CI fail) unless `ok`. Call it from `before`, `beforeEach` or a test with mocha's `this`. */
export function requirePrerequisite(ctx: Mocha.Context, ok: boolean, reason: string): void {
  if (ok) return;
  if (inCi())
    throw new Error(
      `prerequisite missing: ${reason} (CI=true: a missing prerequisite fails instead of skipping)`,
    );
  const where =
    ctx.currentTest?.fullTitle() ?? ctx.test?.parent?.fullTitle() ?? ctx.test?.fullTitle() ?? '';
  process.stderr.write(`  skipped${where ? ` "${where}"` : ''}: ${reason}\n`);
  ctx.skip();
}

export function requireRootOrSkip(
  ctx: Mocha.Context,
  why = 'needs root (real sudo and test Unix accounts)',
): void {
  requirePrerequisite(ctx, isRoot(), why);
}
