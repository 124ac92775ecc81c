import { chmodSync, mkdirSync, mkdtempSync, symlinkSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * The sources image builds download (CPython tarballs and the like: `<home>/cache/sources`), shared
 * by every test home so that no test run downloads them twice. Safe to share: entries are
 * content-addressed and checked against their sha256, and downloads write `.part` files first. It
 * lives in the user's cache directory, not in any farm's home: a test never writes into the user's farm.
 */
export const SHARED_SOURCES = join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'wheelfarm-tests', 'sources');

/**
 * A fresh farm home (`wheelfarm-test-home-<label>-*` in `parent`) for WHEELFARM_HOME, with the
 * shared sources cache linked in. Mode 0755: containers read some of its files as a non-root user.
 * The caller removes it (the link goes with it, the shared cache stays).
 */
export function makeTestHome(label: string, parent = tmpdir()): string {
  const home = mkdtempSync(join(parent, `wheelfarm-test-home-${label}-`));
  chmodSync(home, 0o755);
  mkdirSync(SHARED_SOURCES, { recursive: true });
  mkdirSync(join(home, 'cache'));
  symlinkSync(SHARED_SOURCES, join(home, 'cache', 'sources'));
  return home;
}
