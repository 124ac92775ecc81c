import { normalizeName } from '../wheels/names.ts';
import type { BeginBuild, BuildRecord, BuildRequirement, BuildState, FinishBuild, NativeComponent } from './build-records.ts';

/**
 * The `builds` table as both backends store it (SQLite and PostgreSQL share columns and order), and
 * the pieces of SQL they share. Placeholders differ (`?` against `$1`), so the filters take a
 * function that makes the n-th one.
 */
export interface RecordRow {
  /** PostgreSQL's BIGINT comes back as a string. */
  id: number | string;
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
  /** TEXT in SQLite, JSONB (already parsed) in PostgreSQL. */
  steps: string | Record<string, number>;
  wheel: string | null;
  wheel_sha256: string | null;
  log: string | null;
  error: string | null;
  /** JSON: the build requirements the build phase installed (file and sha256 each). */
  requires: string | null;
  /** JSON: the libraries and toolchains built from source in the build image (NativeComponent each). */
  native: string | null;
  host: string;
  pid: number;
}

/** The table and its indexes; the id and JSON column types are each backend's own. */
export function buildsTableSql({ id, steps }: { id: string; steps: string }): string {
  return `
CREATE TABLE IF NOT EXISTS builds (
  id            ${id},
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
  steps         ${steps} NOT NULL DEFAULT '{}',
  wheel         TEXT,
  wheel_sha256  TEXT,
  log           TEXT,
  error         TEXT,
  requires      TEXT,
  native        TEXT,
  host          TEXT NOT NULL,
  pid           INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS builds_by_cell ON builds (build_id, index_id, id);
CREATE INDEX IF NOT EXISTS builds_by_index ON builds (index_id, state, build_id, id);
CREATE INDEX IF NOT EXISTS builds_running ON builds (state) WHERE state = 'running';
`;
}

export const INSERT_COLUMNS =
  'build_id, name, version, python, platform, index_id, source, recipe_hash, image, build_tag, state, started_at, log, native, host, pid';

/** Values for INSERT_COLUMNS, in order; `state` is always `running`. */
export function beginValues(build: BeginBuild, { now, host, pid }: { now: Date; host: string; pid: number }): (string | number | null)[] {
  return [
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
    'running',
    now.toISOString(),
    build.log ?? null,
    build.native && build.native.length > 0 ? JSON.stringify(build.native) : null,
    host,
    pid,
  ];
}

/** `UPDATE builds SET <FINISH_SET> WHERE id = ?`: values by finishValues, then the id. */
export const FINISH_COLUMNS = ['state', 'finished_at', 'steps', 'wheel', 'wheel_sha256', 'error', 'requires'] as const;

/** Values for FINISH_COLUMNS, then the log (which `finish` sets only when given). */
export function finishValues(result: FinishBuild, now: Date): (string | null)[] {
  return [
    result.state,
    now.toISOString(),
    JSON.stringify(result.steps),
    result.wheel ?? null,
    result.wheelSha256 ?? null,
    result.error ?? null,
    result.requires ? JSON.stringify(result.requires) : null,
    result.log ?? null,
  ];
}

/** Schema 1 had no `requires` column; both backends add it to such a table. */
export const ADD_REQUIRES_COLUMN = 'ALTER TABLE builds ADD COLUMN requires TEXT';

/** Schemas 1 and 2 had no `native` column; both backends add it to such a table. */
export const ADD_NATIVE_COLUMN = 'ALTER TABLE builds ADD COLUMN native TEXT';

/** The WHERE clause and values of `list`: a build identifier (a trailing `*` matches a prefix) and a state. */
export function listFilter(
  { buildId, state }: { buildId?: string; state?: BuildState },
  placeholder: (n: number) => string,
): { where: string; params: string[] } {
  const clauses: string[] = [];
  const params: string[] = [];
  if (buildId !== undefined) {
    if (buildId.endsWith('*')) {
      params.push(`${buildId.slice(0, -1).replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
      clauses.push(`build_id LIKE ${placeholder(params.length)} ESCAPE '\\'`);
    } else {
      params.push(buildId);
      clauses.push(`build_id = ${placeholder(params.length)}`);
    }
  }
  if (state !== undefined) {
    params.push(state);
    clauses.push(`state = ${placeholder(params.length)}`);
  }
  return { where: clauses.length > 0 ? ` WHERE ${clauses.join(' AND ')}` : '', params };
}

export function toRecord(row: RecordRow): BuildRecord {
  return {
    id: Number(row.id),
    buildId: row.build_id,
    cell: { name: row.name, version: row.version, python: row.python, platform: row.platform },
    index: row.index_id,
    inputs: { source: row.source, recipe: row.recipe_hash, image: row.image },
    buildTag: row.build_tag ?? undefined,
    state: row.state as BuildState,
    startedAt: row.started_at,
    finishedAt: row.finished_at ?? undefined,
    steps: typeof row.steps === 'string' ? (JSON.parse(row.steps) as Record<string, number>) : row.steps,
    wheel: row.wheel ?? undefined,
    wheelSha256: row.wheel_sha256 ?? undefined,
    log: row.log ?? undefined,
    error: row.error ?? undefined,
    requires: row.requires ? (JSON.parse(row.requires) as BuildRequirement[]) : undefined,
    native: row.native ? (JSON.parse(row.native) as NativeComponent[]) : [],
    host: row.host,
    pid: row.pid,
  };
}

/**
 * The SQL condition and parameters that keep the builds of `projects` (any spelling): their build
 * identifiers start with the normalized name and a dash (normalized names hold no LIKE wildcard).
 * Another project's name can share that prefix (`foo` and `foo-bar`), so keepProjects() checks again.
 */
export function projectsCondition(
  projects: string[] | undefined,
  placeholder: (n: number) => string,
  first: number,
): { sql: string; params: string[] } {
  if (projects === undefined) return { sql: '', params: [] };
  const names = [...new Set(projects.map(normalizeName))];
  if (names.length === 0) return { sql: ' AND 1 = 0', params: [] };
  return {
    sql: ` AND (${names.map((_, i) => `build_id LIKE ${placeholder(first + i)}`).join(' OR ')})`,
    params: names.map((n) => `${n}-%`),
  };
}

/** Rows of `projects` only (see projectsCondition). */
export function keepProjects(rows: RecordRow[], projects: string[] | undefined): RecordRow[] {
  if (projects === undefined) return rows;
  const names = new Set(projects.map(normalizeName));
  return rows.filter((row) => names.has(normalizeName(row.name)));
}
