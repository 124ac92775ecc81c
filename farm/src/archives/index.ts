/**
 * Hostile archives: every sdist is checked before a container unpacks it, and every wheel before an
 * index serves it, on the host and as a stream. A refusal is an UnsafeArchiveError (errors.ts).
 */
export { checkSdist } from './check-sdist.ts';
export type { CheckArchiveOptions } from './check-sdist.ts';
export { checkWheel } from './check-wheel.ts';
export { RATIO_FREE_BYTES, SDIST_LIMITS, WHEEL_LIMITS } from './archive-limits.ts';
export type { ArchiveLimits } from './archive-limits.ts';
export type { ArchiveSummary } from './archive-inspection.ts';
export type { ArchiveKind, ArchiveRefusalCode } from './refusal-hints.ts';
