import pc from 'picocolors';
import { UserInputError } from '../../errors.ts';
import type { Farm } from '../../farm.ts';
import { applicationDepsOf, gatherDepsOf, sdistFetcherOf } from '../../farm.ts';
import type { GatheredApplication } from '../../matrix/gather-application.ts';
import { gatherApplications } from '../../matrix/gather-applications.ts';
import { mergeGathered } from '../../matrix/merge-gathered.ts';
import { buildHosts } from '../../runtime/build-host.ts';
import { applicationPlanJson, applicationPlanText } from '../application-plan.ts';
import { gatherMatrix } from '../../matrix/gather-matrix.ts';
import type { GatheredMatrix } from '../../matrix/gather-parts.ts';
import type { CellStateName, PlannedCell } from '../../matrix/plan-matrix.ts';
import { planMatrix } from '../../matrix/plan-matrix.ts';
import type { ScheduleResult } from '../../matrix/cell-scheduler.ts';
import { withMatrixLock } from '../../matrix/run-cells.ts';
import { pythonTagFromVersion } from '../../wheels/build-id.ts';
import { EXIT } from '../exit-codes.ts';
import { cellJson } from '../plan-json.ts';
import type { RunSummary } from '../render-run-summary.ts';
import { renderRunSummary } from '../render-run-summary.ts';
import type { CommandEnvironment } from '../run-command.ts';
import { closureSummary, runMirrorsAndCells } from './run-application.ts';

export interface MatrixFilterOptions {
  python?: string;
  state?: string;
  newReleases?: boolean;
  rebuild?: boolean;
}

const STATES: CellStateName[] = ['built', 'missing', 'stale', 'failed', 'excluded'];
const STATE_COLOUR: Record<CellStateName, (text: string) => string> = {
  built: pc.green,
  missing: pc.yellow,
  stale: pc.cyan,
  failed: pc.red,
  excluded: pc.dim,
};

/**
 * The plan of the whole matrix (or of the named packages), filtered as the options say. Without
 * names, the settings' applications are gathered too (their closures resolved: this needs the
 * engine) and planned with the recipes as one matrix.
 */
export async function planFiltered(
  farm: Farm,
  names: string[],
  options: MatrixFilterOptions,
  sdists = sdistFetcherOf(farm),
): Promise<{ gathered: GatheredMatrix; cells: PlannedCell[]; applications: GatheredApplication[] }> {
  const pythons = options.python === undefined ? undefined : parsePythons(options.python);
  const states = options.state === undefined ? undefined : parseStates(options.state);
  const rebuild = options.rebuild === true;
  const matrix = await gatherMatrix(gatherDepsOf(farm, sdists), { names, rebuild });
  const apps =
    names.length === 0 && farm.settings.applications.length > 0
      ? await gatherApplications(
          applicationDepsOf(farm, buildHosts(farm.settings, { localRuntime: farm.runtime })[0]!, sdists),
          farm.settings.applications,
          { rebuild },
        )
      : { gathered: [], problems: [] };
  const merged = mergeGathered(matrix, apps.gathered);
  const gathered = { ...merged, problems: [...merged.problems, ...apps.problems] };
  const cells = planMatrix(gathered.packages, gathered.environment).filter(
    (cell) =>
      (pythons === undefined || pythons.includes(cell.cell.python)) &&
      (states === undefined || states.includes(cell.state)) &&
      (!options.newReleases || cell.newRelease),
  );
  return { gathered, cells, applications: apps.gathered };
}

/** The cells a matrix build builds: missing and stale ones (failed ones wait for their back-off). */
export function cellsToBuild(cells: PlannedCell[]): PlannedCell[] {
  return cells.filter((cell) => cell.state === 'missing' || cell.state === 'stale');
}

/** `wheelfarm matrix plan`: every cell's state as a table (or JSON), nothing built. */
export async function runMatrixPlan(env: CommandEnvironment, names: string[], options: MatrixFilterOptions): Promise<number> {
  const started = performance.now();
  const { gathered, cells, applications } = await planFiltered(env.farm, names, options);
  const counts = Object.fromEntries(STATES.map((s) => [s, cells.filter((c) => c.state === s).length])) as Record<CellStateName, number>;
  const toBuild = cellsToBuild(cells).length;
  const seconds = (performance.now() - started) / 1000;
  env.reporter.result(
    {
      type: 'plan',
      counts,
      toBuild,
      seconds: Math.round(seconds * 1000) / 1000,
      cells: cells.map(cellJson),
      problems: gathered.problems,
      index: env.farm.index.publisher.description,
      ...(applications.length > 0 ? { applications: applicationPlanJson(applications, cells) } : {}),
    },
    [
      ...planTable(cells),
      ...applicationPlanText(applications, cells),
      ...gathered.problems.map((p) => `${pc.red('problem')} ${p.name}: ${p.message}${p.hint ? `\n  ${pc.yellow('hint:')} ${p.hint}` : ''}`),
      '',
      `${cells.length} cell(s): ${
        STATES.filter((s) => counts[s] > 0)
          .map((s) => `${counts[s]} ${s}`)
          .join(', ') || 'none'
      }; ${toBuild} to build (planned in ${seconds.toFixed(2)} s)`,
      `index: ${env.farm.index.publisher.description}`,
    ],
  );
  return gathered.problems.length > 0 ? EXIT.usage : EXIT.ok;
}

/** Aligned columns; the detail says what a person needs to act on (the wheel, what changed, when it is retried). */
function planTable(cells: PlannedCell[]): string[] {
  if (cells.length === 0) return ['no cells'];
  const rows = cells.map((c) => [c.cell.name, c.cell.version, c.cell.python, c.state, detail(c)]);
  const widths = [0, 1, 2, 3].map((i) => Math.max(['PACKAGE', 'VERSION', 'PYTHON', 'STATE'][i]!.length, ...rows.map((r) => r[i]!.length)));
  const pad = (row: string[]) => row.map((text, i) => (i < 4 ? text.padEnd(widths[i]!) : text)).join('  ');
  return [
    pc.bold(pad(['PACKAGE', 'VERSION', 'PYTHON', 'STATE', 'DETAIL'])),
    ...rows.map((row, i) => {
      const state = cells[i]!.state;
      const text = pad(row);
      const at = text.indexOf(row[3]!, widths[0]! + widths[1]! + widths[2]! + 6);
      return text.slice(0, at) + STATE_COLOUR[state](text.slice(at, at + widths[3]!)) + text.slice(at + widths[3]!);
    }),
  ];
}

function detail(cell: PlannedCell): string {
  switch (cell.state) {
    case 'built':
      return cell.wheel ?? '';
    case 'stale':
      return `${cell.reason}: rebuild as build tag ${cell.buildTag}`;
    default:
      return cell.reason ?? '';
  }
}

function parsePythons(text: string): string[] {
  try {
    const list = text
      .split(',')
      .map((p) => p.trim())
      .filter(Boolean);
    if (list.length === 0) throw new RangeError('empty');
    return list.map(pythonTagFromVersion);
  } catch {
    throw new UserInputError('bad-python-option', `--python expects a comma-separated list like \`3.11,3.13\`, got \`${text}\``);
  }
}

function parseStates(text: string): CellStateName[] {
  const list = text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const bad = list.filter((s) => !(STATES as string[]).includes(s));
  if (list.length === 0 || bad.length > 0) {
    throw new UserInputError('bad-state-option', `--state expects a comma-separated list of ${STATES.join(', ')}; got \`${text}\``);
  }
  return list as CellStateName[];
}

/**
 * Plan, then build the missing and stale cells across the hosts, holding the matrix lock (failed
 * cells wait for their back-off): what `matrix build` and each scheduled run do.
 */
export async function buildMatrixOnce(farm: Farm, names: string[], options: MatrixFilterOptions): Promise<RunSummary> {
  const started = performance.now();
  const sdists = sdistFetcherOf(farm);
  const { gathered, cells, applications } = await planFiltered(farm, names, options, sdists);
  const chosen = cellsToBuild(cells);
  const lock = (work: () => Promise<ScheduleResult>) => withMatrixLock(farm.records(), work);
  const { mirrored, run } = await runMirrorsAndCells(farm, sdists, { gathered, chosen, applications, lock });
  const closure = closureSummary(applications, mirrored);
  return {
    ...(applications.length > 0 ? { closure } : {}),
    title: 'matrix build',
    seconds: (performance.now() - started) / 1000,
    planned: cells,
    chosen,
    run,
    waiting: cells.filter((c) => c.state === 'failed'),
    problems: gathered.problems,
    index: farm.index.publisher.description,
  };
}

/** `wheelfarm matrix build`: plans, then builds every missing and stale cell; keeps going past failures. */
export async function runMatrixBuild(
  { farm, reporter }: CommandEnvironment,
  names: string[],
  options: MatrixFilterOptions,
): Promise<number> {
  const { json, text, exitCode } = renderRunSummary(await buildMatrixOnce(farm, names, options));
  reporter.result(json, text);
  return exitCode;
}
