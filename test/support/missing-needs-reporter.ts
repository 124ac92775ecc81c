import type { Reporter, TestModule, TestSuite, Vitest } from 'vitest/node';
import { underCi } from './needs.ts';

interface MissingNeed {
  suite: string;
  tests: number;
  reason: string;
}

/**
 * At the end of the run, lists each suite whose server or tool was missing (describeNeeding in
 * needs.ts), with its reason and how many tests it holds: skipped ones outside CI, which would
 * otherwise pass unnoticed among the skips, and failed ones under CI, gathered in one place.
 */
export default class MissingNeedsReporter implements Reporter {
  #vitest: Vitest | undefined;

  onInit(vitest: Vitest): void {
    this.#vitest = vitest;
  }

  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    const missing = testModules.flatMap(missingNeeds);
    if (missing.length === 0) return;
    const tests = missing.reduce((sum, need) => sum + need.tests, 0);
    const heading = underCi()
      ? `FAILED because a server or tool was missing (${tests} tests; CI is set, so they may not skip):`
      : `SKIPPED because a server or tool was missing (${tests} tests; under CI they would fail):`;
    const rule = '!'.repeat(100);
    const lines = [
      '',
      rule,
      `!! ${heading}`,
      ...missing.map((need) => `!!   ${need.suite} (${need.tests} tests): ${need.reason}`),
      rule,
      '',
    ];
    (this.#vitest?.logger ?? console).error(lines.join('\n'));
  }
}

/** The outermost suites of a module that carry a `missing` reason (their nested suites inherit it). */
function missingNeeds(module: TestModule): MissingNeed[] {
  const found: MissingNeed[] = [];
  for (const suite of module.children.allSuites()) {
    const reason = suite.meta().missing;
    if (reason === undefined || (suite.parent.type === 'suite' && suite.parent.meta().missing !== undefined)) continue;
    found.push({ suite: `${module.relativeModuleId} > ${suite.fullName}`, tests: countTests(suite), reason });
  }
  return found;
}

function countTests(suite: TestSuite): number {
  return [...suite.children.allTests()].length;
}
