import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { BuildInputs } from '../records/build-records.ts';
import type { Recipe } from '../recipes/recipe.ts';
import { redactUrl } from '../upstream/redact-url.ts';
import type { ResolvedSource } from './resolve-source.ts';

/**
 * The inputs recorded with a build and compared on the next one. The recipe counts by what
 * changes the wheel's bytes (source, patches by content, build, repair), not by its tests, the
 * Pythons or versions it selects, or its comments.
 */
export async function buildInputs({
  source,
  recipe,
  image,
}: {
  source: ResolvedSource;
  recipe: Recipe;
  image: string;
}): Promise<BuildInputs> {
  return { source: sourceIdentity(source), recipe: await recipeHash(recipe), image };
}

export function sourceIdentity(source: ResolvedSource): string {
  const { origin } = source;
  return origin.kind === 'git' ? `git:${redactUrl(origin.url)}@${origin.commit}` : `sha256:${origin.sha256}`;
}

export async function recipeHash(recipe: Recipe): Promise<string> {
  const patches = await Promise.all(
    recipe.patches.map(async (path) =>
      createHash('sha256')
        .update(await readFile(path))
        .digest('hex'),
    ),
  );
  // A recipe asking for no libraries hashes as it did before `build.libraries` existed: no wheel goes stale for it.
  const { libraries, ...withoutLibraries } = recipe.build;
  const build = libraries.length > 0 ? recipe.build : withoutLibraries;
  const relevant = { source: recipe.source, patches, build, repair: recipe.repair };
  return createHash('sha256')
    .update(`wheelfarm-recipe-v1\0${canonicalJson(relevant)}`)
    .digest('hex')
    .slice(0, 16);
}

/** JSON with object keys sorted, so the hash does not depend on the order fields were written in. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}
