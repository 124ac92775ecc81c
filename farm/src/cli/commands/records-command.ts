import { access } from 'node:fs/promises';
import pc from 'picocolors';
import { UserInputError } from '../../errors.ts';
import type { BuildRecord, BuildState } from '../../records/build-records.ts';
import { recordSeconds } from '../../records/build-records.ts';
import { copyBuildLog } from '../../records/build-log.ts';
import { normalizeName } from '../../wheels/names.ts';
import { EXIT } from '../exit-codes.ts';
import { formatSeconds } from '../reporter.ts';
import type { CommandEnvironment } from '../run-command.ts';

const STATES: BuildState[] = ['running', 'published', 'unchanged', 'failed', 'interrupted', 'abandoned'];
const COLOUR: Record<BuildState, (text: string) => string> = {
  running: pc.cyan,
  published: pc.green,
  unchanged: pc.green,
  failed: pc.red,
  interrupted: pc.yellow,
  abandoned: pc.yellow,
};

/** `wheelfarm status [PACKAGE]`: the newest builds from the records, newest first. */
export async function runStatus(
  { farm, reporter }: CommandEnvironment,
  project: string | undefined,
  options: { state?: string; limit?: string },
): Promise<number> {
  const limit = options.limit === undefined ? 30 : Number(options.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) {
    throw new UserInputError('bad-limit-option', `--limit expects a whole number from 1 to 10000, got \`${options.limit}\``);
  }
  if (options.state !== undefined && !(STATES as string[]).includes(options.state)) {
    throw new UserInputError('bad-state-option', `--state expects one of ${STATES.join(', ')}, got \`${options.state}\``);
  }
  const records = await farm.records().list({
    ...(project ? { buildId: `${normalizeName(project)}-*` } : {}),
    ...(options.state ? { state: options.state as BuildState } : {}),
    limit,
  });
  reporter.result(
    { type: 'status', records },
    records.length === 0
      ? [
          `no builds recorded${project ? ` for ${project}` : ''} yet (records: ${farm.settings.recordsUrl ? 'PostgreSQL' : `${farm.settings.home}/records.db`})`,
        ]
      : table(records),
  );
  return EXIT.ok;
}

function table(records: BuildRecord[]): string[] {
  const rows = records.map((r) => [
    String(r.id),
    r.buildId,
    r.state,
    r.buildTag ?? '',
    r.startedAt.replace('T', ' ').slice(0, 19),
    r.finishedAt ? formatSeconds(recordSeconds(r)) : '',
    r.state === 'failed' ? (r.error ?? '') : (r.wheel ?? ''),
  ]);
  const heads = ['ID', 'BUILD', 'STATE', 'TAG', 'STARTED (UTC)', 'TIME'];
  const widths = heads.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (row: string[], colour?: (t: string) => string) =>
    row
      .map((cell, i) => (i === 2 && colour ? colour(cell.padEnd(widths[i]!)) : i < heads.length ? cell.padEnd(widths[i]!) : cell))
      .join('  ');
  return [pc.bold(line([...heads, 'WHEEL / ERROR'])), ...rows.map((row, i) => line(row, COLOUR[records[i]!.state]))];
}

/** `wheelfarm logs ID|BUILD-ID`: a build's log, decompressed, on stdout. */
export async function runLogs({ farm }: CommandEnvironment, which: string): Promise<number> {
  const record = /^\d+$/.test(which)
    ? await farm.records().get(Number(which))
    : (await farm.records().list({ buildId: which, limit: 1 }))[0];
  if (!record) {
    throw new UserInputError('no-such-build', `no build \`${which}\` in the records`, {
      hint: 'give a record number or a build identifier from `wheelfarm status`',
    });
  }
  if (!record.log) throw new UserInputError('no-log', `build ${record.id} (${record.buildId}) kept no log`);
  try {
    await access(record.log);
  } catch {
    throw new UserInputError('log-missing', `the log of build ${record.id} (${record.buildId}) is gone: ${record.log}`, {
      hint: 'logs live under the farm home (`home` in wheelfarm.yaml); was it cleaned, or is this another machine?',
    });
  }
  const { complete } = await copyBuildLog(record.log, process.stdout);
  if (!complete)
    process.stderr.write(
      pc.dim(`\n(the log ends here: build ${record.id} is ${record.state === 'running' ? 'still running' : 'cut short'})\n`),
    );
  return EXIT.ok;
}
