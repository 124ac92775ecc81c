import { SIMPLE_JSON_TYPE } from './render-simple-json.ts';
import type { Serving } from './storage/index-storage.ts';

/**
 * Where everything of an index wheelfarm writes itself lives, relative to its root (a directory, an S3
 * prefix), and how each kind is served. The same on every storage: `wheelfarm serve`, pip and older
 * wheelfarm versions read it.
 *
 *   files/<project>/<file>                    the wheels, never replaced once listed
 *   files/<project>/<file>.metadata           PEP 658 core metadata (see companion-files.ts)
 *   simple/<project>/index.html, index.json   project pages (PEP 503, PEP 691), also at `simple/<project>/`
 *                                             where the storage does not serve a directory's index.html
 *   simple/index.html, index.json             root pages
 *   .wheelfarm/projects/<project>.json        per-project manifest, the source of truth pages are rendered from
 *   .wheelfarm/pending/<project>              the publishes that owe the project its pages (see pending-claims.ts)
 */
export const MANIFESTS = '.wheelfarm/projects/';
export const PENDING_NOTES = '.wheelfarm/pending/';
export const ROOT_PAGES = 'simple/';

export function fileKey(normalized: string, filename: string): string {
  return `files/${normalized}/${filename}`;
}

export function manifestKey(normalized: string): string {
  return `${MANIFESTS}${normalized}.json`;
}

export function pendingNoteKey(normalized: string): string {
  return `${PENDING_NOTES}${normalized}`;
}

export function projectPages(normalized: string): string {
  return `${ROOT_PAGES}${normalized}/`;
}

/** The project's own places: its files and its pages. */
export function ownedByProject(normalized: string): string[] {
  return [`files/${normalized}/`, projectPages(normalized)];
}

/** Where publishes of every project write: one entry per project at most. */
export const SHARED_BY_PUBLISHES = [MANIFESTS, PENDING_NOTES, ROOT_PAGES];

/** Where a publish to the project writes, so where a dead writer's leftovers are swept before it does. */
export function writtenByPublish(normalized: string): string[] {
  return [...ownedByProject(normalized), ...SHARED_BY_PUBLISHES];
}

const FILE_CACHE = 'public, max-age=31536000, immutable';
const PAGE_CACHE = 'public, max-age=60';

export const SERVING = {
  wheel: { contentType: 'application/octet-stream', cacheControl: FILE_CACHE },
  coreMetadata: { contentType: 'text/plain; charset=utf-8', cacheControl: FILE_CACHE },
  html: { contentType: 'text/html; charset=utf-8', cacheControl: PAGE_CACHE },
  json: { contentType: SIMPLE_JSON_TYPE, cacheControl: PAGE_CACHE },
  manifest: { contentType: 'application/json', cacheControl: 'no-cache' },
  note: { contentType: 'text/plain' },
} satisfies Record<string, Serving>;
