import { join } from 'node:path';
import type { BuildRecords } from './build-records.ts';
import { PostgresBuildRecords } from './postgres-build-records.ts';
import { SqliteBuildRecords } from './sqlite-build-records.ts';

/**
 * The build records the settings ask for: the SQLite file `<home>/records.db` by default, a
 * PostgreSQL database when `records.url` (or WHEELFARM_RECORDS_URL) is set, so several farm
 * processes on several machines share records and locks.
 */
export function openBuildRecords({ home, url }: { home: string; url: string | undefined }): BuildRecords {
  return url === undefined ? new SqliteBuildRecords({ path: join(home, 'records.db') }) : new PostgresBuildRecords({ url });
}
