import { z } from 'zod';
import { eq, valid } from '@renovatebot/pep440';
import { UserInputError } from '../errors.ts';
import { parseWheelFilename } from '../wheels/wheel-filename.ts';
import type { PublishedFile } from './publisher.ts';

const fileSchema = z.object({
  filename: z.string().min(1),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  size: z.number().int().nonnegative(),
  requiresPython: z.string().optional(),
  /** PEP 658: sha256 of `<filename>.metadata`; absent for files published before it was written. */
  coreMetadataSha256: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .optional(),
  /** When the file was published (ISO 8601, UTC): PEP 700's `upload-time`. */
  uploadTime: z.string().optional(),
  /** PEP 592: yanked, with the reason (`true`: no reason given). */
  yanked: z.union([z.literal(true), z.string()]).optional(),
});

/** A manifest's file name, `<normalized project>.json`: the project is the first group. */
export const MANIFEST_FILE_NAME = /^([a-z0-9](?:[a-z0-9-]*[a-z0-9])?)\.json$/;
/** A normalized project name (PEP 503), as the index's own file and key names carry it. */
export const NORMALIZED_PROJECT = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/;

export type ManifestFile = z.infer<typeof fileSchema>;

const manifestSchema = z.object({
  schemaVersion: z.literal(1),
  /** Display name, as first published. */
  name: z.string().min(1),
  normalized: z.string().min(1),
  files: z.array(fileSchema),
});

/**
 * What an index wheelfarm writes itself serves for one project. The pages are rendered from it, so a
 * publish costs work in proportion to the project, not to the whole index.
 */
export type ProjectManifest = z.infer<typeof manifestSchema>;

/** A manifest's text as stored (the format is the same on every storage). Throws on a bad one. */
export function parseProjectManifest(text: string): ProjectManifest {
  return manifestSchema.parse(JSON.parse(text));
}

/** A manifest as stored: its files sorted by filename, so the same manifest is always the same bytes. */
export function serializeProjectManifest(manifest: ProjectManifest): string {
  const files = [...manifest.files].sort((a, b) => (a.filename < b.filename ? -1 : a.filename > b.filename ? 1 : 0));
  return `${JSON.stringify({ ...manifest, files }, null, 2)}\n`;
}

/**
 * PEP 592 on a manifest: yank (with an optional reason) or unyank every file of one version.
 * Pure: the caller stores the result. `where` names the index in the error.
 */
export function applyYank(
  manifest: ProjectManifest | undefined,
  { project, version, yanked, where }: { project: string; version: string; yanked: { reason?: string } | false; where: string },
): { updated: ProjectManifest; changed: string[] } {
  const matching = (manifest?.files ?? []).filter((file) => versionMatches(file.filename, version));
  if (!manifest || matching.length === 0) {
    const published = [...new Set((manifest?.files ?? []).map((f) => versionOf(f.filename)).filter(Boolean))];
    throw new UserInputError('version-not-published', `${project} ${version} is not in ${where}`, {
      hint: published.length > 0 ? `published versions: ${published.join(', ')}` : `nothing of ${project} is published there`,
    });
  }
  const changed: string[] = [];
  const files = manifest.files.map((file) => {
    if (!matching.includes(file)) return file;
    const { yanked: _previous, ...rest } = file;
    const next: ManifestFile = yanked === false ? rest : { ...rest, yanked: yanked.reason ? yanked.reason : true };
    if (next.yanked !== file.yanked) changed.push(file.filename);
    return next;
  });
  return { updated: { ...manifest, files }, changed };
}

function versionOf(filename: string): string | undefined {
  try {
    return parseWheelFilename(filename).version;
  } catch {
    return undefined;
  }
}

function versionMatches(filename: string, version: string): boolean {
  const own = versionOf(filename);
  return own !== undefined && valid(version) !== null && eq(own, version);
}

/** What a manifest says the index serves, as the publisher port reports it. */
export function publishedFiles(manifest: ProjectManifest | undefined): PublishedFile[] {
  return (manifest?.files ?? []).map(({ filename, sha256, size, requiresPython }) => ({
    filename,
    sha256,
    size,
    ...(requiresPython ? { requiresPython } : {}),
  }));
}
