import { satisfies } from '@renovatebot/pep440';
import type { Recipe } from '../recipes/recipe.ts';

export interface ReleasePolicy {
  /** Newest N admitted releases (the recipe's `latest`, else the settings'). */
  latest: number;
  /** Pre-releases count as releases. */
  prereleases: boolean;
}

export interface ChosenReleases {
  versions: string[];
  /** Why the newest versions that were left out were left out, for the plan's readers. */
  skipped: { version: string; reason: string }[];
}

const SKIPPED_SHOWN = 5;

/**
 * Which upstream versions the matrix keeps built for a recipe (pure): the releases with an sdist,
 * newest first, that the recipe's `versions` specifier admits, without pre-releases unless asked,
 * the newest `latest` of them.
 */
export function chooseReleases(
  releases: { version: string; prerelease: boolean }[],
  recipe: Pick<Recipe, 'versions' | 'latest'>,
  policy: ReleasePolicy,
): ChosenReleases {
  const latest = recipe.latest ?? policy.latest;
  const chosen: ChosenReleases = { versions: [], skipped: [] };
  for (const release of releases) {
    let reason: string | undefined;
    if (release.prerelease && !policy.prereleases) reason = 'pre-release';
    else if (recipe.versions !== undefined && !satisfies(release.version, recipe.versions)) reason = `outside versions ${recipe.versions}`;
    else if (chosen.versions.length >= latest) reason = `older than the newest ${latest}`;
    if (reason === undefined) chosen.versions.push(release.version);
    else if (chosen.skipped.length < SKIPPED_SHOWN && chosen.versions.length < latest)
      chosen.skipped.push({ version: release.version, reason });
  }
  return chosen;
}
