import type { ResolvedSettings } from '../config/settings.ts';
import { InterruptedError, WheelfarmError } from '../errors.ts';
import type { PreparedDefinitions } from '../images/ensure-images.ts';
import { prepareImageDefinitions } from '../images/ensure-images.ts';
import { effectivePolicy, imagePythons } from '../images/image-definitions.ts';
import { applyImageRefresh, readImageRefresh } from '../images/refresh-images.ts';
import { recipeHash } from '../pipeline/build-inputs.ts';
import type { PublishIndex } from '../pipeline/cell-deps.ts';
import type { EmitEvent } from '../pipeline/events.ts';
import { nativeComponent, recipeImagePlan } from '../pipeline/prepare-recipe-image.ts';
import type { ResolvedSource } from '../pipeline/resolve-source.ts';
import type { SdistFetcher } from '../pipeline/sdist-fetcher.ts';
import { NO_NEEDS } from '../pipeline/sdist-needs.ts';
import type { BuildRecords } from '../records/build-records.ts';
import type { Recipe } from '../recipes/recipe.ts';
import type { UpstreamForContainers } from '../upstream/upstream-for-containers.ts';
import { pythonTagFromVersion } from '../wheels/build-id.ts';
import type { MatrixPackage, MatrixPython, PlanEnvironment } from './plan-matrix.ts';

/**
 * What gathering a plan's inputs reads: settings, the upstream index, the farm's index, the records,
 * and the sdists (fetched once per run) whose needs decide a package's toolchains.
 */
export interface GatherDeps {
  settings: Pick<ResolvedSettings, 'imagesDir' | 'home' | 'recipesDir' | 'rust' | 'matrix'>;
  upstream: Pick<UpstreamForContainers, 'index'>;
  index: PublishIndex;
  records: BuildRecords;
  sdists: SdistFetcher;
  emit: EmitEvent;
  signal: AbortSignal;
}

/** A package the plan could not include, with why (a bad recipe, an unknown project...). */
export interface MatrixProblem {
  name: string;
  code: string;
  message: string;
  hint?: string;
}

/** Everything a plan is made from; `build`, `matrix plan` and `matrix build` gather it their own way. */
export interface GatheredMatrix {
  packages: MatrixPackage[];
  problems: MatrixProblem[];
  environment: PlanEnvironment;
  prepared: PreparedDefinitions;
  /** Per package (normalized name): the version choice's skipped newer releases, for the plan's readers. */
  skipped: Map<string, { version: string; reason: string }[]>;
}

/** The image definitions and tags (hashes of their inputs), the refreshed ones when `images build --refresh` made them. */
export async function readPreparedDefinitions(settings: Pick<ResolvedSettings, 'imagesDir' | 'home'>): Promise<PreparedDefinitions> {
  const prepared = await prepareImageDefinitions(settings.imagesDir);
  return { ...prepared, plan: applyImageRefresh(prepared.plan, await readImageRefresh(settings.home)) };
}

/**
 * One package as the planner needs it: its releases, what the index serves of it, its image and
 * recipe hash. The one place `build`, `matrix build` and applications' closures decide what a
 * package builds with: its recipe, plus the toolchains its releases' sdists call for when the recipe
 * writes none (withDetectedToolchains). The recipe hash is the recipe file's: the image says the rest.
 */
export async function describePackage(
  deps: Pick<GatherDeps, 'settings' | 'index' | 'sdists' | 'emit'>,
  prepared: PreparedDefinitions,
  recipe: Recipe,
  releases: () => Promise<ResolvedSource[]>,
): Promise<MatrixPackage> {
  const buildImage = prepared.plan.build.tag;
  const [chosen, indexFiles, hash] = await Promise.all([releases(), deps.index.publisher.listFiles(recipe.name), recipeHash(recipe)]);
  const effective = await withDetectedToolchains(deps, recipe, chosen);
  const image = await recipeImagePlan(deps.settings, { prepared, buildImage, recipe: effective });
  const native = (image?.fromSource ?? []).map(nativeComponent);
  return { recipe: effective, releases: chosen, indexFiles, image: image?.tag ?? buildImage, recipeHash: hash, native };
}

/**
 * A recipe that writes no `build.toolchains` gets the toolchains its releases' sdists call for (all
 * of them: the package has one image), each said in an event. A release whose sdist cannot be
 * fetched now adds nothing: its cell's own fetch fails and is recorded as the cell's failure.
 */
async function withDetectedToolchains(
  deps: Pick<GatherDeps, 'sdists' | 'emit'>,
  recipe: Recipe,
  releases: ResolvedSource[],
): Promise<Recipe> {
  if (!recipe.detectToolchains) return recipe;
  const fetched = await Promise.all(
    releases.map((source) =>
      deps.sdists.needs(source).then(
        (needs) => ({ source, needs }),
        (error: unknown) => {
          if (!(error instanceof WheelfarmError) || error instanceof InterruptedError) throw error;
          return { source, needs: NO_NEEDS };
        },
      ),
    ),
  );
  const toolchains = { ...recipe.build.toolchains };
  const rustRanges = new Set<string>();
  for (const { source, needs } of fetched) {
    for (const found of needs.toolchains) {
      const { toolchain, because } = found;
      deps.emit({ type: 'toolchain-detected', project: source.name, version: source.version, toolchain, because });
      if (toolchain === 'fortran') toolchains.fortran = {};
      else {
        if (found.version) rustRanges.add(found.version);
        toolchains.rust = rustRanges.size > 0 ? { version: [...rustRanges].join(' ') } : {};
      }
    }
  }
  return { ...recipe, build: { ...recipe.build, toolchains } };
}

/** The plan's environment: the Pythons asked for (`3.13`; each marked whether the images have it), the platform, the records. */
export async function planEnvironment(
  deps: Pick<GatherDeps, 'settings' | 'index' | 'records'>,
  prepared: PreparedDefinitions,
  { pythons, projects, now, rebuild }: { pythons: string[] | undefined; projects?: string[]; now: Date; rebuild: boolean },
): Promise<PlanEnvironment> {
  const { definitions } = prepared.loaded;
  const available = imagePythons(definitions);
  const wanted: MatrixPython[] = (pythons ?? [...available.keys()]).map((minor) => {
    const python = available.get(minor);
    return { minor, tag: python?.tag ?? pythonTagFromVersion(minor), inImage: python !== undefined };
  });
  return {
    pythons: wanted,
    platform: effectivePolicy(definitions),
    histories: await deps.records.histories(deps.index.id, projects ? { projects } : {}),
    now,
    retry: deps.settings.matrix.retry,
    rebuild,
  };
}
