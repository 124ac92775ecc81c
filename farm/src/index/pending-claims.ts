import { PENDING_NOTES, pendingNoteKey, SERVING } from './index-layout.ts';
import { NORMALIZED_PROJECT } from './project-manifest.ts';
import type { IndexStorage } from './storage/index-storage.ts';
import { updateObject } from './update-object.ts';

/**
 * A project's pending note (`.wheelfarm/pending/<project>`) lists the publishes that may owe it its
 * pages, a line each: `<filename> <sha256>`. A publish adds its line before it stores anything and
 * takes it out once the pages link the wheel (or, when it fails before its manifest lists the wheel,
 * once it has taken back what it stored). So a line left behind is a publish that stopped: killed, or
 * failed after the manifest. settlePending(), first thing in every run, writes the pages of each noted
 * project and clears the lines it read. Lines are added and taken out by compare-and-swap, so the note
 * is there as long as any publish to the project is under way.
 *
 * The lines also tell a publish that finds other bytes stored under its filename, not listed yet,
 * whether a publish with those bytes is under way (a line of the filename with other bytes: a conflict)
 * or they are the debris of one that stopped (no such line: they are replaced).
 *
 * A store cannot tell a dead publish's line from a live one's, so settlePending clears the lines of
 * publishes still under way too, when it runs at the same moment. Such a publish writes its own pages
 * anyway; what it loses is the protection of its unlisted file against a third publish, with other
 * bytes under the same filename, in that same moment.
 */
export interface Claim {
  filename: string;
  /** Undefined in the notes of wheelfarm versions that wrote only the filename. */
  sha256: string | undefined;
}

/** The claims in the note of `normalized`: none when there is no note. */
export async function readClaims(storage: IndexStorage, normalized: string): Promise<Claim[]> {
  const stored = await storage.get(pendingNoteKey(normalized));
  return stored ? parseClaims(stored.body) : [];
}

/** Adds `claim` to the note of `normalized` (creating it). */
export function addClaim(storage: IndexStorage, normalized: string, claim: Claim): Promise<void> {
  return updateClaims(storage, normalized, (current) => [...current, claim]);
}

/** Takes each of `claims` out of the note of `normalized` once (removing the note when none is left); lines added meanwhile stay. */
export function dropClaims(storage: IndexStorage, normalized: string, claims: Claim[]): Promise<void> {
  return updateClaims(storage, normalized, (current) => {
    const remaining = [...current];
    for (const claim of claims) {
      const index = remaining.findIndex((each) => each.filename === claim.filename && each.sha256 === claim.sha256);
      if (index >= 0) remaining.splice(index, 1);
    }
    return remaining;
  });
}

/** The projects with a pending note. */
export async function listNotedProjects(storage: IndexStorage): Promise<string[]> {
  return (await storage.list(PENDING_NOTES)).filter((name) => NORMALIZED_PROJECT.test(name));
}

function updateClaims(storage: IndexStorage, normalized: string, change: (current: Claim[]) => Claim[]): Promise<void> {
  return updateObject(storage, pendingNoteKey(normalized), {
    parse: parseClaims,
    edit: (current) => {
      const next = change(current ?? []);
      if (current !== undefined && next.length === current.length && next.every((claim, index) => claim === current[index])) {
        return { result: undefined };
      }
      return { next: next.length > 0 ? next : 'delete', result: undefined };
    },
    serialize: (claims) => claims.map((claim) => `${claim.filename}${claim.sha256 ? ` ${claim.sha256}` : ''}\n`).join(''),
    serving: SERVING.note,
  });
}

function parseClaims(body: Buffer): Claim[] {
  return body
    .toString('utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const [filename = '', sha256] = line.trim().split(/\s+/);
      return { filename, sha256 };
    });
}
