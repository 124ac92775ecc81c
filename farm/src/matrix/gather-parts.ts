import type { ResolvedSettings } from '../config/settings.ts';
import type { PreparedDefinitions } from '../images/ensure-images.ts';
import { prepareImageDefinitions } from '../images/ensure-images.ts';
import { effectivePolicy, imagePythons } from '../images/image-definitions.ts';
import { applyImageRefresh, readImageRefresh } from '../images/refresh-images.ts';
import { recipeHash } from '../pipeline/build-inputs.ts';
import type { PublishIndex } from '../pipeline/cell-deps.ts';
import { nativeComponent, recipeImagePlan } from '../pipeline/prepare-recipe-image.ts';
import type { ResolvedSource } from '../pipeline/resolve-source.ts';
import type { BuildRecords } from '../records/build-records.ts';
import type { Recipe } from '../recipes/recipe.ts';
import type { UpstreamForContainers } from '../upstream/upstream-for-containers.ts';
import { pythonTagFromVersion } from '../wheels/build-id.ts';
import type { MatrixPackage, MatrixPython, PlanEnvironment } from './plan-matrix.ts';

/** What gathering a plan's inputs reads: settings, the upstream index, the farm's index, the records. */
export interface GatherDeps {
  settings: Pick<ResolvedSettings, 'imagesDir' | 'home' | 'recipesDir' | 'rust' | 'matrix'>;
  upstream: Pick<UpstreamForContainers, 'index'>;
  index: PublishIndex;
  records: BuildRecords;
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

/** One package as the planner needs it: its releases, what the index serves of it, its image and recipe hash. */
export async function describePackage(
  deps: Pick<GatherDeps, 'settings' | 'index'>,
  prepared: PreparedDefinitions,
  recipe: Recipe,
  releases: () => Promise<ResolvedSource[]>,
): Promise<MatrixPackage> {
  const buildImage = prepared.plan.build.tag;
  const [chosen, indexFiles, image, hash] = await Promise.all([
    releases(),
    deps.index.publisher.listFiles(recipe.name),
    recipeImagePlan(deps.settings, { prepared, buildImage, recipe }),
    recipeHash(recipe),
  ]);
  const native = (image?.fromSource ?? []).map(nativeComponent);
  return { recipe, releases: chosen, indexFiles, image: image?.tag ?? buildImage, recipeHash: hash, native };
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
