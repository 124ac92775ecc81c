import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { rm, stat } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { IntegrityError } from '../errors.ts';
import { tempPathFor } from './atomic-write.ts';
import { explainDiskFull } from './explain-disk-full.ts';

export interface StagedCopy {
  /** A temp file next to `destination`, fsynced; rename it into place or remove it. */
  tempPath: string;
  size: number;
}

/**
 * Streams `source` to a temp file beside `destination`, hashing on the way, so a wheel of several GB
 * is read once and never held in memory. On a hash mismatch or a full disk (`disk-full`) nothing is left behind.
 */
export async function stageVerifiedCopy(source: string, destination: string, expectedSha256: string): Promise<StagedCopy> {
  const tempPath = tempPathFor(destination);
  try {
    const hash = createHash('sha256');
    let size = 0;
    await pipeline(
      createReadStream(source),
      async function* (chunks: AsyncIterable<Buffer>) {
        for await (const chunk of chunks) {
          hash.update(chunk);
          size += chunk.length;
          yield chunk;
        }
      },
      // `flush` fsyncs before close, so the bytes are on disk before the rename makes them visible.
      createWriteStream(tempPath, { flags: 'wx', flush: true }),
    );
    assertSha256(source, expectedSha256, hash.digest('hex'));
    return { tempPath, size };
  } catch (error) {
    await rm(tempPath, { force: true });
    throw await explainDiskFull(error, { path: destination, bytes: (await stat(source).catch(() => undefined))?.size });
  }
}

/** Hashes a file by streaming it. */
export async function sha256OfFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) hash.update(chunk);
  return hash.digest('hex');
}

export function assertSha256(path: string, expected: string, actual: string): void {
  if (actual !== expected) {
    throw new IntegrityError('sha256-mismatch', `${path} has sha256 ${actual}, but ${expected} was expected`, {
      hint: 'The wheel changed after it was hashed, or the wrong hash was passed; rebuild or re-hash it before publishing.',
    });
  }
}
