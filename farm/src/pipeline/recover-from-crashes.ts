import type { FarmContext } from '../farm-context.ts';
import { isMaintainedIndex } from '../index/publisher.ts';
import { isProcessAlive } from '../process/process-owner.ts';

/**
 * Before a run builds anything: the builds of farm processes that died (`running` records whose
 * process is gone) are marked abandoned, and, when there were any, the index's pages are rebuilt
 * from its manifests. A process killed while publishing may have listed its wheel without linking
 * it yet; the next run counts such a wheel as built and would never publish it again, so the pages
 * must catch up here. (Indexes that render their own pages, devpi and pypiserver, need nothing.)
 */
export async function recoverFromCrashes(context: FarmContext): Promise<void> {
  const abandoned = await context.records().abandonOrphans(isProcessAlive);
  if (abandoned === 0) return;
  const repaired = isMaintainedIndex(context.publisher) ? await context.publisher.repair() : undefined;
  context.emit({ type: 'abandoned', builds: abandoned, ...(repaired ? { repairedProjects: repaired.projects } : {}) });
}
