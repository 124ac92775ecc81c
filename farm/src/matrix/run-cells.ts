import { TransientError } from '../errors.ts';
import { recoverFromCrashes } from '../pipeline/recover-from-crashes.ts';
import type { BuildRecords } from '../records/build-records.ts';
import type { BuildHost } from '../runtime/build-host.ts';
import { removeCellLeftovers } from '../runtime/remove-cell-leftovers.ts';
import { waitForEngine } from '../runtime/wait-for-engine.ts';
import type { RunDeps } from './cell-runner.ts';
import { CellRunner } from './cell-runner.ts';
import { CellScheduler } from './cell-scheduler.ts';
import type { ScheduleResult } from './cell-scheduler.ts';
import type { GatheredMatrix } from './gather-parts.ts';
import { ImagePlacement } from './image-placement.ts';
import type { PlannedCell } from './plan-matrix.ts';

/**
 * Runs planned cells across the hosts: the one path from a plan to published wheels, whether the
 * cells came from `build`, `matrix build` or a schedule. Hosts whose containers could not reach the
 * upstream without its credentials are refused first (not as a failure of each of their cells);
 * then what crashed runs left is recovered; then the scheduler places cells (cell-scheduler.ts)
 * and the runner builds them (cell-runner.ts).
 */
export async function runCells(
  deps: RunDeps,
  { gathered, cells, hosts }: { gathered: GatheredMatrix; cells: PlannedCell[]; hosts: BuildHost[] },
): Promise<ScheduleResult> {
  for (const host of hosts) await deps.upstream.check(host.runtime);
  await recoverFromCrashes(deps);
  const byName = new Map(hosts.map((h) => [h.name, h]));
  const host = (name: string) => byName.get(name)!;
  let scheduler: CellScheduler<PlannedCell> | undefined;
  const placement = new ImagePlacement({ hosts, isLive: (name) => scheduler?.isLive(name) ?? true, emit: deps.emit, signal: deps.signal });
  const runner = new CellRunner(deps, gathered, placement);
  scheduler = new CellScheduler<PlannedCell>(
    hosts,
    {
      runCell: (name, cell) => runner.run(host(name), cell),
      waitForEngine: (name, signal) =>
        waitForEngine({ runtime: host(name).runtime, timeoutSeconds: deps.settings.engineWaitSeconds, signal }),
      hostBack: async (name, buildIds) => {
        await removeCellLeftovers({ runtime: host(name).runtime, buildIds });
        // A wiped engine may have lost what was placed there: looked at again.
        placement.forget(name);
      },
      emit: deps.emit,
    },
    { engineWaitSeconds: deps.settings.engineWaitSeconds, signal: deps.signal },
  );
  return scheduler.run(cells);
}

/** The lock that keeps two matrix builds (of any farm process sharing the records) from running at once. */
export const MATRIX_LOCK = 'matrix';

/** Runs `work` holding the matrix lock; refuses at once when another farm process holds it. */
export async function withMatrixLock<T>(records: BuildRecords, work: () => Promise<T>): Promise<T> {
  const release = await records.tryLock(MATRIX_LOCK);
  if (!release) {
    throw new TransientError('matrix-busy', 'another matrix build is running (a farm process sharing these build records holds the lock)', {
      hint: 'wait for it to finish; a crashed holder frees the lock within 30 s',
    });
  }
  try {
    return await work();
  } finally {
    await release();
  }
}
