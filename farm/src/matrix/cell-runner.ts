import type { ResolvedSettings } from '../config/settings.ts';
import { EngineLostError, InterruptedError, WheelfarmError } from '../errors.ts';
import type { ImagePython } from '../images/image-definitions.ts';
import { imagePythons } from '../images/image-definitions.ts';
import type { CellResult } from '../pipeline/build-cell.ts';
import { buildCell, reportCell } from '../pipeline/build-cell.ts';
import type { CellDeps, PublishIndex } from '../pipeline/cell-deps.ts';
import type { CellPlan } from '../pipeline/cell-plan.ts';
import { planCell } from '../pipeline/cell-plan.ts';
import { engineWentAway } from '../pipeline/detect-engine-loss.ts';
import type { EmitEvent } from '../pipeline/events.ts';
import type { ImageDeps } from '../pipeline/prepare-images.ts';
import { prepareImages } from '../pipeline/prepare-images.ts';
import { builtNativeComponents, prepareRecipeImage } from '../pipeline/prepare-recipe-image.ts';
import type { SdistFetcher } from '../pipeline/sdist-fetcher.ts';
import type { BuildRecords } from '../records/build-records.ts';
import type { BuildHost } from '../runtime/build-host.ts';
import { engineAnswers } from '../runtime/engine-answers.ts';
import type { HostTrust } from '../runtime/host-trust.ts';
import type { ContentCache } from '../upstream/content-cache.ts';
import type { UpstreamForContainers } from '../upstream/upstream-for-containers.ts';
import { normalizeName } from '../wheels/names.ts';
import type { CellRunOutcome } from './cell-scheduler.ts';
import type { GatheredMatrix } from './gather-parts.ts';
import type { ImagePlacement } from './image-placement.ts';
import type { MatrixPackage, PlannedCell } from './plan-matrix.ts';

/** What running planned cells on hosts uses: the same for `build`, `matrix build` and a schedule. */
export interface RunDeps {
  settings: Pick<ResolvedSettings, 'imagesDir' | 'recipesDir' | 'home' | 'debianMirror' | 'rust' | 'engineWaitSeconds'>;
  index: PublishIndex;
  records: BuildRecords;
  trust: HostTrust;
  upstream: Pick<UpstreamForContainers, 'env' | 'watch' | 'check'>;
  /** Where CPython sources for image builds are cached. */
  sources: ContentCache;
  sdists: SdistFetcher;
  emit: EmitEvent;
  signal: AbortSignal;
}

/**
 * One planned cell on one host, for real: its release's sdist (fetched once per run), the build,
 * runtime and recipe images placed on the host, its CellPlan, then the cell's build. Says whether
 * the host's engine went away under it (the scheduler decides what happens then); a cell whose
 * preparation fails on a host that still answers fails on its own, recorded so that it gets its back-off.
 */
export class CellRunner {
  readonly #deps: RunDeps;
  readonly #gathered: GatheredMatrix;
  readonly #placement: ImagePlacement;
  readonly #packages: Map<string, MatrixPackage>;
  readonly #pythons: Map<string, ImagePython>;

  constructor(deps: RunDeps, gathered: GatheredMatrix, placement: ImagePlacement) {
    this.#deps = deps;
    this.#gathered = gathered;
    this.#placement = placement;
    this.#packages = new Map(gathered.packages.map((p) => [p.recipe.name, p]));
    this.#pythons = new Map([...imagePythons(gathered.prepared.loaded.definitions).values()].map((p) => [p.tag, p]));
  }

  async run(host: BuildHost, planned: PlannedCell): Promise<CellRunOutcome> {
    const emit = hostEmit(this.#deps.emit, host.name);
    let plan: CellPlan;
    try {
      plan = await this.#prepare(host, planned);
    } catch (error) {
      if (error instanceof InterruptedError || this.#deps.signal.aborted) throw error;
      // Preparing the host (images) failed: if its engine is gone, another host takes the cell.
      if (!(await engineAnswers(host.runtime))) return { kind: 'engine-lost', reason: (error as Error).message };
      return { kind: 'done', result: await this.#failBeforeBuild(planned, error, emit) };
    }
    const result = await buildCell(cellDepsFor(this.#deps, host, emit), plan);
    if (result.error instanceof EngineLostError) return { kind: 'engine-lost', reason: result.error.message, attempt: result };
    if (result.outcome === 'failed' && (await engineWentAway(host.runtime, result.error))) {
      return { kind: 'engine-lost', reason: `its engine stopped answering (${result.error?.message ?? 'no answer'})`, attempt: result };
    }
    return { kind: 'done', result };
  }

  async #prepare(host: BuildHost, planned: PlannedCell): Promise<CellPlan> {
    const { prepared } = this.#gathered;
    const pkg = this.#packages.get(normalizeName(planned.cell.name))!;
    const [sdist, needs] = await Promise.all([this.#deps.sdists.fetch(planned.source), this.#deps.sdists.needs(planned.source)]);
    const images = prepared.plan;
    const imageDeps: ImageDeps = this.#deps;
    const base = [
      { kind: 'build' as const, tag: images.build.tag },
      { kind: 'runtime' as const, tag: images.runtime.tag },
    ];
    await this.#placement.place(host, base, async (on) => {
      await prepareImages(on.runtime, imageDeps);
    });
    if (pkg.image !== images.build.tag) {
      await this.#placement.place(host, [{ kind: 'recipe', tag: pkg.image }], async (on) => {
        await prepareRecipeImage(on.runtime, imageDeps, { prepared, buildImage: images.build.tag, recipe: pkg.recipe });
      });
    }
    return planCell({
      cell: planned.cell,
      python: this.#pythons.get(planned.cell.python)!,
      requiresPython: planned.source.requiresPython,
      sdist,
      needs,
      images: { build: pkg.image, runtime: images.runtime.tag },
      user: prepared.loaded.definitions.user,
      upstreamEnv: await this.#deps.upstream.env(host.runtime),
      recipe: pkg.recipe,
      inputs: planned.inputs!,
      rebuild: this.#gathered.environment.rebuild ?? false,
      native: await builtNativeComponents(host.runtime, pkg.native ?? []),
    });
  }

  /** The sdist cannot be fetched, a recipe image cannot be built: recorded like a failed build, so the cell gets its back-off. */
  async #failBeforeBuild(planned: PlannedCell, error: unknown, emit: EmitEvent): Promise<CellResult> {
    const wrapped =
      error instanceof WheelfarmError ? error : new WheelfarmError('internal-error', (error as Error).message, { cause: error });
    const { records, index } = this.#deps;
    const id = await records.begin({
      buildId: planned.buildId,
      cell: planned.cell,
      index: index.id,
      inputs: planned.inputs!,
      buildTag: undefined,
      log: undefined,
    });
    await records.finish(id, { state: 'failed', steps: {}, error: wrapped.message });
    return reportCell(emit, { buildId: planned.buildId, outcome: 'failed', seconds: 0, error: wrapped });
  }
}

/** What a cell on `host` gets of the run's parts; `emit` marks its events with the host. */
export function cellDepsFor(deps: RunDeps, host: BuildHost, emit: EmitEvent = hostEmit(deps.emit, host.name)): CellDeps {
  const { index, records, settings, trust, upstream, signal } = deps;
  return { host, trust, index, records, home: settings.home, upstream, emit, signal };
}

/** A cell's events carry the host it runs on. */
function hostEmit(emit: EmitEvent, host: string): EmitEvent {
  return (event) => emit(event.type === 'step' || event.type === 'cell' || event.type === 'retry' ? { ...event, host } : event);
}
