import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { Transform } from 'node:stream';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import yauzl from 'yauzl';
import type { Entry, ZipFile } from 'yauzl';
import { WheelfarmError } from '../errors.ts';

const DIST_INFO_METADATA = /^[^/]+\.dist-info\/METADATA$/;

/**
 * Stream a wheel's core metadata (`*.dist-info/METADATA`) byte for byte into `destination`, as
 * PEP 658 serves it beside the wheel, and return its sha256. Reads the zip's central directory and
 * that one entry only: wheels can be several gigabytes.
 */
export async function extractCoreMetadata(wheelPath: string, destination: string): Promise<{ sha256: string; size: number }> {
  const zip = await new Promise<ZipFile>((resolve, reject) =>
    yauzl.open(wheelPath, { lazyEntries: true, autoClose: false }, (error, file) => (error ? reject(error) : resolve(file))),
  ).catch((error: unknown) => {
    throw new WheelfarmError('bad-wheel', `${wheelPath} is not a readable wheel (zip): ${(error as Error).message}`, { cause: error });
  });
  try {
    const entry = await findEntry(zip, wheelPath);
    const stream = await new Promise<Readable>((resolve, reject) =>
      zip.openReadStream(entry, (error, s) => (error ? reject(error) : resolve(s))),
    );
    const hash = createHash('sha256');
    let size = 0;
    const hasher = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        hash.update(chunk);
        size += chunk.length;
        callback(null, chunk);
      },
    });
    await pipeline(stream, hasher, createWriteStream(destination, { flags: 'wx' }));
    return { sha256: hash.digest('hex'), size };
  } finally {
    zip.close();
  }
}

async function findEntry(zip: ZipFile, wheelPath: string): Promise<Entry> {
  return new Promise((resolve, reject) => {
    const found: Entry[] = [];
    zip.on('entry', (entry: Entry) => {
      if (DIST_INFO_METADATA.test(entry.fileName)) found.push(entry);
      zip.readEntry();
    });
    zip.on('end', () => {
      if (found.length === 1) resolve(found[0]!);
      else reject(new WheelfarmError('bad-wheel', `${wheelPath} has ${found.length} *.dist-info/METADATA files; a wheel has exactly one`));
    });
    zip.on('error', reject);
    zip.readEntry();
  });
}
