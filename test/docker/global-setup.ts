import { readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { REPO_ROOT } from './helpers.ts';

/**
 * The real-Docker tests need the build and runtime images: build them once up front through the
 * CLI (a no-op when they exist), with the progress visible in the test output. Afterwards, remove
 * the temporary folders (indexes, sdists, recipes) this run made.
 */
export default async function setup(): Promise<() => Promise<void>> {
  const started = Date.now();
  const result = await execa(`${REPO_ROOT}/wheelfarm`, ['images', 'build'], { cwd: REPO_ROOT, stdio: 'inherit', reject: false });
  if (result.exitCode !== 0) throw new Error(`./wheelfarm images build failed (exit ${result.exitCode}); see its output above`);
  return async () => {
    for (const name of await readdir(tmpdir())) {
      if (!name.startsWith('wheelfarm-test-')) continue;
      const path = join(tmpdir(), name);
      if ((await stat(path)).mtimeMs >= started - 1000) await rm(path, { recursive: true, force: true });
    }
  };
}
