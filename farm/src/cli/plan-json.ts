import type { PlannedCell } from '../matrix/plan-matrix.ts';

/** A planned cell as `--json` output shows it (plans, summaries' waiting cells). */
export function cellJson(cell: PlannedCell): Record<string, unknown> {
  return {
    buildId: cell.buildId,
    name: cell.cell.name,
    version: cell.cell.version,
    python: cell.cell.python,
    platform: cell.cell.platform,
    state: cell.state,
    ...(cell.reason ? { reason: cell.reason } : {}),
    ...(cell.wheel ? { wheel: cell.wheel } : {}),
    ...(cell.buildTag ? { buildTag: cell.buildTag } : {}),
    ...(cell.retryAt ? { retryAt: cell.retryAt } : {}),
    newRelease: cell.newRelease,
    expectedSeconds: Math.round(cell.expectedSeconds * 10) / 10,
  };
}
