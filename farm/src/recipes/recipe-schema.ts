import { valid as validPep440Version, validRange as validPep440Range } from '@renovatebot/pep440';
import semver from 'semver';
import { z } from 'zod';
import { describeValue } from '../errors.ts';

/**
 * The recipe file (`recipes/<normalized-name>.yaml`): what one package needs to build. Every key is
 * optional; unknown keys are rejected at every level, each at its own line. Messages say what was
 * expected, since parseYamlText puts them after `file:line: \`field\``.
 *
 * The schema checks the text alone; that patch files exist is checked by loadRecipe.
 */

const PACKAGE_NAME = /^[a-z0-9][a-z0-9+.:_-]*$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const DOTTED_IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/;
const URL_PROTOCOLS = ['http:', 'https:', 'file:'];

/** A string; anything else (a number, a bool, a list) is named, with how to write it instead. */
export function text(what: string, example: string) {
  return z.string({
    error: (issue) =>
      issue.input === undefined
        ? 'required'
        : typeof issue.input === 'number' || typeof issue.input === 'boolean'
          ? `expected ${what} in quotes, like ${example}, got ${describeValue(issue.input)}`
          : `expected ${what}, like ${example}, got ${describeValue(issue.input)}`,
  });
}

export function nonEmptyText(what: string, example: string) {
  return text(what, example).refine((value) => value.trim() !== '', `expected ${what}, like ${example}, got an empty string`);
}

export function list<Item extends z.ZodType>(item: Item, example: string) {
  return z.array(item, {
    error: (issue) => (issue.code === 'invalid_type' ? `expected a list, like ${example}, got ${describeValue(issue.input)}` : undefined),
  });
}

/** A strict mapping whose messages list the keys it takes. */
export function mapping<Shape extends z.ZodRawShape>(shape: Shape, unknownKey?: (key: string, allowed: string) => string) {
  const allowed = Object.keys(shape).join(', ');
  return z.strictObject(shape, {
    error: (issue) => {
      if (issue.code === 'unrecognized_keys') {
        return issue.keys
          .map((key) => (unknownKey ? unknownKey(key, allowed) : `unknown key \`${key}\`: expected one of ${allowed}`))
          .join('; ');
      }
      if (issue.code === 'invalid_type') return `expected a mapping with keys from ${allowed}, got ${describeValue(issue.input)}`;
      return undefined;
    },
  });
}

/** A PEP 440 specifier set such as `>=3.11,<3.14`; the message names the clause that is wrong. */
function pep440Specifier(example: string) {
  return text('a PEP 440 specifier', `"${example}"`).superRefine((value, ctx) => {
    const problem = specifierProblem(value, example);
    if (problem) ctx.addIssue({ code: 'custom', message: problem, input: value });
  });
}

function specifierProblem(value: string, example: string): string | undefined {
  if (value.trim() === '') return `expected a PEP 440 specifier like \`${example}\`, got an empty string`;
  if (validPep440Range(value)) return undefined;
  const bad =
    value
      .split(',')
      .map((clause) => clause.trim())
      .find((clause) => !validPep440Range(clause)) ?? value;
  const asVersion = validPep440Version(bad) ? ` (a bare version: write \`==${bad}.*\` or \`>=${bad}\`)` : '';
  return `\`${bad}\` is not a PEP 440 specifier${asVersion}: expected something like \`${example}\``;
}

const pep440Version = text('a PEP 440 version', '"2.3.5"').refine(
  (value) => validPep440Version(value) !== null,
  'expected a PEP 440 version like `2.3.5` or `2.3.5.post1`',
);

/** A toolchain version: a semver range (Rust, Java), never a Python version. */
function semverRange(example: string) {
  return text('a version range', `"${example}"`).superRefine((value, ctx) => {
    if (value.trim() === '' || semver.validRange(value) === null) {
      ctx.addIssue({
        code: 'custom',
        message: `\`${value}\` is not a version range: expected something like \`${example}\``,
        input: value,
      });
    }
  });
}

const sourceUrl = text('a URL', '"https://example.org/pkg-1.0.tar.gz"').refine(
  (value) => URL.canParse(value) && URL_PROTOCOLS.includes(new URL(value).protocol),
  'expected an http(s):// or file: URL',
);

const patchPath = nonEmptyText('a path', '`numpy/fix-blas.patch`').refine(
  (value) => !value.startsWith('/') && !value.split(/[/\\]/).includes('..'),
  'expected a path inside the recipes folder, like `numpy/fix-blas.patch`',
);

const source = mapping({
  url: sourceUrl.optional(),
  sha256: text('a sha256', '64 lower-case hex digits')
    .regex(/^[0-9a-f]{64}$/, 'expected a sha256: 64 lower-case hex digits')
    .optional(),
  git: sourceUrl.optional(),
  commit: text('a commit', '40 hex digits')
    .regex(/^[0-9a-f]{40}$/, 'expected a full commit hash: 40 lower-case hex digits')
    .optional(),
  version: pep440Version.optional(),
  patches: list(patchPath, '`[numpy/fix-blas.patch]`').optional(),
}).superRefine((value, ctx) => {
  const issue = (field: string, message: string) => ctx.addIssue({ code: 'custom', path: [field], message, input: value });
  if (value.url !== undefined && value.git !== undefined) return issue('git', 'a source is either `url` or `git`, not both');
  if (value.url !== undefined && value.sha256 === undefined) issue('sha256', 'a URL source needs `sha256`');
  if (value.url === undefined && value.sha256 !== undefined) issue('sha256', '`sha256` goes with a `url` source');
  if (value.git !== undefined) {
    if (value.commit === undefined) issue('commit', 'a git source needs `commit`: the 40-hex commit to build');
    if (value.version === undefined) issue('version', 'a git source needs `version`: the PEP 440 version that commit builds, like "2.3.5"');
  } else {
    if (value.commit !== undefined) issue('commit', '`commit` goes with a `git` source');
    if (value.version !== undefined) issue('version', '`version` goes with a `git` source (an index or URL source knows its version)');
  }
});

/** `true` or a mapping means "needed" (`false`: not needed). */
function toolchain<Shape extends z.ZodRawShape>(name: string, shape: Shape, example: string) {
  const settings = mapping(shape, (key, allowed) =>
    allowed === ''
      ? `unknown key \`${key}\`: ${name} takes no settings, write \`${name}: true\``
      : `unknown key \`${key}\` for ${name}: expected one of ${allowed}`,
  );
  return z.preprocess(
    (value) => (value === true ? {} : value === false ? undefined : value),
    z.optional(
      z
        .custom<unknown>((value) => typeof value === 'object' && value !== null && !Array.isArray(value), {
          error: (issue) => `expected \`true\` or a mapping like ${example}, got ${describeValue(issue.input)}`,
        })
        .pipe(settings),
    ),
  );
}

const javaTool = z.enum(['maven', 'ant', 'gradle'], {
  error: (issue) => `unknown tool \`${String(issue.input)}\`: expected one of maven, ant, gradle`,
});

/** `strip` (default): the linker drops debug sections (`-Wl,--strip-debug`); `keep`: wheels keep them. */
const debugInfo = z.enum(['strip', 'keep'], {
  error: (issue) => `expected \`strip\` (the default: wheels without debug sections) or \`keep\`, got ${describeValue(issue.input)}`,
});

const toolchains = mapping(
  {
    fortran: toolchain('fortran', {}, '`{}`'),
    rust: toolchain('rust', { version: semverRange('>=1.74').optional() }, '`{ version: ">=1.74" }`'),
    /** GCC built from source (`recipes/toolchains/gcc.yaml`); `version`: a series (`"14"`) or a library-style constraint. */
    gcc: toolchain('gcc', { version: nonEmptyText('a version', '`"14"`').optional() }, '`{ version: "14" }`'),
    java: toolchain(
      'java',
      { version: semverRange('>=17').optional(), tools: list(javaTool, '`[maven]`').default([]) },
      '`{ version: ">=17", tools: [maven] }`',
    ),
  },
  (key, allowed) => `unknown toolchain \`${key}\`: expected one of ${allowed}`,
);

export const systemPackages = list(
  text('a package name', '`libopenblas-dev`').regex(PACKAGE_NAME, 'expected a distro package name like `libopenblas-dev`'),
  '`[libopenblas-dev, pkg-config]`',
);

const env = z.record(
  z.string().regex(ENV_NAME, 'expected an environment variable name like `NPY_NUM_BUILD_JOBS`'),
  text('a string', '"2"'),
  {
    error: (issue) =>
      issue.code === 'invalid_key'
        ? `\`${String(issue.path?.at(-1) ?? '')}\` is not an environment variable name: expected letters, digits and \`_\`, like \`NPY_NUM_BUILD_JOBS\``
        : issue.code === 'invalid_type'
          ? `expected a mapping of variable names to strings, like \`{ NPY_NUM_BUILD_JOBS: "2" }\`, got ${describeValue(issue.input)}`
          : undefined,
  },
);

/** PEP 517 config settings: each value a string or a list of strings; always a list once parsed. */
const configSettings = z.record(
  z.string().min(1, 'expected a non-empty setting name'),
  z.preprocess(
    (value) => (typeof value === 'string' ? [value] : value),
    z.array(text('a string', '"-Dblas=openblas"'), {
      error: (issue) =>
        issue.code === 'invalid_type'
          ? `expected a string or a list of strings, like \`["-Dblas=openblas"]\`, got ${describeValue(issue.input)}`
          : undefined,
    }),
  ),
  {
    error: (issue) =>
      issue.code === 'invalid_type'
        ? `expected a mapping of config settings, like \`{ setup-args: ["-Dblas=openblas"] }\`, got ${describeValue(issue.input)}`
        : undefined,
  },
);

/** A library definition's name: its file's name in `recipes/libraries/`, lower case. */
export const LIBRARY_NAME = /^[a-z0-9][a-z0-9._+-]*$/;

/**
 * Native libraries asked for by name (a definition in `recipes/libraries/<name>.yaml`) and, optionally,
 * a version constraint (`>=3.10,<4`). The constraint's syntax and whether the definition exists and
 * satisfies it are checked when the recipe is read (recipes/libraries/resolve-libraries.ts).
 */
export const libraryRequests = list(
  mapping({
    name: text('a library name', '`geos`').regex(
      LIBRARY_NAME,
      'expected a library name like `geos` or `libxml2`: lower-case letters, digits, `.`, `_`, `+` and `-`',
    ),
    version: nonEmptyText('a version constraint', '`">=3.10"`').optional(),
  }),
  '`[{ name: geos, version: ">=3.10" }]`',
);

export const recipeSchema = mapping({
  source: source.optional(),
  build: mapping({
    system: mapping(
      { apt: systemPackages.optional(), dnf: systemPackages.optional() },
      (key, allowed) => `unknown package manager \`${key}\`: expected one of ${allowed}`,
    ).optional(),
    toolchains: toolchains.optional(),
    env: env.optional(),
    'config-settings': configSettings.optional(),
    before: nonEmptyText('a shell script', '`echo hi`').optional(),
    'debug-info': debugInfo.optional(),
    /**
     * Builds run with no network: their PEP 517 requirements are fetched first. A recipe whose
     * build must download (a backend that fetches sources itself) says why here, and gets the network.
     */
    network: nonEmptyText('the reason this build needs the network', '`"downloads libxml2 sources at build time"`').optional(),
    /** Native libraries from `recipes/libraries/` the build needs, newer than the distribution's. */
    libraries: libraryRequests.optional(),
  }).optional(),
  repair: mapping({
    exclude: list(
      nonEmptyText('a soname', '`libcuda.so.1`').refine(
        (value) => !/[/\s]/.test(value),
        'expected a soname like `libcuda.so.1`: a file name, no `/`',
      ),
      '`[libcuda.so.1]`',
    ).optional(),
  }).optional(),
  test: mapping({
    imports: list(
      text('a module name', '`numpy.linalg`').regex(DOTTED_IDENTIFIER, 'expected an importable module name like `numpy.linalg`'),
      '`[numpy, numpy.linalg]`',
    ).optional(),
    requires: list(nonEmptyText('a PEP 508 requirement', '`pytest`'), '`[pytest, hypothesis>=6]`').optional(),
    command: nonEmptyText('a shell command', '`python -c "import numpy"`').optional(),
  }).optional(),
  /** Per-container limits of this package's cells, over the settings' `containers`. */
  limits: mapping({
    memory: text('a size', '`16g`')
      .regex(/^\d+(\.\d+)?[kmg]?$/i, 'expected a size like `16g` or `512m`')
      .optional(),
    cpus: z
      .number({ error: (issue) => `expected a number of cores like \`2\`, got ${describeValue(issue.input)}` })
      .positive('expected more than 0 cores')
      .max(1024, 'expected at most 1024 cores')
      .optional(),
    timeout: text('a duration', '`5h`')
      .regex(/^\d+[smhd]$/, 'expected a duration like `5h` or `90m`')
      .optional(),
  }).optional(),
  python: pep440Specifier('>=3.11').optional(),
  versions: pep440Specifier('>=2.0').optional(),
  /** How many of the newest admitted releases the matrix keeps built (default: `matrix.latest` in the settings). */
  latest: z.int('expected a whole number like `3`').min(1, 'expected at least 1').max(100, 'expected at most 100').optional(),
});

/** A recipe file as written (validated, not yet with defaults: see Recipe for that). */
export type RecipeFile = z.infer<typeof recipeSchema>;
