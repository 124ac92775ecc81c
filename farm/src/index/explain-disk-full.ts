import { statfs } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { EnvironmentError } from '../errors.ts';
import { formatBytes } from '../archives/archive-limits.ts';

/**
 * `error` as the `disk-full` EnvironmentError when it is ENOSPC (or EDQUOT) from writing `path`,
 * else `error` itself. The message names the directory, the file, the bytes it needed when known and
 * what the file system has free; the caller has already removed its temp file.
 */
export async function explainDiskFull(error: unknown, { path, bytes }: { path: string; bytes?: number | undefined }): Promise<unknown> {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code !== 'ENOSPC' && code !== 'EDQUOT') return error;
  const directory = dirname(path);
  const free = await freeBytes(directory);
  const what = code === 'EDQUOT' ? 'the disk quota is used up' : 'no space left';
  const needed = bytes === undefined ? '' : `: it needs ${formatBytes(bytes)}`;
  const available = free === undefined ? '' : `${needed ? ',' : ':'} ${formatBytes(free)} free`;
  return new EnvironmentError('disk-full', `${what} in ${directory} for ${basename(path)}${needed}${available}`, {
    hint:
      `Free space on the file system that holds ${directory} (or publish elsewhere with --index), then publish again. ` +
      'Nothing partial was left: the index serves what it served before.',
    cause: error,
  });
}

async function freeBytes(directory: string): Promise<number | undefined> {
  try {
    const stats = await statfs(directory);
    return stats.bavail * stats.bsize;
  } catch {
    return undefined;
  }
}
