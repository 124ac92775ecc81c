/**
 * Versions of native libraries and the constraints recipes put on them.
 *
 * A library version is dotted numbers (`3.12.2`, `2.15.4`, `0.3.28`, `1.1.45`, `74.2`), compared number
 * by number, a missing part counting as 0 (`3.12` == `3.12.0`). Not semver: C libraries do not follow
 * it (two or four parts are common; semver wants exactly three, and its `^`/`~` ranges and pre-release
 * rules promise an API stability these projects never signed up for). Not PEP 440 either: that is
 * Python's scheme, with normalizations (`.post`, `.dev`, epochs, `3.12.*`) that mean nothing here.
 * Anything else (letters, `~>`, `^`, wildcards) is refused rather than guessed at.
 */

export type LibraryVersionOperator = '>=' | '>' | '<=' | '<' | '==' | '!=';

export interface LibraryVersionClause {
  operator: LibraryVersionOperator;
  /** The version's numbers, `3.12.2` -> [3, 12, 2]. */
  version: number[];
}

const VERSION = /^\d+(\.\d+)*$/;
const CLAUSE = /^(>=|<=|==|!=|>|<)\s*(\S+)$/;

/** Dotted numbers, or undefined when `text` is anything else. */
export function parseLibraryVersion(text: string): number[] | undefined {
  const trimmed = text.trim();
  return VERSION.test(trimmed) ? trimmed.split('.').map(Number) : undefined;
}

/** Negative, zero or positive as `a` is older than, the same as, or newer than `b`; missing parts count as 0. */
export function compareLibraryVersions(a: number[], b: number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const difference = (a[i] ?? 0) - (b[i] ?? 0);
    if (difference !== 0) return difference;
  }
  return 0;
}

/** `>=2.12,<3` -> its clauses; undefined when any clause is not an operator and a dotted version. */
export function parseLibraryConstraint(text: string): LibraryVersionClause[] | undefined {
  const clauses: LibraryVersionClause[] = [];
  for (const part of text.split(',')) {
    const match = CLAUSE.exec(part.trim());
    const version = match ? parseLibraryVersion(match[2]!) : undefined;
    if (!match || !version) return undefined;
    clauses.push({ operator: match[1] as LibraryVersionOperator, version });
  }
  return clauses;
}

/** Each operator, given the order of a version against the clause's (negative: older). */
const HOLDS: Record<LibraryVersionOperator, (order: number) => boolean> = {
  '>=': (order) => order >= 0,
  '>': (order) => order > 0,
  '<=': (order) => order <= 0,
  '<': (order) => order < 0,
  '==': (order) => order === 0,
  '!=': (order) => order !== 0,
};

/** Whether `version` satisfies every clause. */
export function satisfiesLibraryConstraint(version: number[], clauses: LibraryVersionClause[]): boolean {
  return clauses.every(({ operator, version: bound }) => HOLDS[operator](compareLibraryVersions(version, bound)));
}

/** What a version must look like, for messages. */
export const LIBRARY_VERSION_FORM = 'dotted numbers like `3.12.2`';

/** What a constraint must look like, for messages. */
export const LIBRARY_CONSTRAINT_FORM =
  'one or more clauses joined by commas, each `>=`, `>`, `<=`, `<`, `==` or `!=` and a dotted version, like `>=3.10,<4`';
