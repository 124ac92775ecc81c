import { describeValue } from '../errors.ts';

/**
 * How far one archive may expand before the farm refuses it (archive bombs). A caller may pass other
 * values (tests pass small ones); the defaults below are for the archives a farm sees every day.
 */
export interface ArchiveLimits {
  /**
   * Bytes it may unpack to. For tar, the whole uncompressed tar stream (data, headers and padding,
   * so a compressed stream of zero blocks is stopped too); for zip, the members' inflated bytes,
   * counted as they inflate: a declared size is never trusted.
   */
  maxBytes: number;
  /** Members (files, folders, links) it may hold. */
  maxMembers: number;
  /**
   * zip only: how many times its compressed size one member may inflate to. Members that inflate to
   * less than RATIO_FREE_BYTES are exempt: a small file of spaces may compress 500:1 and harm no one.
   */
  maxCompressionRatio: number;
}

const GiB = 1024 ** 3;

/** Inflated bytes a zip member may reach before the ratio limit applies to it. */
export const RATIO_FREE_BYTES = 1024 * 1024;

/**
 * sdists: 2 GiB unpacked and 100 000 members, far above the biggest real ones (a few hundred MB and
 * some tens of thousands of files).
 */
export const SDIST_LIMITS: Readonly<ArchiveLimits> = Object.freeze({ maxBytes: 2 * GiB, maxMembers: 100_000, maxCompressionRatio: 200 });

/**
 * Wheels: 8 GiB unpacked and 200 000 members; CUDA wheels reach a few GiB. Deflate cannot pass
 * about 1 000:1, and real wheels stay far below 200:1 for any member above a megabyte.
 */
export const WHEEL_LIMITS: Readonly<ArchiveLimits> = Object.freeze({ maxBytes: 8 * GiB, maxMembers: 200_000, maxCompressionRatio: 200 });

/** The defaults with the caller's values over them, each checked up front. */
export function resolveLimits(defaults: Readonly<ArchiveLimits>, overrides: Partial<ArchiveLimits> = {}): ArchiveLimits {
  if (typeof overrides !== 'object' || overrides === null) {
    throw new TypeError(`Expected \`limits\` to be an object, got ${describeValue(overrides)}`);
  }
  const limits = { ...defaults };
  for (const key of Object.keys(overrides) as (keyof ArchiveLimits)[]) {
    if (!(key in defaults))
      throw new TypeError(`Unknown archive limit \`${String(key)}\`; expected one of ${Object.keys(defaults).join(', ')}`);
    const value: unknown = overrides[key];
    if (value === undefined) continue;
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
      throw new TypeError(`Expected \`limits.${key}\` to be a whole number >= 1, got ${describeValue(value)}`);
    }
    limits[key] = value;
  }
  return limits;
}

/** `1.5 GiB`, `64 KiB`, `300 bytes`: sizes in messages. */
export function formatBytes(bytes: number): string {
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  if (bytes < 1024) return `${bytes} bytes`;
  let value = bytes;
  let unit = 'bytes';
  for (const next of units) {
    if (value < 1024) break;
    value /= 1024;
    unit = next;
  }
  return `${Number.isInteger(value) ? value : value.toFixed(1)} ${unit}`;
}
