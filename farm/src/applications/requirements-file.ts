import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { UserInputError } from '../errors.ts';
import { normalizeName } from '../wheels/names.ts';
import type { RequirementLine, RequirementsInput } from './application-input.ts';
import { parsePep508 } from './pep508-name.ts';

/**
 * Reads an application's requirements file (pip's format, as pip-compile and `pip freeze` write it)
 * on the host, before anything runs. It takes what the farm can build: named requirements from the
 * upstream index, with hashes and markers, and `-r`/`-c` includes. It refuses, naming `file:line`,
 * whatever would pull code from elsewhere (editables, paths, VCS, URLs) or choose another index: the
 * farm decides where distributions come from.
 */
export async function readRequirementsFile(path: string): Promise<RequirementsInput> {
  const lines: RequirementLine[] = [];
  await readInto({ file: path, constraint: false, chain: [], lines });
  if (!lines.some((line) => !line.constraint)) {
    throw new UserInputError('no-requirements', `${path} has no requirement: only comments, options or constraints`, {
      hint: 'list the packages the application needs, one per line, e.g. `flask==3.1.0` (constraints given with `-c` only limit versions)',
    });
  }
  return { kind: 'requirements', file: path, lines };
}

/** One file being read: its name as messages show it, whether it is constraints, the files including it. */
interface Reading {
  file: string;
  constraint: boolean;
  /** Files on the way to this one, outermost first, as [shown, absolute]. */
  chain: [string, string][];
  lines: RequirementLine[];
}

/** Where something was written, for messages. */
interface Site {
  file: string;
  line: number;
}

const FROM_INDEX_HINT =
  'the farm builds released distributions from the upstream index: publish the package there (a private upstream index is fine) ' +
  'and pin its version, e.g. `name==1.2.3`, or drop the line';

async function readInto(reading: Reading, includedAt?: { site: Site; shown: string }): Promise<void> {
  const text = await readText(reading.file, includedAt);
  const chain: [string, string][] = [...reading.chain, [reading.file, resolve(reading.file)]];
  for (const { line, text: logical } of logicalLines(text)) {
    const site = { file: reading.file, line };
    if (logical.startsWith('-')) await readOptionLine({ ...reading, chain }, site, logical);
    else reading.lines.push(requirementLine(reading, site, logical));
  }
}

async function readText(file: string, includedAt: { site: Site; shown: string } | undefined): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    const where = includedAt ? `${at(includedAt.site)}: \`${includedAt.shown}\`: ` : '';
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new UserInputError('requirements-file-not-found', `${where}requirements file ${file} not found`, {
        cause: error,
        hint: includedAt ? 'check the path: `-r` and `-c` paths are relative to the file that names them' : 'check the path',
      });
    }
    throw new UserInputError('file-unreadable', `${where}cannot read the requirements file ${file}: ${(error as Error).message}`, {
      cause: error,
      hint: `check that ${file} is a readable file`,
    });
  }
}

/**
 * The file's logical lines as pip sees them: a line ending in `\` goes on with the next (unless it is
 * a comment), then comments (`#` at the start or after whitespace) go. Blank results are dropped;
 * each keeps the number of its first physical line.
 */
function logicalLines(text: string): { line: number; text: string }[] {
  const result: { line: number; text: string }[] = [];
  let parts: string[] = [];
  let first = 0;
  const flush = () => {
    const logical = parts
      .join('')
      .replace(/(^|\s+)#.*$/s, '')
      .trim();
    if (logical !== '') result.push({ line: first, text: logical });
    parts = [];
  };
  text.split(/\r?\n/).forEach((physical, index) => {
    if (parts.length === 0) first = index + 1;
    const comment = /^\s*#/.test(physical);
    if (!comment && physical.endsWith('\\')) {
      parts.push(physical.slice(0, -1));
      return;
    }
    parts.push(comment ? ` ${physical}` : physical);
    flush();
  });
  if (parts.length > 0) flush();
  return result;
}

function requirementLine(reading: Reading, site: Site, text: string): RequirementLine {
  // As pip: the requirement ends where the first word starting with `-` (an option) begins.
  const cut = text.search(/\s-/);
  const requirement = (cut < 0 ? text : text.slice(0, cut)).trim();
  const name = requirementName(site, requirement);
  const hashes: string[] = [];
  for (const { option, value, kind } of parseOptions(site, tokenize(cut < 0 ? '' : text.slice(cut)))) {
    if (kind === 'index') throw indexOption(site, `${option} ${value ?? ''}`.trim());
    if (kind !== 'hash') {
      throw new UserInputError('unknown-requirements-option', `${at(site)}: \`${option}\` after the requirement \`${requirement}\``, {
        hint: 'only `--hash=sha256:...` may follow a requirement on its line; give other options on a line of their own',
      });
    }
    hashes.push(sha256Of(site, requirement, value!));
  }
  return { file: reading.file, line: site.line, requirement, name, hashes, constraint: reading.constraint };
}

/** The normalized name of a requirement the farm can take, else why not. */
function requirementName(site: Site, requirement: string): string {
  const source = foreignSource(requirement);
  if (source) throw new UserInputError(source.code, `${at(site)}: \`${requirement}\` is ${source.what}`, { hint: FROM_INDEX_HINT });
  const parsed = parsePep508(requirement);
  if ('problem' in parsed) {
    throw new UserInputError('bad-requirement', `${at(site)}: \`${requirement}\` ${parsed.problem}`, {
      hint: 'write one PEP 508 requirement per line, e.g. `flask[async]>=3.0,<4; python_version >= "3.10"`',
    });
  }
  return normalizeName(parsed.name);
}

const VCS = /^(git|hg|svn|bzr)\+/i;
const URL_SCHEME = /^[a-z][a-z0-9+.-]*:\/\//i;
const ARCHIVE = /\.(whl|zip|tar|tgz|tar\.gz|tar\.bz2|tar\.xz)$/i;
const DIRECT_REFERENCE = /^[A-Za-z0-9._-]+\s*(\[[^\]]*\])?\s*@\s*(\S+)/;

/** A requirement whose code does not come from the index: a VCS checkout, a URL, a local path. */
function foreignSource(requirement: string): { code: string; what: string } | undefined {
  const reference = DIRECT_REFERENCE.exec(requirement)?.[2];
  const target = reference ?? requirement.split(/\s*;/)[0]!.trim();
  if (VCS.test(target)) return { code: 'vcs-requirement', what: 'a VCS requirement: the farm does not build from repositories' };
  if (/^file:/i.test(target)) return { code: 'local-requirement', what: 'a local file URL: the farm does not build from local files' };
  if (URL_SCHEME.test(target))
    return { code: 'url-requirement', what: 'a direct URL: the farm does not download from URLs outside the index' };
  if (looksLikePath(target)) return { code: 'local-requirement', what: 'a local path: the farm does not build from local files' };
  return undefined;
}

function looksLikePath(target: string): boolean {
  return target === '.' || target === '..' || target.startsWith('~') || /[/\\]/.test(target) || ARCHIVE.test(target);
}

type OptionKind = 'requirement' | 'constraint' | 'editable' | 'index' | 'ignored' | 'hash';

/** pip's options that may appear in a requirements file, by what the farm does with them. */
const OPTIONS = new Map<string, { kind: OptionKind; takesValue: boolean }>([
  ...(['-r', '--requirement'] as const).map((name) => [name, { kind: 'requirement', takesValue: true }] as const),
  ...(['-c', '--constraint'] as const).map((name) => [name, { kind: 'constraint', takesValue: true }] as const),
  ...(['-e', '--editable'] as const).map((name) => [name, { kind: 'editable', takesValue: true }] as const),
  ...['-i', '--index-url', '--extra-index-url', '-f', '--find-links', '--trusted-host'].map(
    (name) => [name, { kind: 'index', takesValue: true }] as const,
  ),
  ['--no-index', { kind: 'index', takesValue: false }],
  ...['--prefer-binary', '--require-hashes', '--pre'].map((name) => [name, { kind: 'ignored', takesValue: false }] as const),
  ...['--only-binary', '--no-binary'].map((name) => [name, { kind: 'ignored', takesValue: true }] as const),
  ['--hash', { kind: 'hash', takesValue: true }],
]);

interface ParsedOption {
  option: string;
  value: string | undefined;
  kind: OptionKind;
}

/** Options as optparse reads them: `--name=value`, `--name value`, `-xvalue`, `-x value`. */
function parseOptions(site: Site, tokens: string[]): ParsedOption[] {
  const parsed: ParsedOption[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]!;
    if (!token.startsWith('-')) throw badOption(site, token, 'follows options: write a requirement first on its line, options after it');
    const long = token.startsWith('--');
    const equals = token.indexOf('=');
    const option = long && equals > 0 ? token.slice(0, equals) : long ? token : token.slice(0, 2);
    const spec = OPTIONS.get(option);
    if (!spec || (!long && token.length > 2 && !spec.takesValue)) throw unknownOption(site, token);
    let value = long ? (equals > 0 ? token.slice(equals + 1) : undefined) : token.slice(2) || undefined;
    if (spec.takesValue && value === undefined) value = tokens[++i];
    if (spec.takesValue && value === undefined) throw badOption(site, option, 'needs a value after it');
    if (!spec.takesValue && value !== undefined) throw badOption(site, token, 'takes no value');
    parsed.push({ option, value, kind: spec.kind });
  }
  return parsed;
}

async function readOptionLine(reading: Reading, site: Site, text: string): Promise<void> {
  for (const { option, value, kind } of parseOptions(site, tokenize(text))) {
    const shown = `${option} ${value ?? ''}`.trim();
    if (kind === 'editable') {
      throw new UserInputError('editable-requirement', `${at(site)}: \`${shown}\` is an editable requirement`, { hint: FROM_INDEX_HINT });
    }
    if (kind === 'index') throw indexOption(site, shown);
    if (kind === 'hash') throw badOption(site, shown, 'belongs after a requirement on the same line');
    if (kind === 'requirement' || kind === 'constraint') await include(reading, site, shown, value!, kind === 'constraint');
  }
}

/** `-r`/`-c`: the named file, relative to this one, read as part of it (a constraints file's includes stay constraints). */
async function include(reading: Reading, site: Site, shown: string, target: string, constraint: boolean): Promise<void> {
  if (URL_SCHEME.test(target)) {
    throw new UserInputError('url-requirement', `${at(site)}: \`${shown}\` includes a requirements file by URL`, {
      hint: 'keep the included file next to this one and name it by its path',
    });
  }
  const file = isAbsolute(target) ? target : join(dirname(reading.file), target);
  const cycle = reading.chain.findIndex(([, absolute]) => absolute === resolve(file));
  if (cycle >= 0) {
    const loop = [...reading.chain.slice(cycle).map(([name]) => name), file].join(' -> ');
    throw new UserInputError('requirements-include-cycle', `${at(site)}: \`${shown}\` includes a file that includes it: ${loop}`, {
      hint: 'remove one of the includes that close the loop',
    });
  }
  await readInto({ ...reading, file, constraint: reading.constraint || constraint }, { site, shown });
}

function sha256Of(site: Site, requirement: string, value: string): string {
  const [algorithm, digest] = value.includes(':') ? [value.slice(0, value.indexOf(':')), value.slice(value.indexOf(':') + 1)] : ['', value];
  if (algorithm.toLowerCase() !== 'sha256') {
    const what = algorithm === '' ? 'names no algorithm' : `is ${algorithm}`;
    throw new UserInputError('unsupported-hash', `${at(site)}: \`${requirement}\`: \`--hash=${value}\` ${what}, not sha256`, {
      hint: 'the farm checks sha256 digests, which `pip hash` and `pip-compile --generate-hashes` write by default: regenerate the hashes',
    });
  }
  if (!/^[0-9a-f]{64}$/i.test(digest!)) {
    throw new UserInputError('bad-requirement', `${at(site)}: \`${requirement}\`: the hash \`${value}\` is not sha256:<64 hex digits>`, {
      hint: 'copy the digest again, or regenerate the hashes with `pip-compile --generate-hashes`',
    });
  }
  return digest!.toLowerCase();
}

function indexOption(site: Site, shown: string): UserInputError {
  return new UserInputError('index-option-in-requirements', `${at(site)}: \`${shown}\` chooses an index: requirements files cannot`, {
    hint:
      "remove the line: the upstream index is the farm's setting `upstream.index-url` (else pip's configuration), " +
      "and an extra index next to the farm's is the dependency-confusion hole the farm closes",
  });
}

function unknownOption(site: Site, token: string): UserInputError {
  return new UserInputError('unknown-requirements-option', `${at(site)}: unknown option \`${token}\``, {
    hint: 'requirements files may use -r, -c, --hash, --pre, --prefer-binary, --require-hashes, --only-binary and --no-binary',
  });
}

function badOption(site: Site, option: string, problem: string): UserInputError {
  return new UserInputError('bad-requirement', `${at(site)}: \`${option}\` ${problem}`, {
    hint: 'write options as pip takes them, e.g. `-r base.txt` or `flask==3.1.0 --hash=sha256:<digest>`',
  });
}

/** Splits options into words as pip does (shlex): whitespace separates, quotes group. */
function tokenize(text: string): string[] {
  const tokens: string[] = [];
  let current: string | undefined;
  let quote: string | undefined;
  for (const char of text) {
    if (quote !== undefined && char === quote) quote = undefined;
    else if (quote === undefined && (char === '"' || char === "'")) [quote, current] = [char, current ?? ''];
    else if (quote !== undefined || !/\s/.test(char)) current = (current ?? '') + char;
    else if (current !== undefined) [tokens[tokens.length], current] = [current, undefined];
  }
  if (current !== undefined) tokens.push(current);
  return tokens;
}

function at(site: Site): string {
  return `${site.file}:${site.line}`;
}
