import { mkdir, readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { WheelfarmError } from '../errors.ts';
import { tryDirectoryLock } from '../process/directory-lock.ts';
import { KeyedMutex } from './keyed-mutex.ts';

// Shared by every publisher in the process: the file lock alone would make same-process callers poll.
const inProcess = new KeyedMutex();

/** How long a publish waits for another one holding the lock (which goes stale after 30 s without its heartbeat). */
const WAIT_MS = 90_000;

/**
 * Runs `section` holding both an in-process mutex and a cross-process lock directory at `lockPath`.
 * `assertHeld` throws if the lock was lost (e.g. the process stalled past the stale time); call it
 * right before each step that makes a change visible.
 */
export async function withFileLock<T>(lockPath: string, section: (assertHeld: () => void) => Promise<T>): Promise<T> {
  const absolute = resolve(lockPath);
  return inProcess.run(absolute, async () => {
    await mkdir(dirname(absolute), { recursive: true });
    let lost: Error | undefined;
    const release = await acquire(absolute, (error) => {
      lost = error;
    });
    const assertHeld = (): void => {
      if (lost) {
        throw new WheelfarmError('lock-lost', `lost the lock ${absolute} before finishing`, {
          hint: 'Another process may have taken it over; retry the publish.',
          cause: lost,
        });
      }
    };
    try {
      return await section(assertHeld);
    } finally {
      // After a compromise the library has already let go; releasing again only reports that.
      await release().catch(() => undefined);
    }
  });
}

/**
 * Polls for the lock for up to WAIT_MS. A lock left by a dead process of this host is taken over at
 * once (its owner is written beside it), so a publish after a crash does not wait; one whose holder
 * stopped refreshing it (another host's, or a frozen process) goes stale after 30 s.
 */
async function acquire(lockPath: string, onLost: (error: Error) => void): Promise<() => Promise<void>> {
  const deadline = Date.now() + WAIT_MS;
  let delay = 20;
  for (;;) {
    const release = await tryDirectoryLock(lockPath, { onLost });
    if (release) return release;
    if (Date.now() > deadline) {
      const owner = await readFile(`${lockPath}.owner`, 'utf8').then(
        (text) => text.trim(),
        () => 'unknown',
      );
      throw new WheelfarmError(
        'index-locked',
        `could not take the lock ${lockPath} within ${WAIT_MS / 1000} s; it is held by ${owner} (host:pid)`,
        {
          hint: `Another publish is holding it. If that process is not running, remove the directory ${lockPath}.`,
        },
      );
    }
    await sleep(delay * (0.5 + Math.random()));
    delay = Math.min(1000, delay * 1.5);
  }
}
