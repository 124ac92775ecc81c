import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { explainDiskFull } from './explain-disk-full.ts';

/**
 * Writes a file so that readers see either the old content or the new, never a partial file, even
 * across a crash: temp file in the same directory, fsync, rename, fsync the directory. Creates the directory.
 * On a full disk the temp file is removed and the error is the `disk-full` EnvironmentError.
 */
export async function writeFileAtomic(path: string, content: string | Uint8Array): Promise<void> {
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
    await renameDurably(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw await explainDiskFull(error, { path, bytes: typeof content === 'string' ? Buffer.byteLength(content) : content.byteLength });
  }
}

/**
 * A unique sibling of `path`. The leading dot and `.tmp` suffix mark it as not-yet-published: readers
 * skip such names, so leftovers of a crash are never served.
 */
export function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
}

/** Renames, then fsyncs the directory so the rename itself survives a crash and keeps its order. */
export async function renameDurably(from: string, to: string): Promise<void> {
  await rename(from, to);
  const directory = await open(dirname(to), 'r');
  try {
    await directory.sync();
  } finally {
    await directory.close();
  }
}
