import { mkdirSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { WheelfarmError } from '../errors.ts';
import type { BeginBuild, BuildRecord, BuildRecords, BuildState, CellHistory, FinishBuild } from './build-records.ts';
import { tryDirectoryLock } from './directory-lock.ts';

const SCHEMA_VERSION = 1;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS builds (
  id            INTEGER PRIMARY KEY AUTOINCREMENT,
  build_id      TEXT NOT NULL,
  name          TEXT NOT NULL,
  version       TEXT NOT NULL,
  python        TEXT NOT NULL,
  platform      TEXT NOT NULL,
  index_id      TEXT NOT NULL,
  source        TEXT NOT NULL,
  recipe_hash   TEXT NOT NULL,
  image         TEXT NOT NULL,
  build_tag     TEXT,
  state         TEXT NOT NULL,
  started_at    TEXT NOT NULL,
  finished_at   TEXT,
  steps         TEXT NOT NULL DEFAULT '{}',
  wheel         TEXT,
  wheel_sha256  TEXT,
  log           TEXT,
  error         TEXT,
  host          TEXT NOT NULL,
  pid           INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS builds_by_cell ON builds (build_id, index_id, id);
CREATE INDEX IF NOT EXISTS builds_by_index ON builds (index_id, state, build_id, id);
CREATE INDEX IF NOT EXISTS builds_running ON builds (state) WHERE state = 'running';
`;

interface Row {
  id: number;
  build_id: string;
  name: string;
  version: string;
  python: string;
  platform: string;
  index_id: string;
  source: string;
  recipe_hash: string;
  image: string;
  build_tag: string | null;
  state: string;
  started_at: string;
  finished_at: string | null;
  steps: string;
  wheel: string | null;
  wheel_sha256: string | null;
  log: string | null;
  error: string | null;
  host: string;
  pid: number;
}

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
  constructor({ path, now = () => new Date(), host = hostname(), pid = process.pid }: { path: string; now?: () => Date; host?: string; pid?: number }) {
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
    const result = this.#db
      .prepare(
        `INSERT INTO builds (build_id, name, version, python, platform, index_id, source, recipe_hash, image, build_tag, state, started_at, log, host, pid)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'running', ?, ?, ?, ?)`,
      )
      .run(
        build.buildId,
        build.cell.name,
        build.cell.version,
        build.cell.python,
        build.cell.platform,
        build.index,
        build.inputs.source,
        build.inputs.recipe,
        build.inputs.image,
        build.buildTag ?? null,
        this.#now().toISOString(),
        build.log ?? null,
        this.#host,
        this.#pid,
      );
    return Number(result.lastInsertRowid);
  }

  async finish(id: number, result: FinishBuild): Promise<void> {
    this.#db
      .prepare(`UPDATE builds SET state = ?, finished_at = ?, steps = ?, wheel = ?, wheel_sha256 = ?, error = ?, log = COALESCE(?, log) WHERE id = ?`)
      .run(
        result.state,
        this.#now().toISOString(),
        JSON.stringify(result.steps),
        result.wheel ?? null,
        result.wheelSha256 ?? null,
        result.error ?? null,
        result.log ?? null,
        id,
      );
  }

  async latestDone(buildId: string, index: string): Promise<BuildRecord | undefined> {
    const row = this.#db
      .prepare(`SELECT * FROM builds WHERE build_id = ? AND index_id = ? AND state IN ('published', 'unchanged') ORDER BY id DESC LIMIT 1`)
      .get(buildId, index) as Row | undefined;
    return row ? toRecord(row) : undefined;
  }

  async get(id: number): Promise<BuildRecord | undefined> {
    const row = this.#db.prepare('SELECT * FROM builds WHERE id = ?').get(id) as Row | undefined;
    return row ? toRecord(row) : undefined;
  }

  async list({ buildId, state, limit = 50 }: { buildId?: string; state?: BuildState; limit?: number } = {}): Promise<BuildRecord[]> {
    const where: string[] = [];
    const params: (string | number)[] = [];
    if (buildId !== undefined) {
      if (buildId.endsWith('*')) {
        where.push(`build_id LIKE ? ESCAPE '\\'`);
        params.push(`${buildId.slice(0, -1).replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
      } else {
        where.push('build_id = ?');
        params.push(buildId);
      }
    }
    if (state !== undefined) {
      where.push('state = ?');
      params.push(state);
    }
    const sql = `SELECT * FROM builds${where.length > 0 ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ?`;
    return (this.#db.prepare(sql).all(...params, limit) as unknown as Row[]).map(toRecord);
  }

  async histories(index: string): Promise<Map<string, CellHistory>> {
    const latestDone = `SELECT build_id, MAX(id) AS id FROM builds WHERE index_id = ? AND state IN ('published', 'unchanged') GROUP BY build_id`;
    const done = this.#db.prepare(`SELECT b.* FROM builds b JOIN (${latestDone}) d ON b.id = d.id`).all(index) as unknown as Row[];
    const failures = this.#db
      .prepare(
        `SELECT b.* FROM builds b LEFT JOIN (${latestDone}) d ON b.build_id = d.build_id
         WHERE b.index_id = ? AND b.state = 'failed' AND b.id > COALESCE(d.id, 0) ORDER BY b.id DESC`,
      )
      .all(index, index) as unknown as Row[];
    const histories = new Map<string, CellHistory>();
    const entry = (buildId: string): CellHistory => {
      let found = histories.get(buildId);
      if (!found) histories.set(buildId, (found = { buildId, done: undefined, failures: [] }));
      return found;
    };
    for (const row of done) entry(row.build_id).done = toRecord(row);
    for (const row of failures) entry(row.build_id).failures.push(toRecord(row));
    return histories;
  }

  async tryLock(name: string): Promise<(() => Promise<void>) | undefined> {
    return tryDirectoryLock(join(this.#dir, 'locks', `${name}.lock`));
  }

  async abandonOrphans(isAlive: (pid: number) => boolean): Promise<number> {
    const running = this.#db.prepare(`SELECT id, pid FROM builds WHERE state = 'running' AND host = ?`).all(this.#host) as unknown as { id: number; pid: number }[];
    const dead = running.filter((r) => r.pid !== this.#pid && !isAlive(r.pid));
    const mark = this.#db.prepare(`UPDATE builds SET state = 'abandoned', finished_at = ? WHERE id = ? AND state = 'running'`);
    for (const { id } of dead) mark.run(this.#now().toISOString(), id);
    return dead.length;
  }

  async close(): Promise<void> {
    if (this.#db.isOpen) this.#db.close();
  }
}

function toRecord(row: Row): BuildRecord {
  return {
    id: row.id,
    buildId: row.build_id,
    cell: { name: row.name, version: row.version, python: row.python, platform: row.platform },
    index: row.index_id,
    inputs: { source: row.source, recipe: row.recipe_hash, image: row.image },
    buildTag: row.build_tag ?? undefined,
    state: row.state as BuildState,
    startedAt: row.started_at,
    finishedAt: row.finished_at ?? undefined,
    steps: JSON.parse(row.steps) as Record<string, number>,
    wheel: row.wheel ?? undefined,
    wheelSha256: row.wheel_sha256 ?? undefined,
    log: row.log ?? undefined,
    error: row.error ?? undefined,
    host: row.host,
    pid: row.pid,
  };
}
