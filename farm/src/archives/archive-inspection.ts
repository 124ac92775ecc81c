import { UnsafeArchiveError } from '../errors.ts';
import type { ArchiveLimits } from './archive-limits.ts';
import { formatBytes } from './archive-limits.ts';
import { badName, linkTargetSegments, memberSegments, resolvePath } from './member-paths.ts';
import type { ArchiveKind, ArchiveRefusalCode } from './refusal-hints.ts';
import { refusalHint } from './refusal-hints.ts';

/** What a check saw of an archive that passed. */
export interface ArchiveSummary {
  members: number;
  /** Bytes counted against `maxBytes` (see ArchiveLimits). */
  bytes: number;
}

/**
 * The rules every archive format shares, applied member by member in archive order: each path stays
 * inside the folder the archive is unpacked into (also through the archive's own symlinks), links
 * point inside, there are no device files or pipes, and the archive stays within its limits. A
 * format reader (tar, zip) feeds it members; the first problem throws an UnsafeArchiveError that
 * names the archive and the member.
 */
export class ArchiveInspection {
  readonly archive: string;
  readonly kind: ArchiveKind;
  readonly limits: ArchiveLimits;
  #members = 0;
  #bytes = 0;
  /** Symlinks by where they land (segments joined by `/`) to their target, relative to their folder. */
  readonly #links = new Map<string, { member: string; target: string; segments: string[] }>();
  /** The same links as resolvePath reads them: where each lands, to its target's segments. */
  readonly #linkTargets = new Map<string, string[]>();
  /** Where regular files (and hard links) landed: what a later hard link may point at. */
  readonly #files = new Set<string>();

  constructor({ archive, kind, limits }: { archive: string; kind: ArchiveKind; limits: ArchiveLimits }) {
    this.archive = archive;
    this.kind = kind;
    this.limits = limits;
  }

  get #plural(): string {
    return this.kind === 'sdist' ? 'sdists' : 'wheels';
  }

  addDirectory(name: string): void {
    this.#enter(name);
  }

  addFile(name: string): void {
    this.#files.add(this.#enter(name).join('/'));
  }

  /** A symlink: its target, read relative to its own folder, must land inside. */
  addSymlink(name: string, target: string): void {
    const at = this.#enter(name);
    const bad = badName(target);
    if (bad) this.refuse('archive-bad-member-name', name, `is a symlink with a bad target: it ${bad}`);
    const segments = linkTargetSegments(target);
    if (segments === undefined || resolvePath([...at.slice(0, -1), ...segments], this.#linkTargets) === undefined) {
      this.refuse('archive-symlink-outside', name, `is a symlink to \`${show(target)}\`, which points outside the archive`);
    }
    const key = at.join('/');
    this.#links.set(key, { member: name, target, segments });
    this.#linkTargets.set(key, segments);
  }

  /** A tar hard link: its target is a path from the archive's root and must be a file unpacked before it. */
  addHardlink(name: string, target: string): void {
    const at = this.#enter(name);
    const bad = badName(target);
    if (bad) this.refuse('archive-bad-member-name', name, `is a hard link with a bad target: it ${bad}`);
    const segments = memberSegments(target);
    const landed = Array.isArray(segments) ? resolvePath(segments, this.#linkTargets, { followLast: false }) : undefined;
    if (landed === undefined)
      this.refuse('archive-hardlink-outside', name, `is a hard link to \`${show(target)}\`, which is outside the archive`);
    if (!this.#files.has(landed.join('/'))) {
      this.refuse(
        'archive-hardlink-dangling',
        name,
        `is a hard link to \`${show(target)}\`, which is not a file that comes before it in the archive`,
      );
    }
    this.#files.add(at.join('/'));
  }

  /** Device files and pipes: never in an sdist or a wheel. */
  refuseSpecial(name: string, kind: 'character-device' | 'block-device' | 'fifo', device?: { major: number; minor: number }): never {
    this.#enter(name);
    if (kind === 'fifo') this.refuse('archive-fifo', name, 'is a FIFO (named pipe)');
    const numbers = device ? ` (major ${device.major}, minor ${device.minor})` : '';
    return this.refuse('archive-device-file', name, `is a ${kind === 'block-device' ? 'block' : 'character'} device${numbers}`);
  }

  /** Counts a member that is none of the above (a socket, a sparse file, an unknown type). */
  refuseUnsupported(name: string, what: string): never {
    return this.refuse('archive-unsupported-entry', name, what);
  }

  /** Bytes unpacked so far (`total`, never decreasing), while reading `member`. */
  reachBytes(member: string | undefined, total: number): void {
    this.#bytes = Math.max(this.#bytes, total);
    if (total > this.limits.maxBytes) {
      const limit = `${formatBytes(this.limits.maxBytes)} unpacked, the limit for ${this.#plural}`;
      this.refuse('archive-too-large', member, member === undefined ? `expands beyond ${limit}` : `takes the archive beyond ${limit}`);
    }
  }

  addBytes(member: string, count: number): void {
    this.reachBytes(member, this.#bytes + count);
  }

  /**
   * After the last member: a symlink that was fine when it came may point outside once later links
   * are followed (`a -> b/..` first, `b -> .` later), so every link is looked at again.
   */
  finish(): ArchiveSummary {
    for (const [at, link] of this.#links) {
      const folder = at.split('/').slice(0, -1);
      if (resolvePath([...folder, ...link.segments], this.#linkTargets) === undefined) {
        this.refuse(
          'archive-symlink-outside',
          link.member,
          `is a symlink to \`${show(link.target)}\`, which points outside the archive once the symlinks after it are followed`,
        );
      }
    }
    return { members: this.#members, bytes: this.#bytes };
  }

  refuse(code: ArchiveRefusalCode, member: string | undefined, problem: string, cause?: unknown): never {
    throw this.refusal(code, member, problem, cause);
  }

  /** The error for a problem: the archive and the member in the message, what to do in the hint. */
  refusal(code: ArchiveRefusalCode, member: string | undefined, problem: string, cause?: unknown): UnsafeArchiveError {
    const archive = show(this.archive);
    const message = member === undefined ? `${archive} ${problem}` : `${archive}: member \`${show(member)}\` ${problem}`;
    return new UnsafeArchiveError({
      code,
      archive: this.archive,
      member,
      message,
      hint: refusalHint(code, this.kind, this.limits),
      ...(cause === undefined ? {} : { cause }),
    });
  }

  /** Counts a member and checks its name; returns where it lands. */
  #enter(name: string): string[] {
    this.#members += 1;
    if (this.#members > this.limits.maxMembers) {
      this.refuse(
        'archive-too-many-members',
        name,
        `is member number ${this.#members}; ${this.#plural} may hold at most ${this.limits.maxMembers}`,
      );
    }
    const segments = memberSegments(name);
    if (!Array.isArray(segments)) this.refuse(segments.code, name, segments.problem);
    const landed = resolvePath(segments, this.#linkTargets, { followLast: false });
    if (landed === undefined)
      this.refuse('archive-path-traversal', name, 'lands outside the archive through a symlink that comes before it');
    const key = landed.join('/');
    // Unpacking a member replaces a link of the same name.
    this.#links.delete(key);
    this.#linkTargets.delete(key);
    return landed;
  }
}

/**
 * A name as messages show it: control characters escaped (a hostile name must not drive the
 * terminal), and cut short when very long.
 */
export function show(name: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: escaping control characters is the point
  const escaped = name.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029`]/g, (c) => {
    if (c === '`') return '\\`';
    const code = c.charCodeAt(0);
    return code > 0xff ? `\\u${code.toString(16).padStart(4, '0')}` : `\\x${code.toString(16).padStart(2, '0')}`;
  });
  return escaped.length > 300 ? `${escaped.slice(0, 200)}...${escaped.slice(-80)}` : escaped;
}
