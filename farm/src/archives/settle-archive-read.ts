import { UnsafeArchiveError, interruption } from '../errors.ts';
import type { ArchiveInspection } from './archive-inspection.ts';

/**
 * Waits for every part of one read of an archive (the byte stream, the member loop) and turns what
 * went wrong into one error: a refusal as it is; an abort as the run's interruption; a file that
 * cannot be opened as it is (not the archive's fault); anything else (bad gzip data, a broken tar
 * header, a zip without a central directory) as `archive-unreadable`.
 */
export async function settleArchiveRead({
  inspection,
  signal,
  format,
  reads,
}: {
  inspection: ArchiveInspection;
  signal?: AbortSignal | undefined;
  /** For the message: `gzip-compressed tar archive`, `zip archive`. */
  format: string;
  reads: Promise<unknown>[];
}): Promise<void> {
  const errors = (await Promise.allSettled(reads)).flatMap((result) => (result.status === 'rejected' ? [result.reason as unknown] : []));
  if (errors.length === 0) return;
  throw archiveReadError({ inspection, signal, format, errors });
}

export function archiveReadError({
  inspection,
  signal,
  format,
  errors,
}: {
  inspection: ArchiveInspection;
  signal?: AbortSignal | undefined;
  format: string;
  errors: unknown[];
}): unknown {
  const refusal = errors.find((error) => error instanceof UnsafeArchiveError);
  if (refusal) return refusal;
  if (signal?.aborted) return interruption(signal);
  const fileError = errors.find((error) => typeof (error as NodeJS.ErrnoException | undefined)?.syscall === 'string');
  if (fileError) return fileError;
  const [first] = errors;
  return inspection.refusal(
    'archive-unreadable',
    undefined,
    `is not a readable ${format}: ${first instanceof Error ? first.message : String(first)}`,
    first,
  );
}
