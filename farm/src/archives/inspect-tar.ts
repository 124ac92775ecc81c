import { createReadStream } from 'node:fs';
import { Transform } from 'node:stream';
import type { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import tar from 'tar-stream';
import type { Header } from 'tar-stream';
import type { ArchiveInspection } from './archive-inspection.ts';
import { settleArchiveRead } from './settle-archive-read.ts';

/**
 * How far the decompressor may run ahead of the member the tar parser is at. Members are checked
 * against `maxBytes` exactly, from their headers, before their data is read; the running count of
 * the whole stream (which also stops an endless stream of zero blocks after the last member) only
 * needs to allow for what is buffered in between.
 */
const READ_AHEAD_BYTES = 1024 * 1024;

/** What tar-stream knows of a member beyond its published types. */
interface TarHeader extends Omit<Header, 'type' | 'pax' | 'linkname'> {
  /** null for a type flag tar-stream does not know (GNU sparse `S`, volume labels, vendor ones). */
  type: Header['type'] | null;
  linkname: string | null;
  /** Where the member's data starts in the uncompressed stream. */
  byteOffset?: number;
  pax?: Record<string, string> | null;
}

/**
 * Reads a tar (optionally gzip-compressed) from disk as a stream, feeding each member's header to
 * `inspection`; data is read and dropped, so memory stays flat whatever the archive's size.
 */
export async function inspectTar({
  path,
  gzip,
  inspection,
  signal,
}: {
  path: string;
  gzip: boolean;
  inspection: ArchiveInspection;
  signal?: AbortSignal | undefined;
}): Promise<void> {
  // Unknown format: v7 headers (no ustar magic) of very old sdists; their members are checked all the same.
  const extract = tar.extract({ allowUnknownFormat: true } as Parameters<typeof tar.extract>[0]);
  let current: string | undefined;
  let total = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      total += chunk.length;
      try {
        if (total > inspection.limits.maxBytes + READ_AHEAD_BYTES) inspection.reachBytes(current, total);
        callback(null, chunk);
      } catch (error) {
        callback(error as Error);
      }
    },
  });
  const members = (async () => {
    for await (const entry of extract) {
      const header = entry.header as unknown as TarHeader;
      current = header.name;
      inspectMember(inspection, header);
      entry.resume();
    }
  })();
  const stages = [createReadStream(path), ...(gzip ? [createGunzip()] : []), counter, extract as unknown as Writable] as const;
  await settleArchiveRead({
    inspection,
    signal,
    format: gzip ? 'gzip-compressed tar archive' : 'tar archive',
    reads: [pipeline(stages, signal ? { signal } : {}), members],
  });
  inspection.reachBytes(current, total);
}

function inspectMember(inspection: ArchiveInspection, header: TarHeader): void {
  const { name } = header;
  if (Object.keys(header.pax ?? {}).some((key) => key.startsWith('GNU.sparse.'))) {
    inspection.refuseUnsupported(name, 'is a GNU sparse file, which can unpack to far more than the archive holds');
  }
  switch (header.type) {
    case 'file':
    case 'contiguous-file':
      inspection.addFile(name);
      break;
    case 'directory':
      inspection.addDirectory(name);
      break;
    case 'symlink':
      inspection.addSymlink(name, header.linkname ?? '');
      break;
    case 'link':
      inspection.addHardlink(name, header.linkname ?? '');
      break;
    case 'character-device':
    case 'block-device':
      inspection.refuseSpecial(name, header.type, { major: header.devmajor ?? 0, minor: header.devminor ?? 0 });
      break;
    case 'fifo':
      inspection.refuseSpecial(name, 'fifo');
      break;
    default:
      inspection.refuseUnsupported(
        name,
        'has a tar member type that is not a file, folder or link (GNU sparse, volume label or vendor extension)',
      );
  }
  // Exact: a member's data ends here in the uncompressed stream, whatever the compression.
  inspection.reachBytes(name, (header.byteOffset ?? 0) + (header.size ?? 0));
}
