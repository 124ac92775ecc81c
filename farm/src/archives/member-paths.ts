/**
 * Where archive members land, worked out on paths alone (nothing is unpacked): the folder an archive
 * is unpacked into is the root, and a path is a list of segments below it.
 */

/** The longest member name or link target we accept, in bytes: Linux's PATH_MAX. */
export const MAX_NAME_BYTES = 4096;

/** Links Linux follows in one lookup before it gives up with ELOOP; a loop cannot climb out. */
const MAX_LINK_HOPS = 40;

export type PathProblemCode = 'archive-absolute-path' | 'archive-path-traversal' | 'archive-bad-member-name';

export interface PathProblem {
  code: PathProblemCode;
  problem: string;
}

/**
 * A member name as segments below the root (`.` and empty segments dropped; `./` itself is the
 * root, `[]`). Backslashes count as separators too, and a leading drive (`C:`) as absolute: Python's
 * zipfile, Windows tools and some installers read names that way, so a name that escapes under
 * either reading is refused. Any `..` is refused, even one that would stay inside (`a/../b`):
 * no tool that makes sdists or wheels writes one.
 */
export function memberSegments(name: string): string[] | PathProblem {
  const bad = badName(name);
  if (bad) return { code: 'archive-bad-member-name', problem: `has a bad name: it ${bad}` };
  if (/^[\\/]/.test(name)) return { code: 'archive-absolute-path', problem: 'has an absolute path' };
  if (/^[A-Za-z]:/.test(name)) return { code: 'archive-absolute-path', problem: `starts with a Windows drive (\`${name.slice(0, 2)}\`)` };
  const segments = name.split(/[\\/]/);
  if (segments.includes('..'))
    return { code: 'archive-path-traversal', problem: 'has a `..` path segment, which climbs out of the folder it is unpacked into' };
  return segments.filter((segment) => segment !== '' && segment !== '.');
}

/**
 * A symlink's target as segments relative to the link's folder; undefined when it is absolute
 * (it then points outside whatever the archive is unpacked into).
 */
export function linkTargetSegments(target: string): string[] | undefined {
  if (/^[\\/]/.test(target) || /^[A-Za-z]:/.test(target)) return undefined;
  return target.split(/[\\/]/).filter((segment) => segment !== '' && segment !== '.');
}

/** Why a name or link target is unusable (`is empty`), or undefined when it is fine. */
export function badName(name: string): string | undefined {
  if (name === '') return 'is empty';
  if (name.includes('\0')) return 'has a NUL byte';
  if (Buffer.byteLength(name) > MAX_NAME_BYTES) return `is longer than ${MAX_NAME_BYTES} bytes`;
  return undefined;
}

/**
 * Where a path lands once the symlinks unpacked so far are followed (`links`: where each link lands,
 * joined with `/`, to its target's segments), or undefined when it climbs above the root. With
 * `followLast: false` the last segment is not followed: unpacking a member replaces a link of its
 * name rather than writing through it.
 */
export function resolvePath(
  segments: readonly string[],
  links: ReadonlyMap<string, readonly string[]>,
  { followLast = true }: { followLast?: boolean } = {},
): string[] | undefined {
  const pending = [...segments];
  const landed: string[] = [];
  let hops = 0;
  while (pending.length > 0) {
    const segment = pending.shift()!;
    if (segment === '..') {
      if (landed.length === 0) return undefined;
      landed.pop();
      continue;
    }
    landed.push(segment);
    if (!followLast && pending.length === 0) break;
    const target = links.get(landed.join('/'));
    if (target === undefined || hops >= MAX_LINK_HOPS) continue;
    hops += 1;
    landed.pop();
    pending.unshift(...target);
  }
  return landed;
}
