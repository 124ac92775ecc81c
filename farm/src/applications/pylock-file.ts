import { readFile } from 'node:fs/promises';
import { valid as validPep440Version, validRange as validPep440Range } from '@renovatebot/pep440';
import { parse as parseToml, TomlError } from 'smol-toml';
import { z } from 'zod';
import { describeValue, UserInputError } from '../errors.ts';
import { isValidProjectName, normalizeName } from '../wheels/names.ts';
import { selectPythons } from '../wheels/select-pythons.ts';
import type { LockedFile, LockedPackage, LockInput } from './application-input.ts';

/**
 * Reads a PEP 751 lock file (pylock.toml, as `uv export --format pylock.toml` or `pip lock` write it)
 * on the host, before anything runs. The farm takes locked packages from the index only, each file
 * with its sha256: it refuses VCS, directory, archive and local-path sources, naming the package's
 * `[[packages]]` line. Field errors read like the settings' ones:
 *   pylock.toml:14: `packages[2].wheels[0].size`: expected a whole number of bytes, got `-1` (number)
 */
export async function readPylockFile(path: string): Promise<LockInput> {
  const text = await readLockText(path);
  let data: unknown;
  try {
    data = parseToml(text);
  } catch (error) {
    if (!(error instanceof TomlError)) throw error;
    const reason = error.message.replace(/^Invalid TOML document: /, '').split('\n')[0];
    throw new UserInputError('bad-lock-file', `${path}:${error.line}: the lock file is not valid TOML: ${reason}`, {
      cause: error,
      hint: 'fix the TOML syntax at that line, or export the lock again',
    });
  }
  const lines = new LockLines(text);
  checkLockVersion(path, lines, data);
  const result = lockSchema.safeParse(data);
  if (!result.success) throw fieldErrors(path, lines, result.error.issues);
  const lock = result.data;
  return {
    kind: 'lock',
    file: path,
    ...(lock['requires-python'] === undefined ? {} : { requiresPython: lock['requires-python'] }),
    ...(lock.environments === undefined ? {} : { environments: lock.environments }),
    packages: lock.packages.map((locked, index) => lockedPackage(path, lines, locked, index)),
  };
}

/** Whether a lock is for a Python minor version (`3.12`): its requires-python, read as selectPythons reads a project's. */
export function pythonAdmittedByLock(lock: LockInput, minor: string): boolean {
  if (lock.requiresPython === undefined) return true;
  return selectPythons({ requested: [minor], requiresPython: lock.requiresPython }).selected.length > 0;
}

async function readLockText(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
    throw new UserInputError(
      missing ? 'lock-file-not-found' : 'file-unreadable',
      missing ? `lock file ${path} not found` : `cannot read the lock file ${path}: ${(error as Error).message}`,
      { cause: error, hint: missing ? 'check the path' : `check that ${path} is a readable file` },
    );
  }
}

/** A string; anything else is named, with an example of what was expected. */
function text(what: string) {
  return z.string({ error: (issue) => (issue.input === undefined ? 'required' : `expected ${what}, got ${describeValue(issue.input)}`) });
}

function list<Item extends z.ZodType>(item: Item, what: string) {
  return z.array(item, {
    error: (issue) => (issue.code === 'invalid_type' ? `expected ${what}, got ${describeValue(issue.input)}` : undefined),
  });
}

function table<Shape extends z.ZodRawShape>(shape: Shape, what: string) {
  return z.object(shape, {
    error: (issue) => (issue.code === 'invalid_type' ? `expected ${what}, got ${describeValue(issue.input)}` : undefined),
  });
}

const specifier = text('a PEP 440 specifier like ">=3.10"').refine(
  (value) => value.trim() !== '' && validPep440Range(value),
  'expected a PEP 440 specifier set like `>=3.10` or `>=3.10,<4`',
);

/** Unknown keys (upload-time, tool tables, later 1.x additions) are let through: PEP 751 asks readers to ignore them. */
const lockedFile = table(
  {
    name: text('a filename').optional(),
    url: text('a URL')
      .refine((value) => URL.canParse(value), 'expected an absolute URL')
      .optional(),
    path: text('a path').optional(),
    size: z
      .number({ error: (issue) => `expected a whole number of bytes, got ${describeValue(issue.input)}` })
      .int()
      .min(0)
      .optional(),
    hashes: z
      .record(z.string(), text('a hex digest'))
      .refine((hashes) => hashes.sha256 === undefined || /^[0-9a-f]{64}$/i.test(hashes.sha256), 'expected `sha256` to be 64 hex digits')
      .optional(),
  },
  'a table of `name`, `url`, `size` and `hashes`',
);

const lockedPackageSchema = table(
  {
    name: text('a project name').refine(isValidProjectName, 'expected a project name: ASCII letters and digits, with `-`, `_`, `.` inside'),
    version: text('a PEP 440 version')
      .refine((value) => validPep440Version(value) !== null, 'expected a PEP 440 version like `1.2.3`')
      .optional(),
    marker: text('a PEP 508 marker').optional(),
    'requires-python': specifier.optional(),
    vcs: z.unknown().optional(),
    directory: z.unknown().optional(),
    archive: z.unknown().optional(),
    wheels: list(lockedFile, 'an array of wheel tables').optional(),
    sdist: lockedFile.optional(),
  },
  'a `[[packages]]` table',
);

const lockSchema = table(
  {
    'lock-version': text('a version like "1.0"'),
    'created-by': text('the name of the tool that wrote the lock'),
    'requires-python': specifier.optional(),
    environments: list(text('a PEP 508 marker'), 'an array of PEP 508 markers').optional(),
    packages: list(lockedPackageSchema, 'an array of `[[packages]]` tables'),
  },
  'a TOML document',
);

type ParsedPackage = z.infer<typeof lockedPackageSchema>;
type ParsedFile = z.infer<typeof lockedFile>;

function checkLockVersion(path: string, lines: LockLines, data: unknown): void {
  const version = (data as Record<string, unknown>)['lock-version'];
  const major = typeof version === 'string' ? /^(\d+)\.\d+$/.exec(version)?.[1] : undefined;
  if (major === undefined) {
    const problem = version === undefined ? 'required' : `expected a version like "1.0", got ${describeValue(version)}`;
    throw fieldErrors(path, lines, [{ path: ['lock-version'], message: problem }]);
  }
  if (major !== '1') {
    throw new UserInputError(
      'unsupported-lock-version',
      `${at(path, lines.lineOf(['lock-version']))}: \`lock-version\` is "${version}": expected 1.x`,
      {
        hint: 'the farm reads PEP 751 lock files of version 1.x: export the lock in that format (`uv export --format pylock.toml`)',
      },
    );
  }
}

/** A package of the lock as the farm takes it, or why it cannot. */
function lockedPackage(path: string, lines: LockLines, locked: ParsedPackage, index: number): LockedPackage {
  const line = lines.packageLine(index);
  const where = `${at(path, line)}: package \`${locked.name}\``;
  const source =
    locked.vcs !== undefined ? 'vcs' : locked.directory !== undefined ? 'directory' : locked.archive !== undefined ? 'archive' : undefined;
  if (source) throw unsupportedSource(`${where} comes from a \`${source}\` source`);
  if (locked.version === undefined) {
    throw fieldErrors(path, lines, [
      { path: ['packages', index, 'version'], message: 'required: the farm builds released versions from the index' },
    ]);
  }
  const file = (parsed: ParsedFile, field: (string | number)[]) => fileOf(path, lines, where, parsed, ['packages', index, ...field]);
  const wheels = (locked.wheels ?? []).map((wheel, i) => file(wheel, ['wheels', i]));
  const sdist = locked.sdist === undefined ? undefined : file(locked.sdist, ['sdist']);
  if (wheels.length === 0 && sdist === undefined) {
    throw new UserInputError('lock-package-without-files', `${where} ${locked.version} lists neither wheels nor an sdist`, {
      hint: 'lock it again with a tool that records the files of each package (`uv export --format pylock.toml`, `pip lock`)',
    });
  }
  return {
    name: locked.name,
    normalized: normalizeName(locked.name),
    version: locked.version,
    ...(locked.marker === undefined ? {} : { marker: locked.marker }),
    ...(locked['requires-python'] === undefined ? {} : { requiresPython: locked['requires-python'] }),
    wheels,
    ...(sdist === undefined ? {} : { sdist }),
    line,
  };
}

function fileOf(path: string, lines: LockLines, where: string, parsed: ParsedFile, field: (string | number)[]): LockedFile {
  if (parsed.url === undefined && parsed.path !== undefined) throw unsupportedSource(`${where} has the local file \`${parsed.path}\``);
  if (parsed.url === undefined)
    throw fieldErrors(path, lines, [{ path: [...field, 'url'], message: 'required: where the file is downloaded from' }]);
  const filename = parsed.name ?? decodeURIComponent(new URL(parsed.url).pathname.split('/').pop() ?? '');
  if (filename === '') throw fieldErrors(path, lines, [{ path: [...field, 'name'], message: `required: \`${parsed.url}\` names no file` }]);
  const sha256 = parsed.hashes?.sha256;
  if (sha256 === undefined) {
    const others = Object.keys(parsed.hashes ?? {});
    throw new UserInputError(
      'lock-file-without-sha256',
      `${where}: \`${filename}\` has no sha256 hash (${others.length > 0 ? `only ${others.join(', ')}` : 'no hashes'})`,
      {
        hint: 'the farm verifies every file by its sha256: lock again with a tool that records it (uv and pip do by default)',
      },
    );
  }
  return { filename, url: parsed.url, sha256: sha256.toLowerCase(), ...(parsed.size === undefined ? {} : { size: parsed.size }) };
}

function unsupportedSource(message: string): UserInputError {
  return new UserInputError('unsupported-lock-source', `${message}: the farm builds released distributions from the index only`, {
    hint: 'publish the package to the upstream index (a private upstream index is fine), lock it from there, or leave it out of the lock',
  });
}

function fieldErrors(path: string, lines: LockLines, issues: readonly { path: PropertyKey[]; message: string }[]): UserInputError {
  const shown = issues.slice(0, 5).map((issue) => {
    const field = issue.path as (string | number)[];
    const name = field.length > 0 ? formatPath(field) : '(top level)';
    return `${at(path, lines.lineOf(field))}: \`${name}\`: ${issue.message}`;
  });
  return new UserInputError('bad-lock-file', `invalid lock file:\n  ${shown.join('\n  ')}`, {
    hint: `fix the field(s) named above in ${path}`,
  });
}

function formatPath(path: (string | number)[]): string {
  return path.map((part, i) => (typeof part === 'number' ? `[${part}]` : i === 0 ? part : `.${part}`)).join('');
}

function at(path: string, line: number): string {
  return `${path}:${line}`;
}

/**
 * Lines of fields in the lock's text, best effort: the TOML parser keeps no positions, so this scans
 * for `[[packages]]` headers (in array order) and for keys inside a package's section.
 */
class LockLines {
  private readonly lines: string[];
  /** 0-based indices of the `[[packages]]` headers; undefined when the packages are not written that way. */
  private readonly headers: number[] | undefined;

  constructor(text: string) {
    this.lines = text.split(/\r?\n/);
    const headers = this.find(0, this.lines.length, /^\s*\[\[\s*"?packages"?\s*\]\]\s*(#.*)?$/);
    this.headers = headers.length > 0 ? headers : undefined;
  }

  /** 1-based line of the package's `[[packages]]` header, else of the `packages` key. */
  packageLine(index: number): number {
    const header = this.headers?.[index];
    return header === undefined ? this.lineOf(['packages']) : header + 1;
  }

  lineOf(field: (string | number)[]): number {
    const [key, index, ...rest] = field;
    if (key === 'packages' && typeof index === 'number' && this.headers?.[index] !== undefined) {
      const start = this.headers[index]!;
      return this.lineInPackage(start, this.headers[index + 1] ?? this.lines.length, rest) + 1;
    }
    if (typeof key !== 'string') return 1;
    // A top-level key, else (missing) the document's first line, as yaml-file points at the parent.
    const end = this.find(0, this.lines.length, /^\s*\[/)[0] ?? this.lines.length;
    return (this.find(0, end, keyPattern(key))[0] ?? 0) + 1;
  }

  /** 0-based: the key's table header (the index-th one) or `key =` line (its index-th `{` item line), else the header. */
  private lineInPackage(start: number, end: number, field: (string | number)[]): number {
    const [key, index] = field;
    if (typeof key !== 'string') return start;
    const tables = this.find(start, end, new RegExp(`^\\s*\\[\\[?\\s*"?packages"?\\s*\\.\\s*"?${escapeRegExp(key)}"?\\s*\\]`));
    if (tables.length > 0) return tables[typeof index === 'number' ? Math.min(index, tables.length - 1) : 0]!;
    const keyLine = this.find(start, end, keyPattern(key))[0];
    if (keyLine === undefined || typeof index !== 'number') return keyLine ?? start;
    let itemEnd = keyLine + 1;
    while (itemEnd < end && !/^\s*\]/.test(this.lines[itemEnd]!)) itemEnd++;
    return this.find(keyLine + 1, itemEnd, /^\s*\{/)[index] ?? keyLine;
  }

  private find(start: number, end: number, pattern: RegExp): number[] {
    const found: number[] = [];
    for (let n = start; n < end; n++) if (pattern.test(this.lines[n]!)) found.push(n);
    return found;
  }
}

function keyPattern(key: string): RegExp {
  return new RegExp(`^\\s*"?${escapeRegExp(key)}"?\\s*=`);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
