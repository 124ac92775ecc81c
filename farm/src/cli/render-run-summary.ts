import pc from 'picocolors';
import type { ClosureEntryJson } from '../applications/closure-record.ts';
import type { MirrorResult, PlannedMirror } from '../applications/mirror-files.ts';
import type { ScheduleResult, ScheduledResult } from '../matrix/cell-scheduler.ts';
import type { MatrixProblem } from '../matrix/gather-parts.ts';
import type { PlannedCell } from '../matrix/plan-matrix.ts';
import { LOCAL_HOST } from '../runtime/docker-hosts.ts';
import { EXIT, exitCodeForFailedCells } from './exit-codes.ts';
import { cellJson } from './plan-json.ts';
import { formatSeconds } from './reporter.ts';

export const OUTCOMES = ['published', 'unchanged', 'skipped', 'failed'] as const;
export type OutcomeCounts = Record<(typeof OUTCOMES)[number], number>;

/** What a run that built cells did: the same for `build`, `matrix build` and a scheduled run. */
export interface RunSummary {
  /** `build` or `matrix build`: how the headline names the run. */
  title: string;
  seconds: number;
  /** Every cell of the plan, and the ones chosen to run. */
  planned: PlannedCell[];
  chosen: PlannedCell[];
  run: ScheduleResult;
  /** Failed cells waiting for their back-off, not run. */
  waiting: PlannedCell[];
  problems: MatrixProblem[];
  index: string;
  /** An application's closure (`build -r`, `--lock`, a package's dependencies): what it holds, and its mirrored wheels. */
  closure?: ClosureSummary;
}

export interface ClosureSummary {
  applications: { application: string; record: string; dists: ClosureEntryJson[] }[];
  mirrors: PlannedMirror[];
  mirrored: MirrorResult[];
}

export function countOutcomes(results: ScheduledResult[]): OutcomeCounts {
  return Object.fromEntries(OUTCOMES.map((o) => [o, results.filter((r) => r.outcome === o).length])) as OutcomeCounts;
}

/** The results in the plan's order (the scheduler finishes them in any order). */
function inPlanOrder(summary: RunSummary): ScheduledResult[] {
  const order = new Map(summary.chosen.map((c, i) => [c.buildId, i]));
  return [...summary.run.results].sort((a, b) => (order.get(a.buildId) ?? 0) - (order.get(b.buildId) ?? 0));
}

/** The summary as JSON (`--json`), as text lines for people, and the exit status it means. */
export function renderRunSummary(summary: RunSummary): {
  json: { type: string; [key: string]: unknown };
  text: string[];
  exitCode: number;
} {
  const results = inPlanOrder(summary);
  const counts = countOutcomes(results);
  const failed = results.filter((r) => r.outcome === 'failed');
  const mirrorFailures = (summary.closure?.mirrored ?? []).filter((m) => m.outcome === 'failed');
  const json = {
    type: 'summary',
    ok: failed.length === 0 && mirrorFailures.length === 0 && summary.problems.length === 0,
    planned: summary.planned.length,
    built: summary.chosen.length,
    counts,
    waiting: summary.waiting.map(cellJson),
    lostHosts: summary.run.lostHosts,
    problems: summary.problems,
    results: results.map(({ error, requiresDist: _, ...rest }) => ({
      ...rest,
      ...(error ? { error: { code: error.code, message: error.message } } : {}),
    })),
    ...(summary.closure ? { closure: closureJson(summary.closure) } : {}),
    seconds: Math.round(summary.seconds * 10) / 10,
    index: summary.index,
  };
  const errors = [...failed.map((r) => r.error), ...mirrorFailures.map((m) => m.error)];
  const exitCode = errors.length > 0 ? exitCodeForFailedCells(errors) : summary.problems.length > 0 ? EXIT.usage : EXIT.ok;
  return { json, text: [...summaryText(summary, results, counts), ...closureText(summary.closure)], exitCode };
}

function closureJson(closure: ClosureSummary) {
  const mirrored = new Map(closure.mirrored.map((m) => [m.filename, m]));
  const mirrors = closure.mirrors.map((p) => {
    const done = mirrored.get(p.entry.file.filename);
    return {
      project: p.entry.dist.name,
      filename: p.entry.file.filename,
      state: done?.outcome ?? p.state,
      ...(done?.error ? { error: { code: done.error.code, message: done.error.message } } : {}),
    };
  });
  return { applications: closure.applications, mirrors };
}

/** The closure's lines: what it holds, what was mirrored now, what failed to mirror. */
function closureText(closure: ClosureSummary | undefined): string[] {
  if (!closure) return [];
  const count = (state: string) => closure.mirrored.filter((m) => m.outcome === state).length;
  const already = closure.mirrors.filter((m) => m.state === 'mirrored').length;
  return [
    ...closure.applications.map((a) => {
      const built = a.dists.filter((d) => d.kind === 'build').length;
      return `closure of ${a.application}: ${a.dists.length} distribution(s), ${built} built from source, ${a.dists.length - built} mirrored  ${pc.dim(`(record: ${a.record})`)}`;
    }),
    `mirrored: ${count('published')} copied now, ${already + count('unchanged')} already in the index${count('failed') > 0 ? pc.red(`, ${count('failed')} failed`) : ''}`,
    ...closure.mirrored
      .filter((m) => m.outcome === 'failed')
      .map((m) => `  ${pc.red('failed')}    ${m.filename}: ${m.error?.message ?? ''}`),
  ];
}

function summaryText(summary: RunSummary, results: ScheduledResult[], counts: OutcomeCounts): string[] {
  const failed = counts.failed > 0;
  const headline = failed ? pc.red(`${summary.title} finished with failures`) : pc.green(`${summary.title} done`);
  const outcomes = OUTCOMES.filter((o) => counts[o] > 0).map((o) => `${counts[o]} ${o}`);
  // The host is worth a column only when cells ran on hosts of the settings.
  const showHost = results.some((r) => r.host !== undefined && r.host !== LOCAL_HOST);
  return [
    '',
    `${headline} in ${formatSeconds(summary.seconds)}: ${summary.planned.length} cell(s) planned, ${summary.chosen.length} to build` +
      (outcomes.length > 0 ? ` -> ${outcomes.join(', ')}` : ''),
    ...results.map((r) => resultLine(r, showHost)),
    ...summary.waiting.map((c) => `  ${pc.yellow('waiting')}   ${c.buildId}: ${c.reason}`),
    ...summary.run.lostHosts.map((h) => `  ${pc.red('lost host')} ${h.name}: ${h.reason}`),
    ...summary.problems.map((p) => `  ${pc.red('problem')}   ${p.name}: ${p.message}`),
    `index: ${summary.index}`,
  ];
}

function resultLine(r: ScheduledResult, showHost: boolean): string {
  const host = showHost && r.host ? pc.dim(` @${r.host}`) : '';
  const reason = r.reason && r.outcome !== 'skipped' ? `  (${r.reason})` : '';
  const failure = r.outcome === 'failed' ? `  ${pc.dim(r.log ? `(log: ${r.log})` : `(${r.error?.message ?? ''})`)}` : '';
  return `  ${r.outcome.padEnd(9)} ${r.buildId}${host}${r.wheel ? `  ${r.wheel}` : ''}${reason}${failure}`;
}
