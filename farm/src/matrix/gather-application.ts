import { UserInputError } from '../errors.ts';
import type { ApplicationInput } from '../applications/application-input.ts';
import type { ClosureEntry } from '../applications/classify-closure.ts';
import { classifyClosure } from '../applications/classify-closure.ts';
import type { Closure } from '../applications/closure.ts';
import { recordClosure } from '../applications/closure-record.ts';
import type { MirrorEntry, PlannedMirror } from '../applications/mirror-files.ts';
import { planMirrors } from '../applications/mirror-files.ts';
import { resolveClosure } from '../applications/resolve-closure.ts';
import { prepareResolverImage } from '../applications/resolver-image.ts';
import type { ResolverDeps } from '../applications/run-resolver.ts';
import type { UpstreamProjects } from '../applications/upstream-projects.ts';
import { imagePythons } from '../images/image-definitions.ts';
import type { ImageDeps } from '../pipeline/prepare-images.ts';
import { prepareImages } from '../pipeline/prepare-images.ts';
import type { ResolveDeps } from '../pipeline/resolve-source.ts';
import { loadRecipe } from '../recipes/load-recipe.ts';
import type { GatherDeps, GatheredMatrix } from './gather-parts.ts';
import { describePackage, planEnvironment, readPreparedDefinitions } from './gather-parts.ts';
import type { MatrixPackage } from './plan-matrix.ts';

/** What gathering an application uses: a matrix's gathering, the resolver's host, the images, the upstream pages. */
export interface ApplicationDeps extends GatherDeps, ResolveDeps {
  resolver: ResolverDeps;
  images: ImageDeps;
  projects: UpstreamProjects;
  settings: GatherDeps['settings'] & { closurePure: 'mirror' | 'build' };
}

/** A gathered matrix of the closure's builds, with the closure itself and its mirrors. */
export interface GatheredApplication extends GatheredMatrix {
  closure: Closure;
  entries: ClosureEntry[];
  mirrors: PlannedMirror[];
  /** Where the closure was recorded (closure-record.ts). */
  record: string;
}

/**
 * What `build -r/--lock` (and an application of the settings) plans from: the closure per target
 * Python (resolved in the build image, which is built first if missing), each distribution classified
 * (build or mirror) and recorded, the builds as matrix packages whose cells are only the Pythons that
 * need them, and the mirrors against what the index serves.
 */
export async function gatherApplication(
  deps: ApplicationDeps,
  {
    inputs,
    application,
    pythons,
    rebuild = false,
    now = new Date(),
  }: { inputs: ApplicationInput[]; application: string; pythons?: string[]; rebuild?: boolean; now?: Date },
): Promise<GatheredApplication> {
  const prepared = await readPreparedDefinitions(deps.settings);
  const available = imagePythons(prepared.loaded.definitions);
  const wanted = pythons ?? deps.settings.matrix.pythons ?? [...available.keys()];
  const missing = wanted.filter((p) => !available.has(p));
  if (missing.length > 0) {
    throw new UserInputError('python-not-in-image', `the build image has no Python ${missing.join(', ')}`, {
      hint: `choose from ${[...available.keys()].join(', ')}, or add a CPython to ${prepared.loaded.file}`,
    });
  }
  const recipe = (name: string) => loadRecipe({ recipesDir: deps.settings.recipesDir, name });
  const { plan } = await prepareImages(deps.resolver.host.runtime, deps.images);
  const image = await prepareResolverImage(deps.resolver.host.runtime, deps.images, {
    prepared,
    buildImage: plan.build.tag,
    inputs,
    recipe,
  });
  const target = {
    application,
    pythons: wanted.map((p) => available.get(p)!),
    image,
    user: prepared.loaded.definitions.user,
  };
  const closure = await resolveClosure({ ...deps.resolver, projects: deps.projects }, inputs, target);
  const entries = await classifyClosure({ projects: deps.projects, recipe, pure: deps.settings.closurePure }, closure);
  const record = await recordClosure(deps.settings.home, closure, entries, now);
  const builds = entries.filter((e): e is Extract<ClosureEntry, { kind: 'build' }> => e.kind === 'build');
  const mirrorEntries = entries.filter((e): e is MirrorEntry => e.kind === 'mirror');
  deps.emit({ type: 'closure', application, pythons: wanted, build: builds.length, mirror: mirrorEntries.length, record });
  const [packages, mirrors, environment] = await Promise.all([
    buildPackages(deps, prepared, builds),
    mirrorsAgainstIndex(deps, mirrorEntries),
    planEnvironment(deps, prepared, { pythons: wanted, projects: [...new Set(builds.map((b) => b.dist.normalized))], now, rebuild }),
  ]);
  return { packages, problems: [], environment, prepared, skipped: new Map(), closure, entries, mirrors, record };
}

/** One matrix package per project to build: its closure's releases, each for the Pythons that need it. */
async function buildPackages(
  deps: ApplicationDeps,
  prepared: GatheredMatrix['prepared'],
  builds: Extract<ClosureEntry, { kind: 'build' }>[],
): Promise<MatrixPackage[]> {
  const byProject = new Map<string, Extract<ClosureEntry, { kind: 'build' }>[]>();
  for (const entry of builds) byProject.set(entry.dist.normalized, [...(byProject.get(entry.dist.normalized) ?? []), entry]);
  return Promise.all(
    [...byProject.values()].map(async (releases) => {
      const pkg = await describePackage(deps, prepared, releases[0]!.recipe, async () => releases.map((r) => r.source));
      return { ...pkg, closurePythons: new Map(releases.map((r) => [r.source.version, new Set(r.pythons)])) };
    }),
  );
}

async function mirrorsAgainstIndex(deps: Pick<GatherDeps, 'index'>, entries: MirrorEntry[]): Promise<PlannedMirror[]> {
  const projects = [...new Set(entries.map((e) => e.dist.normalized))];
  const served = await Promise.all(projects.map(async (p) => [p, await deps.index.publisher.listFiles(p)] as const));
  return planMirrors(entries, new Map(served));
}
