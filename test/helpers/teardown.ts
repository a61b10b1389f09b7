/**
 * Run every clean-up step in order, even when an earlier one fails, then throw the first
 * problem: a stack that half came up must still be taken down whole.
 */
export async function runAllSteps(steps: Array<() => Promise<unknown> | undefined>): Promise<void> {
  const problems: unknown[] = [];
  for (const step of steps) {
    try {
      await step();
    } catch (err) {
      problems.push(err);
    }
  }
  if (problems.length > 0) throw problems[0];
}
