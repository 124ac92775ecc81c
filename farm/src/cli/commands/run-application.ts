import type { ApplicationInput } from '../../applications/application-input.ts';
import type { MirrorResult } from '../../applications/mirror-files.ts';
import { runMirrors } from '../../applications/mirror-files.ts';
import type { Farm } from '../../farm.ts';
import { applicationDepsOf, mirrorDepsOf } from '../../farm.ts';
import type { ScheduleResult } from '../../matrix/cell-scheduler.ts';
import { closureEntryJson } from '../../applications/closure-record.ts';
import type { GatheredApplication } from '../../matrix/gather-application.ts';
import type { GatheredMatrix } from '../../matrix/gather-parts.ts';
import type { ClosureSummary } from '../render-run-summary.ts';
import { gatherApplication } from '../../matrix/gather-application.ts';
import type { PlannedCell } from '../../matrix/plan-matrix.ts';
import { planMatrix } from '../../matrix/plan-matrix.ts';
import type { SdistFetcher } from '../../pipeline/sdist-fetcher.ts';
import { buildHosts } from '../../runtime/build-host.ts';
import { runPlannedCells } from './run-planned-cells.ts';

/** What filling the index with an application's closure did. */
export interface ApplicationRun {
  gathered: GatheredApplication;
  planned: PlannedCell[];
  chosen: PlannedCell[];
  run: ScheduleResult;
  mirrors: MirrorResult[];
}

/**
 * An application's closure into the index: gathered (resolved, classified, recorded), planned like a
 * matrix, then its missing pure wheels mirrored while its missing and stale cells build on the hosts
 * (the one path from a plan to published wheels). Cells the index serves built from the same inputs
 * are left alone, so a second run publishes nothing.
 */
export async function runApplication(
  farm: Farm,
  sdists: SdistFetcher,
  options: {
    inputs: ApplicationInput[];
    application: string;
    pythons?: string[];
    rebuild?: boolean;
    slots?: number;
    retryFailed?: boolean;
  },
): Promise<ApplicationRun> {
  const hosts = buildHosts(farm.settings, { localRuntime: farm.runtime, ...(options.slots !== undefined ? { slots: options.slots } : {}) });
  const gathered = await gatherApplication(applicationDepsOf(farm, hosts[0]!, sdists), {
    inputs: options.inputs,
    application: options.application,
    ...(options.pythons ? { pythons: options.pythons } : {}),
    rebuild: options.rebuild === true,
  });
  const planned = planMatrix(gathered.packages, gathered.environment);
  // An explicit build tries failed cells again at once; the back-off is for unattended runs.
  const runs = (c: PlannedCell) => c.state === 'missing' || c.state === 'stale' || (c.state === 'failed' && options.retryFailed !== false);
  const chosen = planned.filter(runs);
  const slots = options.slots !== undefined ? { slots: options.slots } : {};
  const { mirrored, run } = await runMirrorsAndCells(farm, sdists, { gathered, chosen, applications: [gathered], ...slots });
  return { gathered, planned, chosen, run, mirrors: mirrored };
}

/**
 * The applications' missing pure wheels mirrored while the chosen cells build on the hosts (inside
 * `lock` when one is given): how `build -r`, `build NAME`'s dependencies and `matrix build` run a plan with closures.
 */
export async function runMirrorsAndCells(
  farm: Farm,
  sdists: SdistFetcher,
  {
    gathered,
    chosen,
    applications,
    slots,
    lock,
  }: {
    gathered: GatheredMatrix;
    chosen: PlannedCell[];
    applications: GatheredApplication[];
    slots?: number;
    lock?: (work: () => Promise<ScheduleResult>) => Promise<ScheduleResult>;
  },
): Promise<{ mirrored: MirrorResult[]; run: ScheduleResult }> {
  const [mirrored, run] = await Promise.all([
    runMirrors(
      mirrorDepsOf(farm),
      applications.flatMap((a) => a.mirrors),
    ),
    runPlannedCells(farm, sdists, { gathered, chosen, skipped: [], ...(slots !== undefined ? { slots } : {}), ...(lock ? { lock } : {}) }),
  ]);
  return { mirrored, run };
}

/** The run summary's part for closures: each application's distributions, its mirrors and what mirroring did. */
export function closureSummary(applications: GatheredApplication[], mirrored: MirrorResult[]): ClosureSummary {
  return {
    applications: applications.map((a) => ({
      application: a.closure.application,
      record: a.record,
      dists: a.entries.map(closureEntryJson),
    })),
    mirrors: applications.flatMap((a) => a.mirrors),
    mirrored,
  };
}
