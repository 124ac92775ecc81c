import yauzl from 'yauzl';
import type { Entry, LocalFileHeader, ZipFile } from 'yauzl';
import type { ArchiveInspection } from './archive-inspection.ts';
import { show } from './archive-inspection.ts';
import { RATIO_FREE_BYTES, formatBytes } from './archive-limits.ts';
import { MAX_NAME_BYTES } from './member-paths.ts';
import { archiveReadError } from './settle-archive-read.ts';

// The file type in the Unix mode that zip keeps in the high 16 bits of the external attributes.
const S_IFMT = 0o170000;
const S_IFLNK = 0o120000;
const S_IFCHR = 0o020000;
const S_IFBLK = 0o060000;
const S_IFIFO = 0o010000;
const S_IFSOCK = 0o140000;
const S_IFDIR = 0o040000;

const STORED = 0;
const DEFLATED = 8;
/** Bit 3 of the flags: sizes follow the data, the local header's are zero. */
const DATA_DESCRIPTOR_FLAG = 0x8;
/** A 32-bit size of all ones: the real one is in the zip64 extra field. */
const ZIP64_SIZE = 0xffffffff;

const FORMAT = 'zip archive';

/**
 * Reads a zip from disk: the central directory entry by entry, each member's local header, and each
 * member inflated and counted chunk by chunk (never held whole in memory, never trusting a declared size).
 */
export async function inspectZip({
  path,
  inspection,
  signal,
}: {
  path: string;
  inspection: ArchiveInspection;
  signal?: AbortSignal | undefined;
}): Promise<void> {
  let zip: ZipFile;
  try {
    // Names undecoded: yauzl would refuse `..` and absolute names itself, with messages of its own.
    zip = await yauzl.openPromise(path, {
      lazyEntries: true,
      autoClose: false,
      decodeStrings: false,
      validateEntrySizes: false,
      strictFileNames: true,
    });
  } catch (error) {
    throw archiveReadError({ inspection, signal, format: FORMAT, errors: [error] });
  }
  const seen = new Map<string, string>();
  try {
    for await (const entry of zip.eachEntry()) {
      signal?.throwIfAborted();
      await inspectEntry(zip, entry, inspection, seen);
    }
  } catch (error) {
    throw archiveReadError({ inspection, signal, format: FORMAT, errors: [error] });
  } finally {
    zip.close();
  }
}

async function inspectEntry(zip: ZipFile, entry: Entry, inspection: ArchiveInspection, seen: Map<string, string>): Promise<void> {
  const name = yauzl.getFileNameLowLevel(entry.generalPurposeBitFlag, entry.fileNameRaw, entry.extraFields, true);
  checkLocalHeader(inspection, entry, name, await zip.readLocalFileHeaderPromise(entry));
  const key = name
    .split(/[\\/]/)
    .filter((segment) => segment !== '' && segment !== '.')
    .join('/');
  const first = seen.get(key);
  if (first !== undefined) {
    const also = first === name ? '' : ` (also as \`${show(first)}\`)`;
    inspection.refuse('archive-duplicate-member', name, `is in the archive twice${also}: installers disagree on which copy wins`);
  }
  seen.set(key, name);
  if (entry.isEncrypted()) inspection.refuseUnsupported(name, 'is encrypted');
  if (entry.compressionMethod !== STORED && entry.compressionMethod !== DEFLATED) {
    inspection.refuseUnsupported(
      name,
      `uses compression method ${entry.compressionMethod}; wheelfarm reads stored and deflated members only`,
    );
  }
  const type = (entry.externalFileAttributes >>> 16) & S_IFMT;
  if (type === S_IFLNK) {
    if (entry.uncompressedSize > MAX_NAME_BYTES) {
      inspection.refuse('archive-bad-member-name', name, `is a symlink with a bad target: it is longer than ${MAX_NAME_BYTES} bytes`);
    }
    inspection.addSymlink(name, (await inflateMember(zip, entry, name, inspection, { keep: true })).toString('utf8'));
    return;
  }
  if (type === S_IFCHR || type === S_IFBLK) inspection.refuseSpecial(name, type === S_IFCHR ? 'character-device' : 'block-device');
  if (type === S_IFIFO) inspection.refuseSpecial(name, 'fifo');
  if (type === S_IFSOCK) inspection.refuseUnsupported(name, 'is a socket');
  if (type === S_IFDIR || /[\\/]$/.test(name)) inspection.addDirectory(name);
  else inspection.addFile(name);
  await inflateMember(zip, entry, name, inspection, { keep: false });
}

/**
 * Streaming installers read the local headers, pip and auditwheel the central directory: when the
 * two disagree, each tool would see another archive.
 */
function checkLocalHeader(inspection: ArchiveInspection, entry: Entry, name: string, local: LocalFileHeader): void {
  const localName = yauzl.getFileNameLowLevel(local.generalPurposeBitFlag, local.fileName, yauzl.parseExtraFields(local.extraField), true);
  if (!local.fileName.equals(entry.fileNameRaw) || localName !== name) {
    inspection.refuse(
      'archive-header-mismatch',
      name,
      `is named \`${show(localName)}\` in its local header: tools that read local headers would unpack another file`,
    );
  }
  if (local.compressionMethod !== entry.compressionMethod) {
    inspection.refuse(
      'archive-header-mismatch',
      name,
      `has compression method ${local.compressionMethod} in its local header but ${entry.compressionMethod} in the central directory`,
    );
  }
  const sizesInLocal =
    (local.generalPurposeBitFlag & DATA_DESCRIPTOR_FLAG) === 0 &&
    local.compressedSize !== ZIP64_SIZE &&
    local.uncompressedSize !== ZIP64_SIZE;
  if (sizesInLocal && (local.compressedSize !== entry.compressedSize || local.uncompressedSize !== entry.uncompressedSize)) {
    inspection.refuse(
      'archive-header-mismatch',
      name,
      `has sizes ${local.compressedSize}/${local.uncompressedSize} (compressed/unpacked) in its local header but ${entry.compressedSize}/${entry.uncompressedSize} in the central directory`,
    );
  }
}

/**
 * Inflates one member, counting what comes out: it stops at once when the member passes its
 * declared size, its ratio limit or the archive's byte limit. With `keep`, returns the bytes (a
 * symlink's target, at most MAX_NAME_BYTES).
 */
async function inflateMember(
  zip: ZipFile,
  entry: Entry,
  name: string,
  inspection: ArchiveInspection,
  { keep }: { keep: boolean },
): Promise<Buffer> {
  const { maxCompressionRatio } = inspection.limits;
  const ratioLimit = Math.max(RATIO_FREE_BYTES, entry.compressedSize * maxCompressionRatio);
  const stream = await zip.openReadStreamPromise(entry);
  const kept: Buffer[] = [];
  let inflated = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    inflated += chunk.length;
    inspection.addBytes(name, chunk.length);
    if (inflated > entry.uncompressedSize) {
      inspection.refuse('archive-size-mismatch', name, `inflates to more than the ${entry.uncompressedSize} bytes its header declares`);
    }
    if (inflated > ratioLimit) {
      inspection.refuse(
        'archive-compression-ratio',
        name,
        `inflates to more than ${maxCompressionRatio} times its compressed size of ${formatBytes(entry.compressedSize)} (a zip bomb)`,
      );
    }
    if (keep) kept.push(chunk);
  }
  if (inflated !== entry.uncompressedSize) {
    inspection.refuse(
      'archive-size-mismatch',
      name,
      `inflates to ${inflated} bytes, not the ${entry.uncompressedSize} its header declares`,
    );
  }
  return Buffer.concat(kept);
}
