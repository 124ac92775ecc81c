import { execFile } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, statfsSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

/**
 * A disk that fills up, for real: a small tmpfs mounted where a test or a benchmark wants one, and
 * a filler file that uses up its space. Mounting needs root (and CAP_SYS_ADMIN in a container);
 * `whyNotMount()` says why it is impossible, for describeNeeding (support/needs.ts). Every mount is
 * remembered until it is undone, so a caller's clean-up can undo them all (`unmountAll`), whatever
 * failed: no mount may outlive the process that made it.
 */
const run = promisify(execFile);

/** The name of the file `fill` writes: leave it out of snapshots of the index. */
export const FILLER = 'zz-filler';

const mounted = new Set<string>();

/** Mounts a tmpfs of `size` (`256k`, `1m`) on `dir`, created if missing. */
export async function mountTmpfs(dir: string, size: string): Promise<void> {
  mkdirSync(dir, { recursive: true });
  await run('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir]);
  mounted.add(dir);
}

/** Unmounts `dir`; lazily if something still holds it, so the mount does not outlive the caller. */
export async function unmount(dir: string): Promise<void> {
  await run('umount', [dir]).catch(() => run('umount', ['-l', dir]));
  mounted.delete(dir);
}

/** Unmounts every tmpfs `mountTmpfs` mounted and nothing undid yet, the last mounted first. */
export async function unmountAll(): Promise<void> {
  for (const dir of [...mounted].reverse()) await unmount(dir);
}

/** Why a tmpfs cannot be mounted here (not root, no CAP_SYS_ADMIN); undefined when one can, as a probe mount shows. */
export async function whyNotMount(): Promise<string | undefined> {
  if (process.getuid?.() !== 0) return 'mounting a tmpfs needs root; run as root to test a full disk for real';
  const probe = mkdtempSync(join(tmpdir(), 'wheelfarm-mount-probe-'));
  try {
    await mountTmpfs(probe, '64k');
    await unmount(probe);
    return undefined;
  } catch (error) {
    return `\`mount -t tmpfs\` failed (${String((error as { stderr?: unknown }).stderr ?? error).trim()}); the container may lack CAP_SYS_ADMIN`;
  } finally {
    rmSync(probe, { recursive: true, force: true });
  }
}

/** Writes a filler file into `dir` until at most `leave` bytes (in 4 KiB blocks) are free; returns its path. */
export function fill(dir: string, leave = 0): string {
  const path = join(dir, FILLER);
  const fd = openSync(path, 'w');
  const block = Buffer.alloc(4096, 1);
  const free = () => {
    const { bavail, bsize } = statfsSync(dir);
    return bavail * bsize;
  };
  try {
    while (free() > leave) writeSync(fd, block);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
  } finally {
    closeSync(fd);
  }
  return path;
}
