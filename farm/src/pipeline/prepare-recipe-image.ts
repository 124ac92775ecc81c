import { UserInputError } from '../errors.ts';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { PreparedDefinitions } from '../images/ensure-images.ts';
import { withImageBuildLog } from '../images/image-build-log.ts';
import { ensureRecipeImage, planRecipeImage, readRecipeTemplate } from '../images/recipe-image.ts';
import type { RecipeImagePlan } from '../images/recipe-image.ts';
import { resolveRust } from '../images/rust-toolchain.ts';
import { resolveToolchains } from '../images/toolchains.ts';
import type { Recipe } from '../recipes/recipe.ts';
import type { ResolvedSettings } from '../config/settings.ts';
import type { ContainerRuntime } from '../runtime/container-runtime.ts';
import type { ImageDeps } from './prepare-images.ts';

/**
 * prepare (recipe): the image a recipe's cells build in. The build image itself when the recipe
 * needs nothing more; else the recipe image for its packages and toolchains, built once and then
 * reused by every recipe with the same needs.
 */
export async function prepareRecipeImage(
  runtime: ContainerRuntime,
  deps: Pick<ImageDeps, 'settings' | 'trust' | 'emit' | 'signal'>,
  { prepared, buildImage, recipe }: { prepared: PreparedDefinitions; buildImage: string; recipe: Recipe },
): Promise<string> {
  const { settings, trust, emit, signal } = deps;
  const plan = await recipeImagePlan(settings, { prepared, buildImage, recipe });
  if (!plan) return buildImage;
  const where = recipe.file ?? `the recipe of ${recipe.name}`;
  if (await runtime.inspectImage(plan.tag)) {
    emit({ type: 'image', kind: 'recipe', tag: plan.tag, status: 'present' });
    return plan.tag;
  }
  await mkdir(join(settings.home, 'tmp'), { recursive: true });
  await withImageBuildLog(
    { home: settings.home, onEvent: emit },
    { kind: 'recipe', tag: plan.tag, hint: `check build.system and build.toolchains in ${where}` },
    (write) =>
      ensureRecipeImage({
        runtime,
        plan,
        buildImage,
        hostCaPath: trust.caPath,
        buildArgs: trust.proxyEnv,
        workDir: join(settings.home, 'tmp'),
        onOutput: write,
        signal,
      }).then(() => undefined),
  );
  return plan.tag;
}

/** The recipe image a recipe's cells build in (its tag is known without any engine), or undefined for the build image itself. */
export async function recipeImagePlan(
  settings: Pick<ResolvedSettings, 'imagesDir' | 'rust'>,
  { prepared, buildImage, recipe }: { prepared: PreparedDefinitions; buildImage: string; recipe: Recipe },
): Promise<RecipeImagePlan | undefined> {
  const manager = 'upstream' in prepared.loaded.definitions.base ? 'dnf' : 'apt';
  const where = recipe.file ?? `the recipe of ${recipe.name}`;
  if (recipe.build.libraries.length > 0) {
    // The definitions are read and checked (recipes/libraries/); building them into image layers comes next.
    throw new UserInputError(
      'libraries-not-built-yet',
      `${where} asks for native libraries (${recipe.build.libraries.map((l) => l.name).join(', ')}), which this farm cannot build from source yet`,
      {
        hint: "remove `build.libraries` and use the distribution's -dev packages (`build.system`) meanwhile",
      },
    );
  }
  const toolchains = resolveToolchains(recipe.build, manager, where);
  const rust = toolchains.rust ? await resolveRust(settings.rust, toolchains.rust.version, where) : undefined;
  return planRecipeImage({
    template: await readRecipeTemplate(settings.imagesDir),
    buildImage,
    manager,
    toolchains,
    rust,
    userName: prepared.loaded.definitions.user.name,
  });
}
