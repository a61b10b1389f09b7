'use strict';
// Mocha reporter for .ci/run: mocha's spec output, then one plain line that CI logs can be
// searched for: "N passed, N failed" plus ", N skipped" when tests were skipped.
// CommonJS because mocha loads reporters with require().

const { reporters, Runner } = require('mocha');

class SummaryReporter extends reporters.Spec {
  constructor(runner, options) {
    super(runner, options);
    // Registered after Spec's own handler, so the line comes after the spec epilogue.
    runner.once(Runner.constants.EVENT_RUN_END, () => {
      const { passes, failures, pending } = this.stats;
      const skipped = pending > 0 ? `, ${pending} skipped` : '';
      process.stdout.write(`\n${passes} passed, ${failures} failed${skipped}\n`);
    });
  }
}

module.exports = SummaryReporter;
