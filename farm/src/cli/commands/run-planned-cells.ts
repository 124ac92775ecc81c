import type { Farm } from '../../farm.ts';
import { runDepsOf } from '../../farm.ts';
import type { ScheduleResult } from '../../matrix/cell-scheduler.ts';
import type { GatheredMatrix } from '../../matrix/gather-parts.ts';
import type { PlannedCell } from '../../matrix/plan-matrix.ts';
import { runCells } from '../../matrix/run-cells.ts';
import type { SdistFetcher } from '../../pipeline/sdist-fetcher.ts';
import { buildHosts } from '../../runtime/build-host.ts';

/**
 * The chosen cells of a plan, announced (`planned`) and run on the hosts (the settings' `hosts`,
 * else the local engine with `slots` cells at once), inside `lock` when one is given. Nothing is
 * run, and no lock taken, when no cell was chosen.
 */
export async function runPlannedCells(
  farm: Farm,
  sdists: SdistFetcher,
  {
    gathered,
    chosen,
    skipped,
    slots,
    lock,
  }: {
    gathered: GatheredMatrix;
    chosen: PlannedCell[];
    /** Pythons the plan left out, with why (`build` shows them; a matrix plan lists its excluded cells). */
    skipped: { python: string; reason: string }[];
    slots?: number;
    lock?: (work: () => Promise<ScheduleResult>) => Promise<ScheduleResult>;
  },
): Promise<ScheduleResult> {
  farm.emit({ type: 'planned', buildIds: chosen.map((c) => c.buildId), skipped });
  if (chosen.length === 0) return { results: [], lostHosts: [] };
  const hosts = buildHosts(farm.settings, { localRuntime: farm.runtime, ...(slots !== undefined ? { slots } : {}) });
  const run = () => runCells(runDepsOf(farm, sdists), { gathered, cells: chosen, hosts });
  return lock ? lock(run) : run();
}
