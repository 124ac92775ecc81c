import { createReadStream } from 'node:fs';
import type { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import tar from 'tar-stream';

/** What the farm reads of an sdist without unpacking it: its members and the text of a few small files. */
export interface SdistFiles {
  /** Every file's path below the sdist's top-level folder (`pyproject.toml`, `src/rust/Cargo.toml`). */
  members: string[];
  /** The text of the wanted files, by the same paths. */
  texts: Map<string, string>;
}

/** A wanted file bigger than this is left unread (a pyproject.toml is a few kB). */
const MAX_TEXT_BYTES = 1024 * 1024;

/**
 * The members of a `.tar.gz`/`.tgz`/`.tar` sdist (already checked by checkSdist), read as a stream:
 * each member's header, and the data only of the small files `wanted` names; memory holds the names
 * and those texts, never the archive. Undefined for a zip sdist, which the farm does not look into.
 */
export async function readSdistFiles(
  path: string,
  wanted: (member: string) => boolean,
  signal?: AbortSignal,
): Promise<SdistFiles | undefined> {
  const lower = path.toLowerCase();
  if (lower.endsWith('.zip')) return undefined;
  const gzip = lower.endsWith('.gz') || lower.endsWith('.tgz');
  const extract = tar.extract({ allowUnknownFormat: true } as Parameters<typeof tar.extract>[0]);
  const members: string[] = [];
  const texts = new Map<string, string>();
  const read = (async () => {
    for await (const entry of extract) {
      const { name, type, size = 0 } = entry.header;
      const member = name.replace(/^\.?\/*[^/]*\/?/, '');
      if (type !== 'file' || member === '') {
        entry.resume();
        continue;
      }
      members.push(member);
      if (wanted(member) && size <= MAX_TEXT_BYTES) {
        const chunks: Buffer[] = [];
        for await (const chunk of entry) chunks.push(chunk as Buffer);
        texts.set(member, Buffer.concat(chunks).toString('utf8'));
      } else entry.resume();
    }
  })();
  const stages = [createReadStream(path), ...(gzip ? [createGunzip()] : []), extract as unknown as Writable] as const;
  await Promise.all([pipeline(stages, signal ? { signal } : {}), read]);
  return { members, texts };
}
