import pc from 'picocolors';
import { UserInputError } from '../../errors.ts';
import { buildPackage } from '../../pipeline/build-package.ts';
import { parsePackageSpec } from '../../pipeline/parse-package-spec.ts';
import { EXIT, exitCodeForFailedCells } from '../exit-codes.ts';
import { formatSeconds } from '../reporter.ts';
import type { CommandEnvironment } from '../run-command.ts';

export interface BuildCommandOptions {
  python?: string;
  jobs?: string;
  rebuild?: boolean;
}

export async function runBuildCommand(
  { context, settings, reporter }: CommandEnvironment,
  packageSpec: string,
  options: BuildCommandOptions,
): Promise<number> {
  const spec = parsePackageSpec(packageSpec);
  const pythons = options.python === undefined ? undefined : parsePythonList(options.python);
  const jobs = options.jobs === undefined ? settings.jobs : parseJobs(options.jobs);
  const started = performance.now();
  const results = await buildPackage(context, { spec, jobs, rebuild: options.rebuild === true, ...(pythons ? { pythons } : {}) });
  const failed = results.filter((r) => r.outcome === 'failed');
  const counts = Object.fromEntries(
    ['published', 'unchanged', 'skipped', 'failed'].map((o) => [o, results.filter((r) => r.outcome === o).length]),
  );
  const text = [
    '',
    `${failed.length > 0 ? pc.red('failed') : pc.green('done')} in ${formatSeconds((performance.now() - started) / 1000)}: ` +
      Object.entries(counts)
        .filter(([, n]) => n > 0)
        .map(([o, n]) => `${n} ${o}`)
        .join(', '),
    ...results.map(
      (r) =>
        `  ${r.outcome.padEnd(9)} ${r.buildId}${r.wheel ? `  ${r.wheel}` : ''}${r.reason && r.outcome !== 'skipped' ? `  (${r.reason})` : ''}` +
        `${r.log && r.outcome === 'failed' ? `  (log: ${r.log})` : ''}`,
    ),
    `index: ${context.publisher.description}`,
  ];
  reporter.result(
    {
      type: 'summary',
      ok: failed.length === 0,
      counts,
      results: results.map(({ error, ...rest }) => ({
        ...rest,
        ...(error ? { error: { code: error.code, message: error.message } } : {}),
      })),
      index: context.publisher.description,
    },
    text,
  );
  return failed.length > 0 ? exitCodeForFailedCells(failed.map((r) => r.error)) : EXIT.ok;
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
