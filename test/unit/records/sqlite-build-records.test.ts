import { writeFile } from 'node:fs/promises';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { describe, expect, it } from 'vitest';
import type { BeginBuild } from '../../../farm/src/records/build-records.ts';
import { SqliteBuildRecords } from '../../../farm/src/records/sqlite-build-records.ts';

const BEGIN: BeginBuild = {
  buildId: 'pyyaml-6.0.3-cp313-manylinux_2_31_x86_64',
  cell: { name: 'pyyaml', version: '6.0.3', python: 'cp313', platform: 'manylinux_2_31_x86_64' },
  index: 'dir:/srv/index',
  inputs: { source: `sha256:${'a'.repeat(64)}`, recipe: 'r1', image: 'wheelfarm/build:1' },
  buildTag: undefined,
  log: '/logs/pyyaml/1.log',
};

async function open(host = 'farm-a'): Promise<{ records: SqliteBuildRecords; path: string }> {
  const path = join(await mkdtemp(join(tmpdir(), 'wheelfarm-records-')), 'records.db');
  return { records: new SqliteBuildRecords({ path, host }), path };
}

describe('SqliteBuildRecords', () => {
  it('a build is running until it finishes; only published or unchanged builds count as done', async () => {
    const { records } = await open();
    const id = await records.begin(BEGIN);
    expect(await records.get(id)).toMatchObject({ state: 'running', finishedAt: undefined, wheel: undefined, pid: process.pid, host: 'farm-a' });
    expect(await records.latestDone(BEGIN.buildId, BEGIN.index)).toBeUndefined();
    await records.finish(id, { state: 'published', steps: { build: 3.2, repair: 0.7 }, wheel: 'w.whl', wheelSha256: 'f'.repeat(64) });
    const done = await records.latestDone(BEGIN.buildId, BEGIN.index);
    expect(done).toMatchObject({ id, state: 'published', wheel: 'w.whl', steps: { build: 3.2, repair: 0.7 }, inputs: BEGIN.inputs, log: BEGIN.log });
    expect(done!.finishedAt).toMatch(/^\d{4}-/);

    const failed = await records.begin({ ...BEGIN, buildTag: '1', inputs: { ...BEGIN.inputs, recipe: 'r2' } });
    await records.finish(failed, { state: 'failed', steps: { build: 1 }, error: 'the build step failed' });
    expect((await records.latestDone(BEGIN.buildId, BEGIN.index))!.id).toBe(id);
    expect(await records.latestDone(BEGIN.buildId, 's3://other/')).toBeUndefined();
    expect((await records.list()).map((r) => [r.id, r.state, r.buildTag])).toEqual([
      [failed, 'failed', '1'],
      [id, 'published', undefined],
    ]);
    await records.close();
  });

  it('a crash leaves `running`; the next start marks builds of dead processes of this host abandoned, never done', async () => {
    const { records, path } = await open();
    const mine = await records.begin(BEGIN);
    const db = new DatabaseSync(path);
    db.prepare(`UPDATE builds SET pid = 999999 WHERE id = ?`).run(mine);
    const live = await records.begin(BEGIN);
    db.prepare(`UPDATE builds SET pid = 4242 WHERE id = ?`).run(live);
    const other = await records.begin(BEGIN);
    db.prepare(`UPDATE builds SET pid = 999999, host = 'farm-b' WHERE id = ?`).run(other);
    db.close();
    expect(await records.abandonOrphans((pid) => pid === 4242)).toBe(1);
    expect((await records.get(mine))!.state).toBe('abandoned');
    expect((await records.get(live))!.state).toBe('running');
    expect((await records.get(other))!.state).toBe('running');
    expect(await records.latestDone(BEGIN.buildId, BEGIN.index)).toBeUndefined();
  });

  it('two handles on one file (two farm processes) see each other’s records', async () => {
    const { records, path } = await open();
    const second = new SqliteBuildRecords({ path, host: 'farm-a' });
    const id = await records.begin(BEGIN);
    await second.finish(id, { state: 'unchanged', steps: {} });
    expect((await records.latestDone(BEGIN.buildId, BEGIN.index))!.state).toBe('unchanged');
  });

  it('a file that is not a database gets an error naming it and what to do', async () => {
    const path = join(await mkdtemp(join(tmpdir(), 'wheelfarm-records-')), 'records.db');
    await writeFile(path, 'this is not sqlite '.repeat(100));
    expect(() => new SqliteBuildRecords({ path })).toThrow(expect.objectContaining({ code: 'records-unreadable', message: expect.stringContaining(path) }));
  });

  it('records written by a newer schema are refused rather than misread', async () => {
    const { records, path } = await open();
    await records.close();
    const db = new DatabaseSync(path);
    db.exec('PRAGMA user_version = 99');
    db.close();
    expect(() => new SqliteBuildRecords({ path })).toThrow(expect.objectContaining({ code: 'records-too-new' }));
  });
});
