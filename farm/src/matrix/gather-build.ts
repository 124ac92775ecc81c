import { UserInputError } from '../errors.ts';
import { imagePythons } from '../images/image-definitions.ts';
import type { PackageSpec } from '../pipeline/parse-package-spec.ts';
import type { ResolveDeps } from '../pipeline/resolve-source.ts';
import { resolveSource } from '../pipeline/resolve-source.ts';
import type { SdistFetcher } from '../pipeline/sdist-fetcher.ts';
import { loadRecipe } from '../recipes/load-recipe.ts';
import { describePackage, planEnvironment, readPreparedDefinitions } from './gather-parts.ts';
import type { GatherDeps, GatheredMatrix } from './gather-parts.ts';

/**
 * What `wheelfarm build NAME[==VERSION]` plans from: the package's recipe, its release (the one
 * asked for, else the newest its recipe admits) resolved and its sdist fetched (so a bad sdist stops
 * the command before any image or container), and the Pythons asked for (default: every Python of
 * the build image). Anything wrong with the input is an error here, not a problem of the plan.
 */
export async function gatherBuild(
  deps: GatherDeps & ResolveDeps & { sdists: SdistFetcher },
  { spec, pythons, rebuild = false, now = new Date() }: { spec: PackageSpec; pythons?: string[]; rebuild?: boolean; now?: Date },
): Promise<GatheredMatrix> {
  const recipe = await loadRecipe({ recipesDir: deps.settings.recipesDir, name: spec.name });
  const prepared = await readPreparedDefinitions(deps.settings);
  const available = imagePythons(prepared.loaded.definitions);
  const unknown = (pythons ?? []).filter((p) => !available.has(p));
  if (unknown.length > 0) {
    throw new UserInputError('python-not-in-image', `the build image has no Python ${unknown.join(', ')}`, {
      hint: `choose from ${[...available.keys()].join(', ')}, or add a CPython to ${prepared.loaded.file}`,
    });
  }
  const source = await resolveSource(deps, spec, recipe);
  await deps.sdists.fetch(source);
  const pkg = await describePackage(deps, prepared, recipe, async () => [source]);
  const environment = await planEnvironment(deps, prepared, {
    pythons: pythons ?? [...available.keys()],
    projects: [recipe.name],
    now,
    rebuild,
  });
  return { packages: [pkg], problems: [], environment, prepared, skipped: new Map() };
}
