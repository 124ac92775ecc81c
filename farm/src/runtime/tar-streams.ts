import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { Readable } from 'node:stream';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import type { CopiedFile, FileToCopy } from './container-runtime.ts';

/** A tar stream of the given files, each streamed from disk (never held whole in memory). */
export function packFiles(files: FileToCopy[]): Readable {
  const pack = tar.pack();
  void (async () => {
    try {
      for (const file of files) await addEntry(pack, file);
      pack.finalize();
    } catch (error) {
      pack.destroy(error as Error);
    }
  })();
  return pack as unknown as Readable;
}

async function addEntry(pack: tar.Pack, file: FileToCopy): Promise<void> {
  const header = { name: file.name, mode: file.mode ?? 0o644, uid: file.uid ?? 0, gid: file.gid ?? 0, mtime: new Date() };
  if ('content' in file.source) {
    const content = file.source.content;
    await new Promise<void>((resolve, reject) => pack.entry(header, content, (error) => (error ? reject(error) : resolve())));
    return;
  }
  const { size } = await stat(file.source.path);
  await new Promise<void>((resolve, reject) => {
    const entry = pack.entry({ ...header, size }, (error) => (error ? reject(error) : resolve()));
    pipeline(createReadStream((file.source as { path: string }).path), entry).catch(reject);
  });
}

/**
 * Extract the regular files of a tar stream whose base names `accept` takes into `hostDir`,
 * hashing while writing. Each file is written to a temporary name and renamed when complete.
 */
export async function extractFiles(stream: Readable, hostDir: string, accept: (name: string) => boolean): Promise<CopiedFile[]> {
  await mkdir(hostDir, { recursive: true });
  const extract = tar.extract();
  const copied: CopiedFile[] = [];
  const done = (async () => {
    for await (const entry of extract) {
      const name = basename(entry.header.name);
      if (entry.header.type !== 'file' || !accept(name)) {
        entry.resume();
        continue;
      }
      copied.push(await writeEntry(entry as unknown as Readable, join(hostDir, name), name));
    }
  })();
  // allSettled: when the stream fails mid-file, the file's `.part` is removed before we report.
  const [piped, extracted] = await Promise.allSettled([pipeline(stream, extract), done]);
  if (piped.status === 'rejected') throw piped.reason;
  if (extracted.status === 'rejected') throw extracted.reason;
  return copied;
}

async function writeEntry(entry: Readable, path: string, name: string): Promise<CopiedFile> {
  const hash = createHash('sha256');
  let size = 0;
  const temp = `${path}.part`;
  const hasher = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      size += chunk.length;
      callback(null, chunk);
    },
  });
  try {
    await pipeline(entry, hasher, createWriteStream(temp));
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
  return { name, path, sha256: hash.digest('hex'), size };
}
