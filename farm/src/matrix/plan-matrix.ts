import { eq } from '@renovatebot/pep440';
import type { PublishedFile } from '../index/publisher.ts';
import { sourceIdentity } from '../pipeline/build-inputs.ts';
import { decideCellState, describeChange } from '../pipeline/cell-state.ts';
import type { ResolvedSource } from '../pipeline/resolve-source.ts';
import type { BuildInputs, NativeComponent, BuildRecord, CellHistory } from '../records/build-records.ts';
import { recordSeconds } from '../records/build-records.ts';
import type { Recipe } from '../recipes/recipe.ts';
import type { Cell } from '../wheels/build-id.ts';
import { formatBuildId } from '../wheels/build-id.ts';
import { normalizeName } from '../wheels/names.ts';
import { selectPythons } from '../wheels/select-pythons.ts';
import { parseWheelFilename } from '../wheels/wheel-filename.ts';

/** One package of the matrix, with everything the planner needs already fetched. */
export interface MatrixPackage {
  recipe: Recipe;
  /** The chosen releases (see chooseReleases), newest first, each resolved to its sdist. */
  releases: ResolvedSource[];
  /** Hash of the recipe's build inputs (pipeline/build-inputs.ts). */
  recipeHash: string;
  /** The image its cells build in (the recipe image's tag, or the build image's). */
  image: string;
  /** The libraries and toolchains built from source in that image (their sha256: the first pinned source's, until built). */
  native?: NativeComponent[];
  /** What the index serves for the project now. */
  indexFiles: PublishedFile[];
  /** From an application's closure: per release (version), the Pythons whose closure has it; others are excluded. */
  closurePythons?: Map<string, Set<string>>;
}

export interface MatrixPython {
  /** `3.13` */
  minor: string;
  /** `cp313` */
  tag: string;
  /** False when the settings name a Python the build image does not have. */
  inImage: boolean;
}

export interface PlanEnvironment {
  pythons: MatrixPython[];
  platform: string;
  histories: Map<string, CellHistory>;
  now: Date;
  retry: { afterSeconds: number; maxSeconds: number };
  /** Treat every built cell as stale (a forced rebuild). */
  rebuild?: boolean;
}

export type CellStateName = 'built' | 'missing' | 'stale' | 'failed' | 'excluded';

export interface PlannedCell {
  cell: Cell;
  buildId: string;
  state: CellStateName;
  /** For people: why it is in that state (`recipe changed`, `requires-python >=3.12`, `failed 2 times`...). */
  reason?: string;
  /** The wheel the index serves for it now (built, stale). */
  wheel?: string;
  /** For a stale cell: the build tag its rebuild gets. */
  buildTag?: string;
  /** For a failed cell: when the back-off lets it be tried again (ISO 8601). */
  retryAt?: string;
  /** Absent for excluded cells. */
  inputs?: BuildInputs;
  source: ResolvedSource;
  /** No cell of this release was ever built or published: what an hourly "new releases" run builds. */
  newRelease: boolean;
  /** Seconds the build is expected to take (from the records), for scheduling the longest first. */
  expectedSeconds: number;
}

/** What a cell with no history of its own and no sibling with one is expected to take... */
export const DEFAULT_EXPECTED_SECONDS = 120;
/** ...unless the index gives its sdist's size: big sources are long builds (lxml 4 MB, markupsafe 20 kB). */
const BASE_SECONDS = 30;
const SECONDS_PER_MB = 30;

/**
 * The matrix plan (pure): every (package, release, Python) cell with its state. Cells come out in
 * a stable order: package, newest release first, Python.
 */
export function planMatrix(packages: MatrixPackage[], env: PlanEnvironment): PlannedCell[] {
  const planned: PlannedCell[] = [];
  for (const pkg of packages) {
    for (const source of pkg.releases) {
      const newRelease = isNewRelease(pkg, source, env);
      const admitted = admittedPythons(pkg.recipe, source, env.pythons);
      for (const python of env.pythons) {
        const cell: Cell = { name: source.name, version: source.version, python: python.tag, platform: env.platform };
        const buildId = formatBuildId(cell);
        const history = env.histories.get(buildId);
        const base = { cell, buildId, source, newRelease, expectedSeconds: expectedSeconds(history, pkg, source, env) };
        const exclusion = !python.inImage
          ? `Python ${python.minor} is not in the build image`
          : (outsideClosure(pkg, source, python) ?? admitted.get(python.minor));
        if (exclusion !== undefined) {
          planned.push({ ...base, state: 'excluded', reason: exclusion });
          continue;
        }
        const inputs: BuildInputs = { source: sourceIdentity(source), recipe: pkg.recipeHash, image: pkg.image };
        planned.push({ ...base, inputs, ...cellState(pkg, cell, inputs, history, env) });
      }
    }
  }
  return planned;
}

type StatePart = Pick<PlannedCell, 'state' | 'reason' | 'wheel' | 'buildTag' | 'retryAt'>;

function cellState(pkg: MatrixPackage, cell: Cell, inputs: BuildInputs, history: CellHistory | undefined, env: PlanEnvironment): StatePart {
  const decided = decideCellState({ files: pkg.indexFiles, cell, record: history?.done, inputs, rebuild: env.rebuild ?? false });
  if (decided.state === 'built') return { state: 'built', wheel: decided.wheel.filename };
  const backOff = failureBackOff(history?.failures ?? [], inputs, env);
  if (backOff && backOff.retryAt > env.now) {
    return {
      state: 'failed',
      reason: `failed ${backOff.count} time${backOff.count === 1 ? '' : 's'} with these inputs; next try after ${backOff.retryAt.toISOString()}`,
      retryAt: backOff.retryAt.toISOString(),
      ...(decided.state === 'stale' ? { wheel: decided.wheel.filename } : {}),
    };
  }
  const retrying = backOff ? `; retry after ${backOff.count} failure${backOff.count === 1 ? '' : 's'}` : '';
  if (decided.state === 'missing') return { state: 'missing', reason: `not in the index${retrying}` };
  return {
    state: 'stale',
    reason: `${describeChange(decided.changed)}${retrying}`,
    wheel: decided.wheel.filename,
    buildTag: decided.buildTag,
  };
}

/**
 * A cell that failed with exactly today's inputs waits before the next try: `after` for the first
 * failure, doubling with each further one, at most `max`. Other inputs (a fixed recipe, a new image)
 * mean a fresh start, so a repaired recipe is tried at once.
 */
export function failureBackOff(
  failures: BuildRecord[],
  inputs: BuildInputs,
  env: Pick<PlanEnvironment, 'retry'>,
): { count: number; retryAt: Date } | undefined {
  let count = 0;
  for (const failure of failures) {
    if (!sameInputs(failure.inputs, inputs)) break;
    count += 1;
  }
  const newest = failures[0];
  if (count === 0 || !newest) return undefined;
  const waitSeconds = Math.min(env.retry.afterSeconds * 2 ** (count - 1), env.retry.maxSeconds);
  const finished = new Date(newest.finishedAt ?? newest.startedAt);
  return { count, retryAt: new Date(finished.getTime() + waitSeconds * 1000) };
}

function sameInputs(a: BuildInputs, b: BuildInputs): boolean {
  return a.source === b.source && a.recipe === b.recipe && a.image === b.image;
}

/** An application's closure needs this release only for some Pythons (a marker, requires-python, another version elsewhere). */
function outsideClosure(pkg: MatrixPackage, source: ResolvedSource, python: MatrixPython): string | undefined {
  if (!pkg.closurePythons || pkg.closurePythons.get(source.version)?.has(python.minor)) return undefined;
  return `${NOT_IN_CLOSURE} for Python ${python.minor}`;
}

/** The reason of a cell an application's closure does not need: not worth a line of its own. */
export const NOT_IN_CLOSURE = 'not in the closure';

/** Pythons of the matrix the recipe's `python` or the release's requires-python rule out, with the reason. */
function admittedPythons(recipe: Recipe, source: ResolvedSource, pythons: MatrixPython[]): Map<string, string> {
  const excluded = new Map<string, string>();
  const requested = pythons.map((p) => p.minor);
  if (recipe.python) {
    for (const skipped of selectPythons({ requested, requiresPython: recipe.python }).skipped)
      excluded.set(skipped.python, `recipe python ${recipe.python}`);
  }
  if (source.requiresPython) {
    for (const skipped of selectPythons({ requested, requiresPython: source.requiresPython }).skipped) {
      if (!excluded.has(skipped.python)) excluded.set(skipped.python, `requires-python ${source.requiresPython}`);
    }
  }
  return excluded;
}

function isNewRelease(pkg: MatrixPackage, source: ResolvedSource, env: PlanEnvironment): boolean {
  const published = pkg.indexFiles.some((file) => {
    try {
      return eq(parseWheelFilename(file.filename).version, source.version);
    } catch {
      return false;
    }
  });
  if (published) return false;
  const name = normalizeName(source.name);
  for (const history of env.histories.values()) {
    const { cell } = history.done ?? history.failures[0] ?? {};
    if (cell && normalizeName(cell.name) === name && eq(cell.version, source.version)) return false;
  }
  return true;
}

/**
 * From the records: the cell's own last build; else the mean of the package's other cells; else a
 * guess from the sdist's size; else DEFAULT_EXPECTED_SECONDS. Only an order for the scheduler (the
 * longest first), so a rough figure is enough.
 */
function expectedSeconds(history: CellHistory | undefined, pkg: MatrixPackage, source: ResolvedSource, env: PlanEnvironment): number {
  const own = history?.done ?? history?.failures[0];
  if (own) return recordSeconds(own);
  const siblings: number[] = [];
  for (const other of env.histories.values()) {
    const record = other.done ?? other.failures[0];
    if (record && normalizeName(record.cell.name) === pkg.recipe.name) siblings.push(recordSeconds(record));
  }
  if (siblings.length > 0) return siblings.reduce((a, b) => a + b, 0) / siblings.length;
  return source.size !== undefined ? BASE_SECONDS + (SECONDS_PER_MB * source.size) / 1_000_000 : DEFAULT_EXPECTED_SECONDS;
}
