import { UserInputError } from '../../errors.ts';
import { gatherDepsOf, sdistFetcherOf } from '../../farm.ts';
import { gatherBuild } from '../../matrix/gather-build.ts';
import { planMatrix } from '../../matrix/plan-matrix.ts';
import { parsePackageSpec } from '../../pipeline/parse-package-spec.ts';
import { pythonVersionFromTag } from '../../wheels/build-id.ts';
import { renderRunSummary } from '../render-run-summary.ts';
import type { CommandEnvironment } from '../run-command.ts';
import { runPlannedCells } from './run-planned-cells.ts';

export interface BuildCommandOptions {
  python?: string;
  jobs?: string;
  rebuild?: boolean;
}

/**
 * `wheelfarm build NAME[==VERSION]`: gather (recipe, release, sdist), plan, run on the hosts: the
 * path `matrix build` takes, for one package. An explicit build runs every cell its Pythons admit:
 * one already built is reported skipped by the cell itself, and one whose last builds failed is
 * tried again at once (the failure back-off is for unattended runs; the plan's reason says so).
 */
export async function runBuildCommand(
  { farm, settings, reporter }: CommandEnvironment,
  packageSpec: string,
  options: BuildCommandOptions,
): Promise<number> {
  const spec = parsePackageSpec(packageSpec);
  const pythons = options.python === undefined ? undefined : parsePythonList(options.python);
  const slots = options.jobs === undefined ? settings.jobs : parseJobs(options.jobs);
  const started = performance.now();
  const sdists = sdistFetcherOf(farm);
  const gathered = await gatherBuild(
    { ...gatherDepsOf(farm), sdists },
    { spec, rebuild: options.rebuild === true, ...(pythons ? { pythons } : {}) },
  );
  const planned = planMatrix(gathered.packages, gathered.environment);
  const chosen = planned.filter((c) => c.state !== 'excluded');
  const skipped = planned
    .filter((c) => c.state === 'excluded')
    .map((c) => ({ python: pythonVersionFromTag(c.cell.python), reason: c.reason ?? '' }));
  const run = await runPlannedCells(farm, sdists, { gathered, chosen, skipped, slots });
  const seconds = (performance.now() - started) / 1000;
  const index = farm.index.publisher.description;
  const { json, text, exitCode } = renderRunSummary({ title: 'build', seconds, planned, chosen, run, waiting: [], problems: [], index });
  reporter.result(json, text);
  return exitCode;
}

function parsePythonList(text: string): string[] {
  const list = text
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);
  const bad = list.filter((p) => !/^3\.\d{1,2}$/.test(p));
  if (list.length === 0 || bad.length > 0) {
    throw new UserInputError('bad-python-option', `--python expects a comma-separated list like \`3.11,3.13\`, got \`${text}\``, {
      hint: 'name CPython minor versions the build image has (see `./wheelfarm images list`)',
    });
  }
  return list;
}

function parseJobs(text: string): number {
  const jobs = Number(text);
  if (!Number.isInteger(jobs) || jobs < 1 || jobs > 64) {
    throw new UserInputError('bad-jobs-option', `--jobs expects a whole number from 1 to 64, got \`${text}\``);
  }
  return jobs;
}
