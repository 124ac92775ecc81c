import type { PreparedDefinitions } from '../images/ensure-images.ts';
import type { ImageDeps } from '../pipeline/prepare-images.ts';
import { prepareRecipeImage } from '../pipeline/prepare-recipe-image.ts';
import type { Recipe } from '../recipes/recipe.ts';
import { defaultRecipe } from '../recipes/recipe.ts';
import type { ContainerRuntime } from '../runtime/container-runtime.ts';
import type { ApplicationInput } from './application-input.ts';

/**
 * The image the resolver runs in. pip must build the metadata of a release that has only an sdist,
 * and some sdists need their system libraries for that (psycopg2's setup.py runs `pg_config`): so
 * when recipes of the application's requirements name system packages, the resolver runs in a
 * recipe image with all of them (built once, reused while they are the same); else in the build image.
 */
export async function prepareResolverImage(
  runtime: ContainerRuntime,
  deps: Pick<ImageDeps, 'settings' | 'trust' | 'emit' | 'signal' | 'sources'>,
  {
    prepared,
    buildImage,
    inputs,
    recipe,
  }: { prepared: PreparedDefinitions; buildImage: string; inputs: ApplicationInput[]; recipe: (name: string) => Promise<Recipe> },
): Promise<string> {
  const names = [
    ...new Set(
      inputs.flatMap((input) => (input.kind === 'requirements' ? input.lines.filter((l) => !l.constraint).map((l) => l.name) : [])),
    ),
  ];
  const recipes = await Promise.all(names.map(recipe));
  const apt = [...new Set(recipes.flatMap((r) => r.build.system.apt))].sort();
  const dnf = [...new Set(recipes.flatMap((r) => r.build.system.dnf))].sort();
  if (apt.length === 0 && dnf.length === 0) return buildImage;
  const merged = defaultRecipe('wheelfarm-resolver');
  merged.build = { ...merged.build, system: { apt, dnf } };
  return prepareRecipeImage(runtime, deps, { prepared, buildImage, recipe: merged });
}
