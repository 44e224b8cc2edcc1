import Mocha from 'mocha';

/**
 * Mocha's spec reporter plus one plain closing line, "N passed, N failed, N skipped", that CI reads to tell a run
 * that tested something from one that ran nothing.
 */
class ForesightReporter extends Mocha.reporters.Spec {
  constructor(runner: Mocha.Runner, options?: Mocha.MochaOptions) {
    super(runner, options);
    runner.once(Mocha.Runner.constants.EVENT_RUN_END, () => {
      const s = runner.stats ?? { passes: 0, failures: 0, pending: 0 };
      console.log(`\n${s.passes} passed, ${s.failures} failed, ${s.pending} skipped`);
    });
  }
}

module.exports = ForesightReporter;
