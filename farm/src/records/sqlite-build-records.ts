import { mkdirSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { WheelfarmError } from '../errors.ts';
import type { BeginBuild, BuildRecord, BuildRecords, BuildState, CellHistory, FinishBuild } from './build-records.ts';
import { tryDirectoryLock } from '../process/directory-lock.ts';
import type { RecordRow } from './record-rows.ts';
import {
  ADD_NATIVE_COLUMN,
  ADD_REQUIRES_COLUMN,
  beginValues,
  buildsTableSql,
  FINISH_COLUMNS,
  finishValues,
  INSERT_COLUMNS,
  keepProjects,
  listFilter,
  projectsCondition,
  toRecord,
} from './record-rows.ts';

const SCHEMA_VERSION = 3;

const SCHEMA = `
${buildsTableSql({ id: 'INTEGER PRIMARY KEY AUTOINCREMENT', steps: 'TEXT' })}`;

/**
 * Build records in one SQLite file (Node's built-in `node:sqlite`, so no native module to build).
 * WAL mode and a busy timeout let several farm processes on one machine share the file.
 */
export class SqliteBuildRecords implements BuildRecords {
  readonly #db: DatabaseSync;
  readonly #host: string;
  readonly #now: () => Date;
  readonly #dir: string;

  readonly #pid: number;

  /** `host` and `pid` say which farm process writes; other values only in tests that play another process. */
  constructor({
    path,
    now = () => new Date(),
    host = hostname(),
    pid = process.pid,
  }: { path: string; now?: () => Date; host?: string; pid?: number }) {
    mkdirSync(dirname(path), { recursive: true });
    try {
      this.#db = new DatabaseSync(path, { timeout: 10_000 });
      this.#db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;');
      const { user_version: version } = this.#db.prepare('PRAGMA user_version').get() as { user_version: number };
      if (version > SCHEMA_VERSION) {
        throw new WheelfarmError('records-too-new', `the build records at ${path} were written by a newer wheelfarm (schema ${version})`, {
          hint: 'upgrade wheelfarm, or point `home` at another folder',
        });
      }
      this.#db.exec(SCHEMA);
      if (version === 1) this.#db.exec(ADD_REQUIRES_COLUMN);
      if (version === 1 || version === 2) this.#db.exec(ADD_NATIVE_COLUMN);
      this.#db.exec(`PRAGMA user_version = ${SCHEMA_VERSION}`);
    } catch (error) {
      if (error instanceof WheelfarmError) throw error;
      throw new WheelfarmError('records-unreadable', `cannot open the build records at ${path}: ${(error as Error).message}`, {
        hint: 'move the file aside to start with empty records (wheels in the index are not affected)',
        cause: error,
      });
    }
    this.#host = host;
    this.#now = now;
    this.#dir = dirname(path);
    this.#pid = pid;
  }

  async begin(build: BeginBuild): Promise<number> {
    const values = beginValues(build, { now: this.#now(), host: this.#host, pid: this.#pid });
    const result = this.#db.prepare(`INSERT INTO builds (${INSERT_COLUMNS}) VALUES (${values.map(() => '?').join(', ')})`).run(...values);
    return Number(result.lastInsertRowid);
  }

  async finish(id: number, result: FinishBuild): Promise<void> {
    const set = FINISH_COLUMNS.map((column) => `${column} = ?`).join(', ');
    this.#db.prepare(`UPDATE builds SET ${set}, log = COALESCE(?, log) WHERE id = ?`).run(...finishValues(result, this.#now()), id);
  }

  async latestDone(buildId: string, index: string): Promise<BuildRecord | undefined> {
    const row = this.#db
      .prepare(`SELECT * FROM builds WHERE build_id = ? AND index_id = ? AND state IN ('published', 'unchanged') ORDER BY id DESC LIMIT 1`)
      .get(buildId, index) as RecordRow | undefined;
    return row ? toRecord(row) : undefined;
  }

  async get(id: number): Promise<BuildRecord | undefined> {
    const row = this.#db.prepare('SELECT * FROM builds WHERE id = ?').get(id) as RecordRow | undefined;
    return row ? toRecord(row) : undefined;
  }

  async list({ buildId, state, limit = 50 }: { buildId?: string; state?: BuildState; limit?: number } = {}): Promise<BuildRecord[]> {
    const { where, params } = listFilter(
      { ...(buildId !== undefined ? { buildId } : {}), ...(state !== undefined ? { state } : {}) },
      () => '?',
    );
    return (this.#db.prepare(`SELECT * FROM builds${where} ORDER BY id DESC LIMIT ?`).all(...params, limit) as unknown as RecordRow[]).map(
      toRecord,
    );
  }

  async histories(index: string, { projects }: { projects?: string[] } = {}): Promise<Map<string, CellHistory>> {
    const only = projectsCondition(projects, () => '?', 0);
    const latestDone = `SELECT build_id, MAX(id) AS id FROM builds WHERE index_id = ? AND state IN ('published', 'unchanged')${only.sql} GROUP BY build_id`;
    const done = this.#db
      .prepare(`SELECT b.* FROM builds b JOIN (${latestDone}) d ON b.id = d.id`)
      .all(index, ...only.params) as unknown as RecordRow[];
    const failures = this.#db
      .prepare(
        `SELECT b.* FROM builds b LEFT JOIN (${latestDone}) d ON b.build_id = d.build_id
         WHERE b.index_id = ? AND b.state = 'failed' AND b.id > COALESCE(d.id, 0)${only.sql.replaceAll('build_id', 'b.build_id')} ORDER BY b.id DESC`,
      )
      .all(index, ...only.params, index, ...only.params) as unknown as RecordRow[];
    const histories = new Map<string, CellHistory>();
    const entry = (buildId: string): CellHistory => {
      let found = histories.get(buildId);
      if (!found) histories.set(buildId, (found = { buildId, done: undefined, failures: [] }));
      return found;
    };
    for (const row of keepProjects(done, projects)) entry(row.build_id).done = toRecord(row);
    for (const row of keepProjects(failures, projects)) entry(row.build_id).failures.push(toRecord(row));
    return histories;
  }

  async tryLock(name: string): Promise<(() => Promise<void>) | undefined> {
    return tryDirectoryLock(join(this.#dir, 'locks', `${name}.lock`));
  }

  async abandonOrphans(isAlive: (pid: number) => boolean): Promise<number> {
    const running = this.#db.prepare(`SELECT id, pid FROM builds WHERE state = 'running' AND host = ?`).all(this.#host) as unknown as {
      id: number;
      pid: number;
    }[];
    const dead = running.filter((r) => r.pid !== this.#pid && !isAlive(r.pid));
    const mark = this.#db.prepare(`UPDATE builds SET state = 'abandoned', finished_at = ? WHERE id = ? AND state = 'running'`);
    for (const { id } of dead) mark.run(this.#now().toISOString(), id);
    return dead.length;
  }

  async close(): Promise<void> {
    if (this.#db.isOpen) this.#db.close();
  }
}
