import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * globalSetup of the whole run: the directory every test file's own home is made in (own-home.ts),
 * handed to the test workers as WHEELFARM_TEST_HOMES and removed at the end, with the homes of
 * files whose tests all skipped (they run no afterAll).
 */
export default function setup(): () => void {
  const homes = mkdtempSync(join(tmpdir(), 'wheelfarm-test-homes-'));
  process.env.WHEELFARM_TEST_HOMES = homes;
  return () => rmSync(homes, { recursive: true, force: true, maxRetries: 3 });
}
