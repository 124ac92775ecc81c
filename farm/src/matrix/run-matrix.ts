import PQueue from 'p-queue';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  BuildStepError,
  EngineLostError,
  EnvironmentError,
  InterruptedError,
  interruption,
  TransientError,
  WheelfarmError,
} from '../errors.ts';
import type { FarmContext } from '../farm-context.ts';
import { pythonDir } from '../images/render-dockerfile.ts';
import type { CellResult } from '../pipeline/build-cell.ts';
import { buildCell } from '../pipeline/build-cell.ts';
import type { CellPlan } from '../pipeline/cell-plan.ts';
import { prepareImages } from '../pipeline/prepare-images.ts';
import { prepareRecipeImage } from '../pipeline/prepare-recipe-image.ts';
import { isBuildsOwnFault, MAX_ENGINE_LOSSES } from '../pipeline/detect-engine-loss.ts';
import { recoverFromCrashes } from '../pipeline/recover-from-crashes.ts';
import { fetchSource } from '../pipeline/resolve-source.ts';
import { engineAnswers } from '../runtime/engine-answers.ts';
import { removeCellLeftovers } from '../runtime/remove-cell-leftovers.ts';
import { replicateImage } from '../runtime/replicate-image.ts';
import { waitForEngine } from '../runtime/wait-for-engine.ts';
import { normalizeName } from '../wheels/names.ts';
import type { GatheredMatrix } from './gather-matrix.ts';
import type { PlannedCell } from './plan-matrix.ts';

/** A Docker engine cells run on: its own context (runtime, memory per container) and its slots. */
export interface BuildHost {
  name: string;
  slots: number;
  context: FarmContext;
}

export interface MatrixCellResult extends CellResult {
  host: string | undefined;
}

export interface MatrixRunResult {
  results: MatrixCellResult[];
  /** Hosts taken out of the run because their engine stopped answering, with why, and not back by its end. */
  lostHosts: { name: string; reason: string }[];
}

/** The lock that keeps two matrix builds (of any farm process sharing the records) from running at once. */
export const MATRIX_LOCK = 'matrix';

/**
 * Builds the given cells across the hosts. Longest expected build first, never more cells on a host
 * than its slots; a host whose engine stops answering is taken out, its cells go to the others, and
 * it takes cells again if it answers within `containers.engine-wait`. Every release's sdist is
 * fetched once, every (host, recipe) image prepared once. Keeps going past failed cells; only an
 * interruption (or losing every host for good) stops it early.
 */
export async function runMatrix(
  context: FarmContext,
  { gathered, cells, hosts }: { gathered: GatheredMatrix; cells: PlannedCell[]; hosts: BuildHost[] },
): Promise<MatrixRunResult> {
  const release = await context.records().tryLock(MATRIX_LOCK);
  if (!release) {
    throw new TransientError('matrix-busy', 'another matrix build is running (a farm process sharing these build records holds the lock)', {
      hint: 'wait for it to finish; a crashed holder frees the lock within 30 s',
    });
  }
  try {
    await recoverFromCrashes(context);
    return await schedule(context, gathered, cells, hosts);
  } finally {
    await release();
  }
}

async function schedule(
  context: FarmContext,
  gathered: GatheredMatrix,
  cells: PlannedCell[],
  hosts: BuildHost[],
): Promise<MatrixRunResult> {
  const pending = [...cells].sort((a, b) => b.expectedSeconds - a.expectedSeconds);
  const results: MatrixCellResult[] = [];
  const lostHosts: { name: string; reason: string }[] = [];
  const live = new Set(hosts.map((h) => h.name));
  const queues = new Map(hosts.map((h) => [h.name, new PQueue({ concurrency: h.slots })]));
  const sdists = new Memo<{ path: string; filename: string }>();
  const placed = new Memo<void>();
  const images = gathered.prepared.plan;
  const packages = new Map(gathered.packages.map((p) => [p.recipe.name, p]));
  const { definitions } = gathered.prepared.loaded;
  const dirs = new Map(definitions.pythons.map((p) => [`cp${p.version.split('.').slice(0, 2).join('')}`, pythonDir(p)]));

  let settle!: () => void;
  const finished = new Promise<void>((resolve) => (settle = resolve));
  let running = 0;
  /** Lost hosts whose engine is being waited for; the cells each host lost there; who did not come back. */
  const returning = new Map<string, Promise<void>>();
  const lostCells = new Map<string, Set<string>>();
  const gaveUp = new Map<string, WheelfarmError>();
  const lossesOf = new Map<string, number>();
  const waits = new AbortController();
  context.signal.addEventListener('abort', () => waits.abort(), { once: true, signal: waits.signal });

  const planFor = async (host: BuildHost, planned: PlannedCell): Promise<CellPlan> => {
    const pkg = packages.get(normalizeName(planned.cell.name))!;
    const sdist = await sdists.get(`${planned.source.name}==${planned.source.version}`, () => fetchSource(context, planned.source));
    await place(host, [images.build.tag, images.runtime.tag], async (on) => {
      await prepareImages(on.context);
    });
    if (pkg.image !== images.build.tag) {
      await place(host, [pkg.image], async (on) => {
        await prepareRecipeImage(on.context, { prepared: gathered.prepared, buildImage: images.build.tag, recipe: pkg.recipe });
      });
    }
    return {
      cell: planned.cell,
      buildId: planned.buildId,
      pythonDir: dirs.get(planned.cell.python)!,
      sdist: { ...sdist, ...(planned.source.requiresPython ? { requiresPython: planned.source.requiresPython } : {}) },
      images: { build: pkg.image, runtime: images.runtime.tag },
      user: definitions.user,
      upstreamEnv: await host.context.upstreamEnv(host.context.runtime),
      recipe: pkg.recipe,
      inputs: planned.inputs!,
      rebuild: gathered.environment.rebuild ?? false,
    };
  };

  /**
   * Makes images present on a host: nothing if it has them; else a copy from a live host that has
   * them (streamed save/load); else they are built once, on the first live host, and copied from
   * there. Once per (host, images).
   */
  const place = (host: BuildHost, tags: string[], build: (on: BuildHost) => Promise<void>): Promise<void> =>
    placed.get(`${host.name}\0${tags.join(',')}`, async () => {
      for (const tag of tags) {
        if (await host.context.runtime.inspectImage(tag)) continue;
        let from = await holderOf(tag, host);
        if (!from) {
          const builder = hosts.find((h) => live.has(h.name)) ?? host;
          if (builder === host) return build(host);
          await place(builder, tags, build);
          from = builder;
        }
        const copied = await replicateImage({ from: from.context.runtime, to: host.context.runtime, tag, signal: context.signal });
        context.emit({ type: 'host', host: host.name, status: 'image-copied', tag, from: from.name, seconds: copied.seconds });
      }
    });

  const holderOf = async (tag: string, except: BuildHost): Promise<BuildHost | undefined> => {
    for (const other of hosts) {
      if (other === except || !live.has(other.name)) continue;
      try {
        if (await other.context.runtime.inspectImage(tag)) return other;
      } catch {
        // An engine that does not answer is no source; its own cells find out soon enough.
      }
    }
    return undefined;
  };

  const runOn = async (host: BuildHost, planned: PlannedCell): Promise<void> => {
    let plan: CellPlan;
    try {
      plan = await planFor(host, planned);
    } catch (error) {
      if (error instanceof InterruptedError || context.signal.aborted) throw error;
      // Preparing the host (images) failed: if its engine is gone, another host takes the cell.
      if (!(await engineAnswers(host.context.runtime))) return loseHost(host, planned, (error as Error).message);
      // Anything else (the sdist cannot be fetched, a recipe image cannot be built) fails this cell only.
      const wrapped =
        error instanceof WheelfarmError ? error : new WheelfarmError('internal-error', (error as Error).message, { cause: error });
      // Recorded like a failed build, so the cell gets its back-off instead of being tried every night.
      const records = context.records();
      const id = await records.begin({
        buildId: planned.buildId,
        cell: planned.cell,
        index: context.indexId,
        inputs: planned.inputs!,
        buildTag: undefined,
        log: undefined,
      });
      await records.finish(id, { state: 'failed', steps: {}, error: wrapped.message });
      context.emit({
        type: 'cell',
        buildId: planned.buildId,
        outcome: 'failed',
        seconds: 0,
        error: { code: wrapped.code, message: wrapped.message, ...(wrapped.hint ? { hint: wrapped.hint } : {}) },
      });
      results.push({ buildId: planned.buildId, outcome: 'failed', seconds: 0, error: wrapped, host: host.name });
      return;
    }
    const result = await buildCell(host.context, plan);
    if (result.error instanceof EngineLostError) return loseHost(host, planned, result.error.message, result);
    if (result.outcome === 'failed' && (await engineWentAway(host, result.error))) {
      return loseHost(host, planned, `its engine stopped answering (${result.error?.message ?? 'no answer'})`, result);
    }
    results.push({ ...result, host: host.name });
  };

  /**
   * The host's engine went away under a cell: the host is out until it answers again (see
   * awaitReturn), and the cell runs again from the start, on another host or on this one once it
   * is back; after MAX_ENGINE_LOSSES losses it counts as failed.
   */
  const loseHost = (host: BuildHost, planned: PlannedCell, reason: string, attempt?: CellResult): void => {
    lostOn(host).add(planned.buildId);
    if (live.delete(host.name)) {
      lostHosts.push({ name: host.name, reason });
      context.emit({ type: 'host', host: host.name, status: 'lost', reason, waitSeconds: context.settings.engineWaitSeconds });
      awaitReturn(host);
    }
    const losses = (lossesOf.get(planned.buildId) ?? 0) + 1;
    lossesOf.set(planned.buildId, losses);
    if (losses >= MAX_ENGINE_LOSSES) {
      const error = new EnvironmentError(
        'engine-lost-repeatedly',
        `${planned.buildId}: its Docker engine went away under it ${losses} times (last: ${reason})`,
        {
          hint: 'check the engines of the hosts (their logs: `journalctl -u docker`); the next matrix build tries the cell again',
        },
      );
      host.context.emit({
        type: 'cell',
        buildId: planned.buildId,
        outcome: 'failed',
        seconds: attempt?.seconds ?? 0,
        ...(attempt?.log ? { log: attempt.log } : {}),
        error: { code: error.code, message: error.message, ...(error.hint ? { hint: error.hint } : {}) },
      });
      results.push({
        buildId: planned.buildId,
        outcome: 'failed',
        seconds: attempt?.seconds ?? 0,
        ...(attempt?.log ? { log: attempt.log } : {}),
        error,
        host: host.name,
      });
      return;
    }
    host.context.emit({ type: 'retry', buildId: planned.buildId, reason });
    pending.unshift(planned);
    pending.sort((a, b) => b.expectedSeconds - a.expectedSeconds);
  };

  /**
   * Pings a lost host's engine (back-off, up to `containers.engine-wait`) in the background. Once it
   * answers, what its lost cells left there is removed and it takes cells again; a host that does
   * not come back stays out of this run. Waiting ends with the run.
   */
  const awaitReturn = (host: BuildHost): void => {
    const wait = waitForEngine({ runtime: host.context.runtime, timeoutSeconds: context.settings.engineWaitSeconds, signal: waits.signal })
      .then(async ({ seconds }) => {
        const cells = [...lostOn(host)];
        await removeCellLeftovers({ runtime: host.context.runtime, buildIds: cells });
        for (const buildId of cells) lostOn(host).delete(buildId);
        // What was placed there before may be gone with a wiped engine: looked at again.
        placed.forget((key) => key.startsWith(`${host.name}\0`));
        live.add(host.name);
        lostHosts.splice(0, lostHosts.length, ...lostHosts.filter((h) => h.name !== host.name));
        context.emit({ type: 'host', host: host.name, status: 'back', seconds: Math.round(seconds * 10) / 10 });
      })
      .catch((error: unknown) => {
        if (!waits.signal.aborted)
          gaveUp.set(
            host.name,
            error instanceof WheelfarmError
              ? error
              : new EnvironmentError('engine-did-not-come-back', (error as Error).message, { cause: error }),
          );
      })
      .finally(() => {
        // (Lost again meanwhile: a newer wait is in its place.)
        if (returning.get(host.name) === wait) returning.delete(host.name);
        dispatch();
      });
    returning.set(host.name, wait);
  };

  const lostOn = (host: BuildHost): Set<string> => {
    let cells = lostCells.get(host.name);
    if (!cells) lostCells.set(host.name, (cells = new Set()));
    return cells;
  };

  /** Every host is out and none came back in time: the run ends, naming the engines. */
  const noHostsLeft = (): EnvironmentError => {
    const notBuilt = `${pending.length} cell(s) not built`;
    const errors = [...gaveUp.values()];
    if (errors.length === 0)
      return new EnvironmentError('no-hosts-left', `every Docker host stopped answering; ${notBuilt}`, {
        hint: 'start the engines again and run the matrix build again: only what is missing is built',
      });
    if (errors.length === 1)
      return new EnvironmentError(errors[0]!.code, `${errors[0]!.message}; ${notBuilt}`, {
        cause: errors[0],
        ...(errors[0]!.hint ? { hint: errors[0]!.hint } : {}),
      });
    return new EnvironmentError(
      'engine-did-not-come-back',
      `every Docker host stopped answering and none came back: ${errors.map((e) => e.message).join('; ')}; ${notBuilt}`,
      {
        cause: errors[0],
        hint: 'start the engines again and run the matrix build again: only what is missing is built',
      },
    );
  };

  let failure: unknown;
  const end = (): void => {
    waits.abort();
    settle();
  };
  const dispatch = (): void => {
    if (failure !== undefined || context.signal.aborted) {
      if (running === 0) end();
      return;
    }
    for (const host of hosts) {
      const queue = queues.get(host.name)!;
      while (live.has(host.name) && pending.length > 0 && queue.pending + queue.size < host.slots) {
        const planned = pending.shift()!;
        running += 1;
        void queue
          .add(() => runOn(host, planned))
          .catch((error: unknown) => {
            failure ??= error;
          })
          .finally(() => {
            running -= 1;
            dispatch();
          });
      }
    }
    // Cells left and every host out: wait while a host may still come back.
    if (running === 0 && (pending.length === 0 || returning.size === 0)) {
      if (pending.length > 0) failure ??= noHostsLeft();
      end();
    }
  };
  dispatch();
  await finished;
  if (context.signal.aborted) throw interruption(context.signal);
  if (failure !== undefined) throw failure;
  return { results, lostHosts };
}

/** How long a host whose cell was killed is watched before the failure counts as the build's own. */
const KILLED_WATCH_MS = 10_000;
const KILLED_PING_EVERY_MS = 2_000;

/**
 * Did the cell fail because its engine went away? Yes if the engine does not answer now. A step
 * killed by a signal (an engine stopping kills its containers first, then answers a few seconds
 * longer) or an error that is not the build's own is watched for a while before it counts as the
 * build's failure.
 */
async function engineWentAway(host: BuildHost, error: WheelfarmError | undefined): Promise<boolean> {
  if (!(await engineAnswers(host.context.runtime))) return true;
  const suspicious = error instanceof BuildStepError ? error.exitCode !== undefined && error.exitCode >= 128 : !isBuildsOwnFault(error);
  if (!suspicious) return false;
  for (let waited = 0; waited < KILLED_WATCH_MS; waited += KILLED_PING_EVERY_MS) {
    await sleep(KILLED_PING_EVERY_MS);
    if (!(await engineAnswers(host.context.runtime))) return true;
  }
  return false;
}

/** One promise per key: concurrent callers share the first call's work (and its failure). */
class Memo<T> {
  readonly #values = new Map<string, Promise<T>>();

  get(key: string, make: () => Promise<T>): Promise<T> {
    let value = this.#values.get(key);
    if (!value) this.#values.set(key, (value = make()));
    return value;
  }

  /** The next `get` of these keys does the work again. */
  forget(matches: (key: string) => boolean): void {
    for (const key of [...this.#values.keys()]) if (matches(key)) this.#values.delete(key);
  }
}
