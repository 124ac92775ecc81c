import { rmSync } from 'node:fs';
import { afterAll } from 'vitest';
import { makeTestHome } from './test-home.ts';

/**
 * A setupFiles entry of every project: each test file gets a farm home of its own, so that no test
 * reads or writes the user's farm (`<repo>/.wheelfarm`: its records, caches, logs). WHEELFARM_HOME
 * reaches loadSettings in the test process and every `./wheelfarm` the test starts; a test that
 * needs another home passes its own. Made in the run's directory of homes (test-homes.ts), which
 * goes at the end of the run; removed as soon as the file's tests are done.
 */
const home = makeTestHome('file', process.env.WHEELFARM_TEST_HOMES);
process.env.WHEELFARM_HOME = home;

afterAll(() => {
  rmSync(home, { recursive: true, force: true, maxRetries: 3 });
});
