// Do the build records tell the truth after a crash and the run that followed it?
import { indexIdentity, parseIndexTarget } from '../../src/index/parse-index-target.ts';
import type { BuildRecord } from '../../src/records/build-records.ts';
import { openBuildRecords } from '../../src/records/open-build-records.ts';

export interface RecordsCheck {
  /** A record still `running`, or one that says published for a wheel the index does not serve. */
  problems: string[];
  /** The records of builds for the index, newest first. */
  records: BuildRecord[];
}

/**
 * Reads every record in `home` (SQLite): none may be `running` (the run after a crash marks the
 * crashed one abandoned), and each build for the index `target` (a directory or an index URL, as
 * `--index` was given it; named as the farm names it) that says published or unchanged must name
 * a wheel the index serves with that sha256 (`served`, from checkIndex).
 */
export async function checkRecords({
  home,
  target,
  served,
}: {
  home: string;
  target: string;
  served: { filename: string; sha256: string }[];
}): Promise<RecordsCheck> {
  const store = openBuildRecords({ home, url: undefined });
  try {
    const all = await store.list({ limit: 1_000_000 });
    const records = all.filter((r) => r.index === indexIdentity(parseIndexTarget(target)));
    const problems = all.filter((r) => r.state === 'running').map((r) => `record ${r.id} (${r.buildId}, pid ${r.pid}) is still running`);
    for (const record of records.filter((r) => r.state === 'published' || r.state === 'unchanged')) {
      if (!served.some((w) => w.filename === record.wheel && w.sha256 === record.wheelSha256)) {
        problems.push(
          `record ${record.id} says ${record.state} ${record.wheel} (sha256 ${record.wheelSha256}), which the index does not serve`,
        );
      }
    }
    return { problems, records };
  } finally {
    await store.close();
  }
}
