import { basename } from 'node:path';
import type { ApplicationInput } from '../../applications/application-input.ts';
import { readPylockFile } from '../../applications/pylock-file.ts';
import { readRequirementsFile } from '../../applications/requirements-file.ts';
import { UserInputError } from '../../errors.ts';
import { gatherDepsOf, sdistFetcherOf } from '../../farm.ts';
import { gatherBuild } from '../../matrix/gather-build.ts';
import { planMatrix } from '../../matrix/plan-matrix.ts';
import { parsePackageSpec } from '../../pipeline/parse-package-spec.ts';
import { pythonVersionFromTag } from '../../wheels/build-id.ts';
import { renderRunSummary } from '../render-run-summary.ts';
import type { CommandEnvironment } from '../run-command.ts';
import { dependenciesOfBuilt } from './package-dependencies.ts';
import { closureSummary, runApplication } from './run-application.ts';
import { runPlannedCells } from './run-planned-cells.ts';

export interface BuildCommandOptions {
  python?: string;
  jobs?: string;
  rebuild?: boolean;
  requirement?: string[];
  lock?: string[];
  /** Commander's `--no-deps`: false when given. */
  deps?: boolean;
}

/**
 * `wheelfarm build NAME[==VERSION]` or `wheelfarm build -r FILE / --lock FILE`: gather, plan, run on
 * the hosts, the path `matrix build` takes. A package build brings its runtime closure after it
 * (unless --no-deps); an application build resolves the whole closure first.
 */
export async function runBuildCommand(
  env: CommandEnvironment,
  packageSpec: string | undefined,
  options: BuildCommandOptions,
): Promise<number> {
  const files = [...(options.requirement ?? []), ...(options.lock ?? [])];
  if ((packageSpec === undefined) === (files.length === 0)) {
    throw new UserInputError('build-needs-one-input', 'name a package, or give requirement (-r) or lock (--lock) files, not both', {
      hint: 'e.g. `./wheelfarm build markupsafe` or `./wheelfarm build -r requirements.txt`',
    });
  }
  return packageSpec !== undefined ? buildPackage(env, packageSpec, options) : buildApplication(env, options);
}

/**
 * One package: gather (recipe, release, sdist), plan, run. An explicit build runs every cell its
 * Pythons admit: one already built is reported skipped by the cell itself, and one whose last builds
 * failed is tried again at once (the failure back-off is for unattended runs; the plan's reason says so).
 */
async function buildPackage(
  { farm, settings, reporter }: CommandEnvironment,
  packageSpec: string,
  options: BuildCommandOptions,
): Promise<number> {
  const spec = parsePackageSpec(packageSpec);
  const pythons = options.python === undefined ? undefined : parsePythonList(options.python);
  const slots = options.jobs === undefined ? settings.jobs : parseJobs(options.jobs);
  const started = performance.now();
  const sdists = sdistFetcherOf(farm);
  const gathered = await gatherBuild(gatherDepsOf(farm, sdists), {
    spec,
    rebuild: options.rebuild === true,
    ...(pythons ? { pythons } : {}),
  });
  const planned = planMatrix(gathered.packages, gathered.environment);
  const chosen = planned.filter((c) => c.state !== 'excluded');
  const skipped = planned
    .filter((c) => c.state === 'excluded')
    .map((c) => ({ python: pythonVersionFromTag(c.cell.python), reason: c.reason ?? '' }));
  const run = await runPlannedCells(farm, sdists, { gathered, chosen, skipped, slots });
  const wanted = options.deps === false ? undefined : dependenciesOfBuilt(gathered, chosen, run);
  const deps = wanted && (await runApplication(farm, sdists, { ...wanted, slots }));
  const seconds = (performance.now() - started) / 1000;
  const index = farm.index.publisher.description;
  const summary = deps
    ? {
        planned: [...planned, ...deps.planned],
        chosen: [...chosen, ...deps.chosen],
        run: { results: [...run.results, ...deps.run.results], lostHosts: [...run.lostHosts, ...deps.run.lostHosts] },
        closure: closureSummary([deps.gathered], deps.mirrors),
      }
    : { planned, chosen, run };
  const { json, text, exitCode } = renderRunSummary({ title: 'build', seconds, waiting: [], problems: [], index, ...summary });
  reporter.result(json, text);
  return exitCode;
}

/** `-r`/`--lock`: every file read and checked first, then the application's closure into the index. */
async function buildApplication({ farm, settings, reporter }: CommandEnvironment, options: BuildCommandOptions): Promise<number> {
  const pythons = options.python === undefined ? undefined : parsePythonList(options.python);
  const slots = options.jobs === undefined ? settings.jobs : parseJobs(options.jobs);
  const started = performance.now();
  const inputs: ApplicationInput[] = [
    ...(await Promise.all((options.requirement ?? []).map(readRequirementsFile))),
    ...(await Promise.all((options.lock ?? []).map(readPylockFile))),
  ];
  const application = inputs.map((i) => i.file).join(' ');
  const app = await runApplication(farm, sdistFetcherOf(farm), {
    inputs,
    application,
    ...(pythons ? { pythons } : {}),
    rebuild: options.rebuild === true,
    slots,
  });
  const seconds = (performance.now() - started) / 1000;
  const { json, text, exitCode } = renderRunSummary({
    title: `build ${inputs.map((i) => basename(i.file)).join(', ')}`,
    seconds,
    planned: app.planned,
    chosen: app.chosen,
    run: app.run,
    waiting: [],
    problems: [],
    index: farm.index.publisher.description,
    closure: closureSummary([app.gathered], app.mirrors),
  });
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
