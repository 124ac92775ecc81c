import { basename } from 'node:path';
import { UserInputError } from '../errors.ts';
import { ArchiveInspection } from './archive-inspection.ts';
import type { ArchiveSummary } from './archive-inspection.ts';
import { SDIST_LIMITS, resolveLimits } from './archive-limits.ts';
import type { ArchiveLimits } from './archive-limits.ts';
import { inspectTar } from './inspect-tar.ts';
import { inspectZip } from './inspect-zip.ts';

export interface CheckArchiveOptions {
  path: string;
  /** How messages name the archive; default: the file's base name. */
  displayName?: string | undefined;
  /** Over the defaults (SDIST_LIMITS or WHEEL_LIMITS); tests pass small ones. */
  limits?: Partial<ArchiveLimits> | undefined;
  signal?: AbortSignal | undefined;
}

/** Formats told apart by name, as Python's shutil.unpack_archive (which unpacks them in the build container) does. */
const FORMATS = [
  { suffix: '.tar.gz', kind: 'tar', gzip: true },
  { suffix: '.tgz', kind: 'tar', gzip: true },
  { suffix: '.tar', kind: 'tar', gzip: false },
  { suffix: '.zip', kind: 'zip', gzip: false },
] as const;

/**
 * Checks an sdist before anything unpacks it, reading it as a stream from disk: nothing is
 * extracted and memory stays flat. Throws UnsafeArchiveError (exit 5) for a member that would land
 * outside its folder, a link pointing outside, a device file or pipe, or an archive beyond its
 * limits (SDIST_LIMITS: 2 GiB unpacked, 100 000 members).
 */
export async function checkSdist({ path, displayName, limits, signal }: CheckArchiveOptions): Promise<ArchiveSummary> {
  const archive = displayName ?? basename(path);
  const format = FORMATS.find((f) => basename(path).toLowerCase().endsWith(f.suffix));
  if (!format) {
    throw new UserInputError(
      'archive-format-unsupported',
      `${archive} is not an sdist wheelfarm can check: it reads ${FORMATS.map((f) => f.suffix).join(', ')}`,
      {
        hint: "Build from the `.tar.gz` sdist (PEP 625), or repack the source as one and point the recipe's `source` at it.",
      },
    );
  }
  const inspection = new ArchiveInspection({ archive, kind: 'sdist', limits: resolveLimits(SDIST_LIMITS, limits) });
  signal?.throwIfAborted();
  if (format.kind === 'zip') await inspectZip({ path, inspection, signal });
  else await inspectTar({ path, gzip: format.gzip, inspection, signal });
  return inspection.finish();
}
