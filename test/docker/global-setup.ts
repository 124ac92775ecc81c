import { execa } from 'execa';
import { REPO_ROOT } from './helpers.ts';

/**
 * The real-Docker tests need the build and runtime images: build them once up front through the
 * CLI (a no-op when they exist), with the progress visible in the test output.
 */
export default async function setup(): Promise<void> {
  const result = await execa(`${REPO_ROOT}/wheelfarm`, ['images', 'build'], { cwd: REPO_ROOT, stdio: 'inherit', reject: false });
  if (result.exitCode !== 0) throw new Error(`./wheelfarm images build failed (exit ${result.exitCode}); see its output above`);
}
