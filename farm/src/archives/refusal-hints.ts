import type { ArchiveLimits } from './archive-limits.ts';
import { formatBytes } from './archive-limits.ts';

/** What the farm checks: an sdist before a container unpacks it, a wheel before an index serves it. */
export type ArchiveKind = 'sdist' | 'wheel';

/** Every way an archive is refused; each is a stable `code` of UnsafeArchiveError. */
export type ArchiveRefusalCode =
  | 'archive-path-traversal'
  | 'archive-absolute-path'
  | 'archive-bad-member-name'
  | 'archive-symlink-outside'
  | 'archive-hardlink-outside'
  | 'archive-hardlink-dangling'
  | 'archive-device-file'
  | 'archive-fifo'
  | 'archive-unsupported-entry'
  | 'archive-too-large'
  | 'archive-too-many-members'
  | 'archive-compression-ratio'
  | 'archive-size-mismatch'
  | 'archive-header-mismatch'
  | 'archive-duplicate-member'
  | 'archive-unreadable';

type Family = 'escape' | 'special' | 'bomb' | 'malformed';

const FAMILY: Record<ArchiveRefusalCode, Family> = {
  'archive-path-traversal': 'escape',
  'archive-absolute-path': 'escape',
  'archive-bad-member-name': 'malformed',
  'archive-symlink-outside': 'escape',
  'archive-hardlink-outside': 'escape',
  'archive-hardlink-dangling': 'escape',
  'archive-device-file': 'special',
  'archive-fifo': 'special',
  'archive-unsupported-entry': 'malformed',
  'archive-too-large': 'bomb',
  'archive-too-many-members': 'bomb',
  'archive-compression-ratio': 'bomb',
  'archive-size-mismatch': 'malformed',
  'archive-header-mismatch': 'malformed',
  'archive-duplicate-member': 'malformed',
  'archive-unreadable': 'malformed',
};

/**
 * What to do about a refused archive. An sdist comes from upstream, so the advice is to build
 * something else and tell someone; a wheel comes from our own build, so it is to look at the build.
 */
export function refusalHint(code: ArchiveRefusalCode, kind: ArchiveKind, limits: ArchiveLimits): string {
  const family = FAMILY[code];
  if (kind === 'wheel') {
    const what =
      family === 'bomb'
        ? `goes beyond the limits for wheels (${formatBytes(limits.maxBytes)} unpacked, ${limits.maxMembers} members, ${limits.maxCompressionRatio}:1 per member)`
        : 'is not safe to install';
    return `Nothing was published: the wheel the build produced ${what}. Check what the recipe's build steps and the package's build backend put into it (\`python -m zipfile -l WHEEL\`).`;
  }
  switch (family) {
    case 'escape':
      return "Do not build it: unpacking it could write or link outside its folder. Report it to the project (or your security team) and build another version, or point the recipe's `source` at an archive you trust.";
    case 'special':
      return "Do not build it: sdists hold files, folders and links, never device files or pipes. Report it to the project and build another version, or point the recipe's `source` at an archive you trust.";
    case 'bomb':
      return `The limits for sdists (${formatBytes(limits.maxBytes)} unpacked, ${limits.maxMembers} members) keep archive bombs off the farm. If this sdist is genuine, repack what the build needs and point the recipe's \`source\` at that archive.`;
    case 'malformed':
      return "The sdist is damaged or crafted to be read differently by different tools; build another version, or point the recipe's `source` at an archive you trust.";
  }
}
