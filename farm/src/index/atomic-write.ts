import { createHash, randomBytes } from 'node:crypto';
import { mkdir, open, readdir, rename, rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { isProcessAlive } from '../process/process-owner.ts';
import { explainDiskFull } from './explain-disk-full.ts';

/**
 * Writes a file so that readers see either the old content or the new, never a partial file, even
 * across a crash: temp file in the same directory, fsync, rename, fsync the directory. Creates the directory.
 * On a full disk the temp file is removed and the error is the `disk-full` EnvironmentError.
 */
export async function writeFileAtomic(path: string, content: string | Uint8Array): Promise<void> {
  const temp = await writeTempFile(path, content);
  try {
    await renameDurably(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw await explainDiskFull(error, { path, bytes: byteLength(content) });
  }
}

/**
 * Writes `content` to a new temp file beside `path` (see tempPathFor), fsynced, and returns its path:
 * rename or link it into place, or remove it. Creates the directory. On a full disk nothing is left
 * and the error is the `disk-full` EnvironmentError.
 */
export async function writeTempFile(path: string, content: string | Uint8Array): Promise<string> {
  await mkdir(dirname(path), { recursive: true });
  const temp = tempPathFor(path);
  try {
    const handle = await open(temp, 'wx');
    try {
      await handle.writeFile(content);
      await handle.sync();
    } finally {
      await handle.close();
    }
    return temp;
  } catch (error) {
    await rm(temp, { force: true });
    throw await explainDiskFull(error, { path, bytes: byteLength(content) });
  }
}

function byteLength(content: string | Uint8Array): number {
  return typeof content === 'string' ? Buffer.byteLength(content) : content.byteLength;
}

/**
 * A unique sibling of `path`: `.NAME.PID-HOST.RANDOM.tmp`, HOST a short hash of this host's name.
 * The leading dot and `.tmp` suffix mark it as not-yet-published: readers skip such names, so
 * leftovers of a crash are never served; the pid and host let removeAbandonedTemps() tell them
 * from a live writer's.
 */
export function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}-${HOST_TAG}.${randomBytes(4).toString('hex')}.tmp`);
}

const HOST_TAG = createHash('sha256').update(hostname()).digest('hex').slice(0, 8);
const TEMP_NAME = /^\..+\.(\d+)-([0-9a-f]{8})\.[0-9a-f]{8}\.tmp$/;

/** The pid that wrote a temp file named by tempPathFor() on this host; undefined for any other name. */
export function tempFileWriter(name: string): number | undefined {
  const match = TEMP_NAME.exec(name);
  return match && match[2] === HOST_TAG ? Number(match[1]) : undefined;
}

/**
 * Removes from each of `dirs` the temp files whose writer, a process of this host, is dead: what
 * a kill in the middle of a write leaves. Never served (see tempPathFor), but they take space:
 * a wheel's temp copy can be gigabytes. A live writer's files and other hosts' stay. Returns how
 * many were removed; a missing directory has none.
 */
export async function removeAbandonedTemps(dirs: string[], isAlive: (pid: number) => boolean = isProcessAlive): Promise<number> {
  let removed = 0;
  for (const dir of dirs) {
    const names = await readdir(dir).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return [] as string[];
      throw error;
    });
    for (const name of names) {
      const writer = tempFileWriter(name);
      if (writer === undefined || isAlive(writer)) continue;
      await rm(join(dir, name), { force: true });
      removed += 1;
    }
  }
  return removed;
}

/** Renames, then fsyncs the directory so the rename itself survives a crash and keeps its order. */
export async function renameDurably(from: string, to: string): Promise<void> {
  await rename(from, to);
  await syncDirectory(dirname(to));
}

/** fsyncs a directory, so the entries just made or renamed in it survive a crash. */
export async function syncDirectory(path: string): Promise<void> {
  const directory = await open(path, 'r');
  try {
    await directory.sync();
  } finally {
    await directory.close();
  }
}
