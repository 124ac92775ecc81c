import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { inspect, promisify } from 'node:util';
import { afterAll, expect, it } from 'vitest';
import type { BuildRecords } from '../../../farm/src/records/build-records.ts';
import { openBuildRecords } from '../../../farm/src/records/open-build-records.ts';
import { PostgresBuildRecords } from '../../../farm/src/records/postgres-build-records.ts';
import { SqliteBuildRecords } from '../../../farm/src/records/sqlite-build-records.ts';
import { BEGIN, describeBuildRecordsContract } from '../../unit/records/build-records-contract.ts';
import { freePort } from '../../support/free-port.ts';
import { describeNeeding, failureReason } from '../../support/needs.ts';

/**
 * Against a real PostgreSQL server, started here through scripts/start-postgres.sh on a free port.
 * Every store the contract asks for is a database of its own (advisory locks are per database too).
 */
const run = promisify(execFile);
const REPO = join(import.meta.dirname, '../../..');
const SCRIPT = join(REPO, 'scripts/start-postgres.sh');
const MODULE = pathToFileURL(join(REPO, 'farm/src/records/postgres-build-records.ts')).href;

const state = mkdtempSync(join(tmpdir(), 'wheelfarm-pg-'));
const env = { ...process.env, PGPORT_TEST: String(await freePort()), PG_TEST_STATE_DIR: state };
let url = '';
let missing: string | undefined;
try {
  url = (await run(SCRIPT, [], { env, timeout: 5 * 60_000 })).stdout.trim().split('\n').at(-1)!;
} catch (error) {
  missing = `PostgreSQL could not be started (scripts/start-postgres.sh): ${failureReason(error)}`;
}
const password = missing ? '' : decodeURIComponent(new URL(url).password);

afterAll(async () => {
  // Also after a failed start: the server may be up though its set-up failed.
  await run(SCRIPT, ['stop'], { env });
  rmSync(state, { recursive: true, force: true });
});

let databases = 0;
/** A new, empty database owned by the test user; its URL. */
async function freshDatabase(): Promise<string> {
  const { stdout } = await run(SCRIPT, ['createdb', `records_${process.pid}_${++databases}`], { env });
  return stdout.trim().split('\n').at(-1)!;
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

describeNeeding(missing, 'a real PostgreSQL server', () => {
  describeBuildRecordsContract('PostgreSQL', async ({ shared, host, pid }) => {
    const databaseUrl = (shared as string | undefined) ?? (await freshDatabase());
    return {
      records: new PostgresBuildRecords({ url: databaseUrl, ...(host ? { host } : {}), ...(pid ? { pid } : {}) }),
      shared: databaseUrl,
    };
  });
});

describeNeeding(missing, 'PostgresBuildRecords', () => {
  const opened: BuildRecords[] = [];
  const open = (databaseUrl: string): PostgresBuildRecords => {
    const records = new PostgresBuildRecords({ url: databaseUrl });
    opened.push(records);
    return records;
  };
  afterAll(async () => {
    for (const records of opened) await records.close();
  });

  it('a wrong password or a port nobody listens on: records-unreachable, naming the URL without the password', async () => {
    const wrong = new URL(url);
    wrong.password = 'not-the-password-4711';
    const refused = new URL(url);
    refused.port = String(await freePort());
    for (const [target, secret] of [
      [wrong.href, 'not-the-password-4711'],
      [refused.href, password],
    ] as const) {
      const records = open(target);
      for (const attempt of [() => records.begin(BEGIN), () => records.tryLock('matrix')]) {
        const error = await rejection(attempt());
        expect(error).toMatchObject({ code: 'records-unreachable', hint: expect.stringContaining('records.url') });
        const message = (error as Error).message;
        expect(message).toContain(`127.0.0.1:${new URL(target).port}`);
        expect(message).toContain('***');
        expect(inspect(error, { depth: 10 })).not.toContain(secret);
      }
    }
  });

  it('a database that does not exist is unreachable too; a non-PostgreSQL URL is refused at once', async () => {
    const missing = new URL(url);
    missing.pathname = '/no_such_database';
    expect(await rejection(open(missing.href).list())).toMatchObject({
      code: 'records-unreachable',
      message: expect.stringContaining('no_such_database'),
    });
    expect(() => new PostgresBuildRecords({ url: 'mysql://farm:secret@db/wheelfarm' })).toThrow(
      expect.objectContaining({ code: 'records-url-invalid', message: expect.not.stringContaining('secret') }),
    );
  });

  it('records written by a newer schema are refused rather than misread', async () => {
    const databaseUrl = await freshDatabase();
    await open(databaseUrl).list();
    await run(SCRIPT, ['psql', '-d', new URL(databaseUrl).pathname.slice(1), '-c', 'UPDATE wheelfarm_schema SET version = 99'], { env });
    expect(await rejection(open(databaseUrl).list())).toMatchObject({ code: 'records-too-new' });
  });

  it('the lock of a process that dies is free as soon as it is gone', async () => {
    const databaseUrl = await freshDatabase();
    const script = `
      import { PostgresBuildRecords } from ${JSON.stringify(MODULE)};
      const release = await new PostgresBuildRecords({ url: process.env.RECORDS_URL }).tryLock('matrix');
      console.log(release ? 'locked' : 'busy');
      setInterval(() => undefined, 60_000);
    `;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      env: { ...process.env, RECORDS_URL: databaseUrl },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    try {
      const said = await new Promise<string>((resolve, reject) => {
        child.stdout.once('data', (chunk: Buffer) => resolve(chunk.toString().trim()));
        child.once('exit', (code) => reject(new Error(`the child exited (${code}) before taking the lock`)));
      });
      expect(said).toBe('locked');
      const records = open(databaseUrl);
      expect(await records.tryLock('matrix')).toBeUndefined();

      child.kill('SIGKILL');
      await exited;
      // The server ends the dead client's session (and its locks) once it sees the socket close.
      let release: (() => Promise<void>) | undefined;
      for (let attempt = 0; attempt < 100 && !release; attempt++) {
        release = await records.tryLock('matrix');
        if (!release) await sleep(50);
      }
      expect(release).toBeTypeOf('function');
      await release!();
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('close() frees the locks its handle still holds', async () => {
    const databaseUrl = await freshDatabase();
    const holder = open(databaseUrl);
    expect(await holder.tryLock('matrix')).toBeTypeOf('function');
    await holder.close();
    const release = await open(databaseUrl).tryLock('matrix');
    expect(release).toBeTypeOf('function');
    await release!();
  });

  it('connections the server ends (a restart, an admin) fail their queries without crashing the farm', async () => {
    const databaseUrl = await freshDatabase();
    const records = open(databaseUrl);
    await records.begin(BEGIN);
    const releaseLock = await records.tryLock('matrix');
    const name = new URL(databaseUrl).pathname.slice(1);
    await run(SCRIPT, ['psql', '-c', `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '${name}'`], { env });
    await sleep(200);
    await releaseLock!();
    expect(await records.list()).toHaveLength(1);
    const again = await records.tryLock('matrix');
    expect(again).toBeTypeOf('function');
    await again!();
  });

  it('two handles writing at once: every record lands, each with its own id', async () => {
    const databaseUrl = await freshDatabase();
    const handles = [open(databaseUrl), open(databaseUrl)];
    const ids = await Promise.all(
      handles.flatMap((records, h) =>
        Array.from({ length: 20 }, async (_, i) => {
          const id = await records.begin({ ...BEGIN, buildId: `${BEGIN.buildId}-${h}-${i}` });
          await records.finish(id, { state: 'published', steps: { build: i } });
          return id;
        }),
      ),
    );
    expect(new Set(ids).size).toBe(40);
    const listed = await handles[0]!.list({ limit: 100 });
    expect(listed.map((r) => r.id).sort((a, b) => a - b)).toEqual([...ids].sort((a, b) => a - b));
    expect(listed.every((r) => r.state === 'published')).toBe(true);
  });

  it('openBuildRecords: SQLite in home without a URL, PostgreSQL with one', async () => {
    const home = mkdtempSync(join(tmpdir(), 'wheelfarm-home-'));
    try {
      const sqlite = openBuildRecords({ home, url: undefined });
      expect(sqlite).toBeInstanceOf(SqliteBuildRecords);
      await sqlite.close();
      const postgres = openBuildRecords({ home, url: await freshDatabase() });
      opened.push(postgres);
      expect(postgres).toBeInstanceOf(PostgresBuildRecords);
      expect(await postgres.list()).toEqual([]);
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });
});
