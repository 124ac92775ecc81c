import { basename } from 'node:path';
import { ArchiveInspection } from './archive-inspection.ts';
import type { ArchiveSummary } from './archive-inspection.ts';
import { WHEEL_LIMITS, resolveLimits } from './archive-limits.ts';
import type { CheckArchiveOptions } from './check-sdist.ts';
import { inspectZip } from './inspect-zip.ts';

/**
 * Checks a wheel before an index serves it: every member inflated and counted as a stream (wheels
 * reach several GiB), no name or link that lands outside, no device file, and within WHEEL_LIMITS
 * (8 GiB unpacked, 200 000 members, 200:1 per member). Throws UnsafeArchiveError (exit 5).
 */
export async function checkWheel({ path, displayName, limits, signal }: CheckArchiveOptions): Promise<ArchiveSummary> {
  const inspection = new ArchiveInspection({
    archive: displayName ?? basename(path),
    kind: 'wheel',
    limits: resolveLimits(WHEEL_LIMITS, limits),
  });
  signal?.throwIfAborted();
  await inspectZip({ path, inspection, signal });
  return inspection.finish();
}
