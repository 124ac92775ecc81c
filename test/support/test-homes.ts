import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * globalSetup of the whole run: the directory every test file's own home is made in (own-home.ts),
 * and the docker tests' temporary folders (helpers.ts makeTempDir), handed to the test workers as
 * WHEELFARM_TEST_HOMES and removed at the end, with the homes of files whose tests all skipped (they
 * run no afterAll). Another run on the same machine has a directory of its own: nothing of it is removed.
 */
export default function setup(): () => void {
  const homes = mkdtempSync(join(tmpdir(), 'wheelfarm-test-homes-'));
  // Containers of the tests read some folders in it as a non-root user.
  chmodSync(homes, 0o755);
  process.env.WHEELFARM_TEST_HOMES = homes;
  return () => rmSync(homes, { recursive: true, force: true, maxRetries: 3 });
}
