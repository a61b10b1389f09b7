'use strict';
// Mocha reporter for .ci/run: mocha's spec output, then one line per failed test ("failed
// test: TITLE: MESSAGE"), one per test that passed only on a retry ("retried test: ..."), and
// one plain line that CI logs can be searched for: "N passed,
// N failed" plus ", N skipped" when tests were skipped. .ci/run repeats the "failed test" and
// "retried test" lines at the very end of its output, where a CI page that shows only the tail still has them.
// CommonJS because mocha loads reporters with require().

const { reporters, Runner } = require('mocha');

/** The first line of an error's message, cut to a length one log line can hold. */
function firstLine(err) {
  const text = String((err && err.message) || err || 'no message').split('\n')[0];
  return text.length > 300 ? `${text.slice(0, 300)}…` : text;
}

class SummaryReporter extends reporters.Spec {
  constructor(runner, options) {
    super(runner, options);
    const failed = [];
    const retried = [];
    runner.on(Runner.constants.EVENT_TEST_FAIL, (test, err) => {
      failed.push(`failed test: ${test.fullTitle()}: ${firstLine(err)}`);
    });
    const firstTry = new Map();
    runner.on(Runner.constants.EVENT_TEST_RETRY, (test, err) => {
      if (!firstTry.has(test.fullTitle())) firstTry.set(test.fullTitle(), firstLine(err));
    });
    runner.on(Runner.constants.EVENT_TEST_PASS, (test) => {
      const err = firstTry.get(test.fullTitle());
      if (err !== undefined) retried.push(`retried test: ${test.fullTitle()}: passed on a retry; first try: ${err}`);
    });
    // Registered after Spec's own handler, so the lines come after the spec epilogue.
    runner.once(Runner.constants.EVENT_RUN_END, () => {
      const { passes, failures, pending } = this.stats;
      const skipped = pending > 0 ? `, ${pending} skipped` : '';
      const lines = [...retried, ...failed];
      const list = lines.length > 0 ? `\n${lines.join('\n')}` : '';
      process.stdout.write(`${list}\n${passes} passed, ${failures} failed${skipped}\n`);
    });
  }
}

module.exports = SummaryReporter;
