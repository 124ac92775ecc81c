import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { expect } from 'vitest';
import { show } from '../../../farm/src/archives/archive-inspection.ts';
import { UnsafeArchiveError } from '../../../farm/src/errors.ts';

/** The committed fixtures (test/fixtures/archives/make-hostile-archives.py writes them). */
export const ARCHIVES = resolve(import.meta.dirname, '..', '..', 'fixtures', 'archives');

export function fixture(name: string): string {
  return join(ARCHIVES, name);
}

export interface TarMember {
  name: string;
  type?: 'file' | 'directory' | 'symlink' | 'link' | 'character-device' | 'block-device' | 'fifo';
  content?: string;
  linkname?: string;
  devmajor?: number;
  devminor?: number;
  /** Extra pax records, e.g. GNU sparse ones. */
  pax?: Record<string, string>;
}

// Python's tarfile, like the fixture script: the archives are made by the library that makes real sdists.
const WRITE_TAR = `
import gzip, io, json, sys, tarfile
spec = json.load(sys.stdin)
types = {"file": tarfile.REGTYPE, "directory": tarfile.DIRTYPE, "symlink": tarfile.SYMTYPE, "link": tarfile.LNKTYPE,
         "character-device": tarfile.CHRTYPE, "block-device": tarfile.BLKTYPE, "fifo": tarfile.FIFOTYPE}
buffer = io.BytesIO()
with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as archive:
    for member in spec["members"]:
        info = tarfile.TarInfo(member["name"])
        info.type = types[member.get("type", "file")]
        info.linkname = member.get("linkname", "")
        info.devmajor, info.devminor = member.get("devmajor", 0), member.get("devminor", 0)
        info.pax_headers = member.get("pax", {})
        data = member.get("content", "").encode()
        info.size = len(data) if info.type == tarfile.REGTYPE else 0
        archive.addfile(info, io.BytesIO(data) if info.size else None)
raw = buffer.getvalue() + bytes(spec["trailing"])
with open(spec["path"], "wb") as out:
    out.write(gzip.compress(raw, compresslevel=1, mtime=0) if spec["gzip"] else raw)
`;

/**
 * A tar (gzip-compressed unless `gzip: false`) made on the fly, for cases the committed fixtures do
 * not cover; `trailing` appends that many zero bytes after the end of the archive.
 */
export function writeTar(
  path: string,
  members: TarMember[],
  { gzip = true, trailing = 0 }: { gzip?: boolean; trailing?: number } = {},
): string {
  execFileSync('python3', ['-c', WRITE_TAR], { input: JSON.stringify({ path, members, gzip, trailing }) });
  return path;
}

/** A fresh temporary folder, removed by the returned function. */
export async function tempDir(): Promise<{ dir: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'wheelfarm-archives-'));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** Awaits a refusal and checks its code, archive and member, and that the message names both. */
export async function expectRefusal(
  promise: Promise<unknown>,
  { code, archive, member }: { code: string; archive: string; member?: string },
): Promise<UnsafeArchiveError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error, 'the archive should have been refused').toBeInstanceOf(UnsafeArchiveError);
  const refusal = error as UnsafeArchiveError;
  expect({ code: refusal.code, archive: refusal.archive, member: refusal.member }).toEqual({ code, archive, member });
  expect(refusal.message).toContain(archive);
  // As messages show names: control characters escaped, very long ones cut short.
  if (member !== undefined) expect(refusal.message).toContain(`member \`${show(member)}\``);
  expect(refusal.hint).toBeTruthy();
  return refusal;
}

export interface ZipMember {
  name: string;
  content?: string;
  /** Unix mode, file type included (0o100644 by default). */
  mode?: number;
  method?: 'stored' | 'deflated' | 'bzip2' | 'lzma';
}

const WRITE_ZIP = `
import json, sys, zipfile
spec = json.load(sys.stdin)
methods = {"stored": zipfile.ZIP_STORED, "deflated": zipfile.ZIP_DEFLATED, "bzip2": zipfile.ZIP_BZIP2, "lzma": zipfile.ZIP_LZMA}
with zipfile.ZipFile(spec["path"], "w") as archive:
    for member in spec["members"]:
        info = zipfile.ZipInfo(member["name"], (1980, 1, 1, 0, 0, 0))
        info.create_system = 3
        info.external_attr = member.get("mode", 0o100644) << 16
        info.compress_type = methods[member.get("method", "deflated")]
        archive.writestr(info, member.get("content", "").encode())
`;

/** A zip made on the fly by Python's zipfile (the library that writes most wheels). */
export function writeZip(path: string, members: ZipMember[]): string {
  execFileSync('python3', ['-c', WRITE_ZIP], { input: JSON.stringify({ path, members }) });
  return path;
}
