import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { describe, expect, it } from 'vitest';
import { SqliteBuildRecords } from '../../../farm/src/records/sqlite-build-records.ts';
import { BEGIN, describeBuildRecordsContract } from './build-records-contract.ts';

async function newPath(): Promise<string> {
  return join(await mkdtemp(join(tmpdir(), 'wheelfarm-records-')), 'records.db');
}

describeBuildRecordsContract('SQLite', async ({ shared, host, pid }) => {
  const path = (shared as string | undefined) ?? (await newPath());
  return { records: new SqliteBuildRecords({ path, ...(host ? { host } : {}), ...(pid ? { pid } : {}) }), shared: path };
});

describe('SqliteBuildRecords', () => {
  it('a file that is not a database gets an error naming it and what to do', async () => {
    const path = await newPath();
    await writeFile(path, 'this is not sqlite '.repeat(100));
    expect(() => new SqliteBuildRecords({ path })).toThrow(
      expect.objectContaining({ code: 'records-unreadable', message: expect.stringContaining(path) }),
    );
  });

  it('records written by a newer schema are refused rather than misread', async () => {
    const path = await newPath();
    await new SqliteBuildRecords({ path }).close();
    const db = new DatabaseSync(path);
    db.exec('PRAGMA user_version = 99');
    db.close();
    expect(() => new SqliteBuildRecords({ path })).toThrow(expect.objectContaining({ code: 'records-too-new' }));
  });

  it('records of schema 2 (no `native` column) get the column and keep their builds', async () => {
    const path = await newPath();
    const records = new SqliteBuildRecords({ path });
    const id = await records.begin(BEGIN);
    await records.close();
    const db = new DatabaseSync(path);
    db.exec('ALTER TABLE builds DROP COLUMN native; PRAGMA user_version = 2');
    db.close();
    const reopened = new SqliteBuildRecords({ path });
    expect((await reopened.get(id))?.native).toEqual([]);
    const next = await reopened.begin({
      ...BEGIN,
      native: [{ kind: 'library', name: 'geos', version: '3.13.1', sha256: 'd'.repeat(64), image: 'i' }],
    });
    expect((await reopened.get(next))?.native.map((n) => n.name)).toEqual(['geos']);
    await reopened.close();
  });

  it('a matrix lock left by a dead process of this host is taken over at once; a live holder keeps it', async () => {
    const path = await newPath();
    const lockDir = join(path, '..', 'locks', 'matrix.lock');
    await mkdir(lockDir, { recursive: true });
    await writeFile(`${lockDir}.owner`, `${hostname()}:999999\n`);
    const records = new SqliteBuildRecords({ path });
    const release = await records.tryLock('matrix');
    expect(release).toBeTypeOf('function');
    expect((await readFile(`${lockDir}.owner`, 'utf8')).trim()).toBe(`${hostname()}:${process.pid}`);
    await release!();
    // pid 1 is alive: its lock stands (until its heartbeat stops for 30 s).
    await mkdir(lockDir, { recursive: true });
    await writeFile(`${lockDir}.owner`, `${hostname()}:1\n`);
    expect(await records.tryLock('matrix')).toBeUndefined();
  });
});
