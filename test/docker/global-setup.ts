import { rm } from 'node:fs/promises';
import { execa } from 'execa';
import { makeTestHome } from '../support/test-home.ts';
import { REPO_ROOT } from './helpers.ts';

/**
 * The real-Docker tests need the build and runtime images: build them once up front through the
 * CLI (a no-op when they exist), with the progress visible in the test output. It builds in a home
 * of its own, never the user's farm, whose sources cache (CPython) is the one every test home shares
 * (test-home.ts): images built here are the engine's, found by tag from any home.
 */
export default async function setup(): Promise<() => Promise<void>> {
  const _started = Date.now();
  const home = makeTestHome('images');
  const result = await execa(`${REPO_ROOT}/wheelfarm`, ['images', 'build'], {
    cwd: REPO_ROOT,
    env: { WHEELFARM_HOME: home },
    stdio: 'inherit',
    reject: false,
  });
  if (result.exitCode !== 0)
    throw new Error(`./wheelfarm images build failed (exit ${result.exitCode}); see its output above and ${home}/logs`);
  // The run's temporary folders are in its own directory, removed by test-homes.ts.
  return async () => {
    await rm(home, { recursive: true, force: true });
  };
}
