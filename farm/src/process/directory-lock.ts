import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import lockfile from 'proper-lockfile';
import { isDeadOwner, isProcessAlive, processOwner } from './process-owner.ts';

/** A holder that stops refreshing the lock (crashed, or frozen) loses it after this long. */
const STALE_MS = 30_000;

/**
 * A lock directory with a heartbeat (proper-lockfile): taken at once or not at all. It survives a
 * crash without anyone removing it by hand: the holder's host and pid are written in it, so a lock
 * left by a dead process of this host is taken over at once; any other holder that stops refreshing
 * it loses it after STALE_MS. `onLost` hears of a lock taken away while held.
 */
export async function tryDirectoryLock(
  path: string,
  { onLost = () => undefined, isAlive = isProcessAlive }: { onLost?: (error: Error) => void; isAlive?: (pid: number) => boolean } = {},
): Promise<(() => Promise<void>) | undefined> {
  await mkdir(dirname(path), { recursive: true });
  for (let attempt = 0; attempt < 2; attempt += 1) {
    try {
      const release = await lockfile.lock(path, {
        realpath: false,
        lockfilePath: path,
        stale: STALE_MS,
        retries: 0,
        onCompromised: onLost,
      });
      // Beside the lock directory, not in it: proper-lockfile removes an empty directory only.
      await writeFile(ownerFile(path), `${processOwner()}\n`).catch(() => undefined);
      return async () => {
        await rm(ownerFile(path), { force: true });
        await release().catch(() => undefined);
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ELOCKED') throw error;
      if (attempt > 0 || !(await heldByDeadProcess(path, isAlive))) return undefined;
      // Moved aside, not removed in place: of two processes taking over at once, one rename wins.
      const aside = `${path}.dead-${process.pid}`;
      try {
        await rename(path, aside);
      } catch {
        return undefined;
      }
      await rm(aside, { recursive: true, force: true });
    }
  }
  return undefined;
}

function ownerFile(path: string): string {
  return `${path}.owner`;
}

async function heldByDeadProcess(path: string, isAlive: (pid: number) => boolean): Promise<boolean> {
  const owner = await readFile(ownerFile(path), 'utf8').catch(() => '');
  return isDeadOwner(owner.trim(), isAlive);
}
