import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { PreparedDefinitions } from '../images/ensure-images.ts';
import { ensureFromSourceImages } from '../images/ensure-from-source.ts';
import { planFromSourceImage, readFromSourceTemplate } from '../images/from-source-image.ts';
import type { FromSourceImagePlan } from '../images/from-source-image.ts';
import { withImageBuildLog } from '../images/image-build-log.ts';
import { ensureRecipeImage, planRecipeImage, readRecipeTemplate } from '../images/recipe-image.ts';
import type { RecipeImagePlan } from '../images/recipe-image.ts';
import { resolveRust } from '../images/rust-toolchain.ts';
import { resolveToolchains } from '../images/toolchains.ts';
import type { PackageManager } from '../images/toolchains.ts';
import type { Recipe } from '../recipes/recipe.ts';
import { checkRecipeLibraries } from '../recipes/libraries/recipe-libraries.ts';
import type { ResolvedSettings } from '../config/settings.ts';
import type { ContainerRuntime } from '../runtime/container-runtime.ts';
import { LABEL } from '../runtime/labels.ts';
import type { NativeComponent } from '../records/build-records.ts';
import type { ImageDeps } from './prepare-images.ts';

/**
 * prepare (recipe): the image a recipe's cells build in. The build image itself when the recipe
 * needs nothing more; else the recipe image for its packages, toolchains and libraries built from
 * source (each of those an image of its own, built first), built once and then reused by every
 * recipe with the same needs.
 */
export async function prepareRecipeImage(
  runtime: ContainerRuntime,
  deps: Pick<ImageDeps, 'settings' | 'trust' | 'emit' | 'signal' | 'sources'>,
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
  const context = { runtime, home: settings.home, onEvent: emit, signal, buildArgs: trust.proxyEnv };
  await ensureFromSourceImages(
    { ...context, baseImage: prepared.plan.base.tag, sourceCache: deps.sources, debianMirror: settings.debianMirror },
    plan.fromSource,
  );
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
  settings: Pick<ResolvedSettings, 'imagesDir' | 'recipesDir' | 'rust'>,
  { prepared, buildImage, recipe }: { prepared: PreparedDefinitions; buildImage: string; recipe: Recipe },
): Promise<RecipeImagePlan | undefined> {
  const manager = 'upstream' in prepared.loaded.definitions.base ? 'dnf' : 'apt';
  const where = recipe.file ?? `the recipe of ${recipe.name}`;
  const fromSource = await fromSourcePlans(settings, { prepared, recipe, manager });
  // What the libraries and toolchains were built with is installed beside them: the shared
  // libraries they link (libgit2's http-parser, GCC's GMP/MPFR/MPC) must be there to link and graft.
  const system = {
    ...recipe.build.system,
    [manager]: [...recipe.build.system[manager], ...fromSource.flatMap((p) => p.definition.system[manager])],
  };
  const toolchains = resolveToolchains({ ...recipe.build, system }, manager, where);
  const rust = toolchains.rust ? await resolveRust(settings.rust, toolchains.rust.version, where) : undefined;
  return planRecipeImage({
    template: await readRecipeTemplate(settings.imagesDir),
    buildImage,
    manager,
    toolchains,
    rust,
    userName: prepared.loaded.definitions.user.name,
    fromSource,
  });
}

/** The images of the recipe's toolchains and libraries built from source, in the order to build them. */
async function fromSourcePlans(
  settings: Pick<ResolvedSettings, 'imagesDir' | 'recipesDir'>,
  { prepared, recipe, manager }: { prepared: PreparedDefinitions; recipe: Recipe; manager: PackageManager },
): Promise<FromSourceImagePlan[]> {
  const wanted = await checkRecipeLibraries({ file: recipe.file, recipesDir: settings.recipesDir, build: recipe.build });
  if (wanted.toolchains.length === 0 && wanted.libraries.length === 0) return [];
  const template = await readFromSourceTemplate(settings.imagesDir);
  const common = { template, baseImage: prepared.plan.base.tag, manager };
  const plans: FromSourceImagePlan[] = wanted.toolchains.map((definition) =>
    planFromSourceImage({ ...common, kind: 'toolchain', definition, dependencies: [] }),
  );
  const byName = new Map<string, FromSourceImagePlan>();
  for (const definition of wanted.libraries) {
    const dependencies = closureOf(
      definition.depends.map((d) => d.name),
      byName,
    );
    const plan = planFromSourceImage({ ...common, kind: 'library', definition, dependencies });
    byName.set(definition.name, plan);
    plans.push(plan);
  }
  return plans;
}

/** The plans of `names` and of everything they depend on (a library is linked against its dependencies' dependencies too). */
function closureOf(names: string[], byName: Map<string, FromSourceImagePlan>): FromSourceImagePlan[] {
  const found = new Map<string, FromSourceImagePlan>();
  const visit = (name: string) => {
    const plan = byName.get(name)!;
    if (found.has(name)) return;
    for (const dependency of plan.definition.depends) visit(dependency.name);
    found.set(name, plan);
  };
  for (const name of names) visit(name);
  return [...found.values()];
}

/** What a build record says of one library or toolchain image, before it is built (the first pinned source's sha256). */
export function nativeComponent(plan: FromSourceImagePlan): NativeComponent {
  const { name, version, sources } = plan.definition;
  return { kind: plan.kind, name, version, sha256: sources[0]!.sha256, image: plan.tag };
}

/** The components with the sha256 of the source each image was built from, as its label says (that image on `runtime`). */
export async function builtNativeComponents(runtime: ContainerRuntime, components: NativeComponent[]): Promise<NativeComponent[]> {
  return Promise.all(
    components.map(async (component) => {
      const labels = (await runtime.inspectImage(component.image))?.labels ?? {};
      return { ...component, sha256: labels[LABEL.sourceSha256] ?? component.sha256 };
    }),
  );
}
