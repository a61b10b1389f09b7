import type { Logger } from 'pino';

/**
 * Awaits a clean-up step on a path that must go on whether or not it works (a failed start
 * being undone, a gone server's route): its failure is logged as one line and not thrown.
 * What it leaves behind is found again by the next reconcile pass.
 */
export async function bestEffort(
  log: Logger,
  what: string,
  fields: Record<string, unknown>,
  step: Promise<unknown>,
): Promise<void> {
  try {
    await step;
  } catch (err) {
    log.warn(
      { ...fields, err: (err as Error).message },
      `${what} failed; reconcile deals with what is left`,
    );
  }
}
