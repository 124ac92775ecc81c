import { readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { makeTestHome } from '../support/test-home.ts';
import { REPO_ROOT } from './helpers.ts';

/**
 * The real-Docker tests need the build and runtime images: build them once up front through the
 * CLI (a no-op when they exist), with the progress visible in the test output. It builds in a home
 * of its own, never the user's farm, whose sources cache (CPython) is the one every test home shares
 * (test-home.ts): images built here are the engine's, found by tag from any home. Afterwards, remove
 * the temporary folders (indexes, sdists, recipes, homes) this run made.
 */
export default async function setup(): Promise<() => Promise<void>> {
  const started = Date.now();
  const home = makeTestHome('images');
  const result = await execa(`${REPO_ROOT}/wheelfarm`, ['images', 'build'], {
    cwd: REPO_ROOT,
    env: { WHEELFARM_HOME: home },
    stdio: 'inherit',
    reject: false,
  });
  if (result.exitCode !== 0)
    throw new Error(`./wheelfarm images build failed (exit ${result.exitCode}); see its output above and ${home}/logs`);
  return async () => {
    for (const name of await readdir(tmpdir())) {
      // The test files' homes are test-homes.ts's to remove; another run's may still be in use.
      if (!name.startsWith('wheelfarm-test-') || name.startsWith('wheelfarm-test-homes-')) continue;
      const path = join(tmpdir(), name);
      if ((await stat(path)).mtimeMs >= started - 1000) await rm(path, { recursive: true, force: true });
    }
  };
}
