import { isProcessAlive } from '../process/process-owner.ts';
import type { BuildRecords } from '../records/build-records.ts';
import type { PublishIndex } from './cell-deps.ts';
import type { EmitEvent } from './events.ts';

/**
 * Before a run builds anything:
 * - the pages a publish owes (it stopped between manifest and pages: killed, a full disk, the storage
 *   giving out) are written, as the note it left says. Otherwise the run would count that wheel as
 *   built, find it listed, and never link it;
 * - the builds of farm processes that died (`running` records whose process is gone) are marked
 *   abandoned, and, when there were any, the whole index's pages are rebuilt from its manifests
 *   (publishes of versions before the notes existed; dead publishes' temp files go too).
 * Indexes that render their own pages, devpi and pypiserver, need nothing.
 */
export async function recoverFromCrashes({
  index,
  records,
  emit,
}: {
  index: PublishIndex;
  records: BuildRecords;
  emit: EmitEvent;
}): Promise<void> {
  const maintained = index.publisher.maintenance;
  const settled = (await maintained?.settlePending()) ?? [];
  if (settled.length > 0) emit({ type: 'settled', projects: settled });
  const abandoned = await records.abandonOrphans(isProcessAlive);
  if (abandoned === 0) return;
  const repaired = maintained ? await maintained.repair() : undefined;
  emit({ type: 'abandoned', builds: abandoned, ...(repaired ? { repairedProjects: repaired.projects } : {}) });
}
