import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadRecipe } from '../../../farm/src/recipes/load-recipe.ts';
import { COMMIT, SHA256, lineOf, rejection, useRecipesDir, where, writeIn } from './helpers.ts';

const dir = useRecipesDir();

async function load(text: string, name = 'demo') {
  await writeIn(dir(), `${name}.yaml`, text);
  return loadRecipe({ recipesDir: dir(), name });
}

/** Loads `text`, expects it to be rejected, and checks the message names file, line and field. */
async function expectRejected(text: string, { line, field, message }: { line: string | number; field: string; message: string | RegExp }) {
  const file = await writeIn(dir(), 'demo.yaml', text);
  const error = await rejection(loadRecipe({ recipesDir: dir(), name: 'demo' }));
  expect(error.code).toBe('bad-recipe');
  const lineNumber = typeof line === 'number' ? line : lineOf(text, line);
  const issue = error.message.split('\n').find((l) => l.includes(`\`${field}\``));
  expect(issue, `no issue for \`${field}\` in:\n${error.message}`).toBeDefined();
  expect(issue).toContain(where(file, lineNumber, field));
  if (typeof message === 'string') expect(issue).toContain(message);
  else expect(issue).toMatch(message);
  expect(error.hint).toContain(file.split('/').pop());
  return error;
}

describe('recipe schema: every field in its valid forms', () => {
  it('accepts the full example recipe', async () => {
    await writeIn(dir(), 'numpy/fix-blas.patch', '--- a\n+++ b\n');
    await writeIn(dir(), 'numpy/second.patch', '--- a\n+++ b\n');
    const recipe = await load(
      `# recipes/numpy.yaml
source:
  url: https://example.org/numpy-2.3.5.tar.gz
  sha256: ${SHA256}
  patches: [numpy/fix-blas.patch, numpy/second.patch]
build:
  system:
    apt: [libopenblas-dev, pkg-config, g++, libc6:amd64, python3.11-dev]
    dnf: [openblas-devel]
  toolchains:
    fortran: {}
    rust: { version: ">=1.74" }
    java: { version: ">=17", tools: [maven, ant, gradle] }
  env: { NPY_NUM_BUILD_JOBS: "2", _X1: "" }
  config-settings:
    setup-args: ["-Dblas=openblas", "-Dlapack=openblas"]
    builddir: build
  before: |
    echo hi
  debug-info: keep
  network: "downloads its test data while it builds"
repair:
  exclude: [libcuda.so.1, libnvidia-ml.so]
test:
  imports: [numpy, numpy.linalg, _private_mod]
  requires: [pytest, "hypothesis>=6; python_version >= '3.11'"]
  command: python -c "import numpy; numpy.test()"
limits: { memory: 16g, cpus: 1.5, timeout: 5h }
python: ">=3.11"
versions: ">=2.0,<3,!=2.1.*"
latest: 3
`,
      'numpy',
    );
    expect(recipe).toEqual({
      name: 'numpy',
      file: join(dir(), 'numpy.yaml'),
      source: { kind: 'url', url: 'https://example.org/numpy-2.3.5.tar.gz', sha256: SHA256 },
      patches: [join(dir(), 'numpy/fix-blas.patch'), join(dir(), 'numpy/second.patch')],
      build: {
        system: { apt: ['libopenblas-dev', 'pkg-config', 'g++', 'libc6:amd64', 'python3.11-dev'], dnf: ['openblas-devel'] },
        toolchains: { fortran: {}, rust: { version: '>=1.74' }, java: { version: '>=17', tools: ['maven', 'ant', 'gradle'] } },
        env: { NPY_NUM_BUILD_JOBS: '2', _X1: '' },
        configSettings: { 'setup-args': ['-Dblas=openblas', '-Dlapack=openblas'], builddir: ['build'] },
        before: 'echo hi\n',
        debugInfo: 'keep',
        network: 'downloads its test data while it builds',
        libraries: [],
      },
      limits: { memory: '16g', cpus: 1.5, timeout: '5h' },
      repair: { exclude: ['libcuda.so.1', 'libnvidia-ml.so'] },
      test: {
        imports: ['numpy', 'numpy.linalg', '_private_mod'],
        requires: ['pytest', "hypothesis>=6; python_version >= '3.11'"],
        command: 'python -c "import numpy; numpy.test()"',
      },
      python: '>=3.11',
      versions: '>=2.0,<3,!=2.1.*',
      latest: 3,
      // It writes `build.toolchains`: that is all of them, nothing is added from the sdist.
      detectToolchains: false,
    });
  });

  it('toolchains come from the sdist unless the recipe writes `build.toolchains` (`{}`: none)', async () => {
    expect((await load('test:\n  imports: [demo]\n')).detectToolchains).toBe(true);
    expect((await load('build:\n  env: { A: "1" }\n')).detectToolchains).toBe(true);
    expect((await load('build:\n  toolchains: {}\n')).detectToolchains).toBe(false);
    expect((await load('build:\n  toolchains:\n    fortran: true\n')).detectToolchains).toBe(false);
  });

  it('accepts a git source with commit and version', async () => {
    const recipe = await load(`source:\n  git: https://github.com/example/demo.git\n  commit: ${COMMIT}\n  version: "2.3.5.post1"\n`);
    expect(recipe.source).toEqual({ kind: 'git', url: 'https://github.com/example/demo.git', commit: COMMIT, version: '2.3.5.post1' });
  });

  it('accepts file: URLs for url and git sources', async () => {
    expect((await load(`source:\n  url: file:///srv/sdists/demo-1.0.tar.gz\n  sha256: ${SHA256}\n`)).source).toMatchObject({ kind: 'url' });
    expect((await load(`source:\n  git: file:///srv/git/demo\n  commit: ${COMMIT}\n  version: "1.0"\n`)).source).toMatchObject({
      kind: 'git',
    });
  });

  it('accepts patches on an index source', async () => {
    await writeIn(dir(), 'demo.patch', '');
    const recipe = await load('source:\n  patches: [demo.patch]\n');
    expect(recipe.source).toEqual({ kind: 'index' });
    expect(recipe.patches).toEqual([join(dir(), 'demo.patch')]);
  });

  it('takes `true` for any toolchain, an empty mapping too, and `false` as not needed', async () => {
    const recipe = await load('build:\n  toolchains:\n    fortran: true\n    rust: true\n    java: {}\n');
    expect(recipe.build.toolchains).toEqual({ fortran: {}, rust: {}, java: { tools: [] } });
    const none = await load('build:\n  toolchains:\n    fortran: false\n    rust: { version: "1.80" }\n');
    expect(none.build.toolchains).toEqual({ rust: { version: '1.80' } });
  });

  it('turns a single config-settings string into a list', async () => {
    const recipe = await load('build:\n  config-settings:\n    setup-args: -Dblas=openblas\n    --build-option: ["--a", "--b"]\n');
    expect(recipe.build.configSettings).toEqual({ 'setup-args': ['-Dblas=openblas'], '--build-option': ['--a', '--b'] });
  });

  it('keeps an empty imports list apart from the default (undefined: top-level modules)', async () => {
    expect((await load('test:\n  imports: []\n')).test.imports).toEqual([]);
    expect((await load('test:\n  requires: [pytest]\n')).test.imports).toBeUndefined();
  });

  it('accepts PEP 440 specifier sets in python and versions', async () => {
    for (const specifier of ['>=3.11', '>=3.11,<3.14', '~=3.12', '==3.13.*', '!=3.12.0, >= 3.10', '>3.9']) {
      const recipe = await load(`python: "${specifier}"\nversions: "${specifier}"\n`);
      expect(recipe.python).toBe(specifier);
      expect(recipe.versions).toBe(specifier);
    }
  });

  it('strips debug info unless build.debug-info says keep', async () => {
    expect((await load('build: {}\n')).build.debugInfo).toBe('strip');
    expect((await load('build:\n  debug-info: keep\n')).build.debugInfo).toBe('keep');
    expect((await load('build:\n  debug-info: strip\n')).build.debugInfo).toBe('strip');
  });

  it('treats an empty file (or only comments) as all defaults, with its file recorded', async () => {
    const recipe = await load('# nothing special about demo\n');
    expect(recipe.file).toBe(join(dir(), 'demo.yaml'));
    expect(recipe.source).toEqual({ kind: 'index' });
    expect(recipe.build.env).toEqual({});
  });
});

describe('recipe schema: wrong types', () => {
  it('rejects a number in build.env and says to quote it', async () => {
    const text = 'build:\n  env:\n    X: 2\n';
    await expectRejected(text, { line: 'X: 2', field: 'build.env.X', message: /expected a string in quotes.*got `2` \(number\)/ });
  });

  it('rejects a debug-info that is neither strip nor keep', async () => {
    await expectRejected('build:\n  debug-info: true\n', {
      line: 2,
      field: 'build.debug-info',
      message: 'expected `strip` (the default: wheels without debug sections) or `keep`, got `true` (boolean)',
    });
    await expectRejected('build:\n  debug-info: full\n', { line: 2, field: 'build.debug-info', message: 'or `keep`, got `full` (string)' });
  });

  it('rejects limits that are not a size, a positive number of cores or a duration', async () => {
    await expectRejected('limits:\n  memory: lots\n', { line: 2, field: 'limits.memory', message: 'expected a size like `16g` or `512m`' });
    await expectRejected('limits:\n  cpus: 0\n', { line: 2, field: 'limits.cpus', message: 'expected more than 0 cores' });
    await expectRejected('limits:\n  cpus: "2"\n', {
      line: 2,
      field: 'limits.cpus',
      message: 'expected a number of cores like `2`, got `2` (string)',
    });
    await expectRejected('limits:\n  timeout: 2 hours\n', {
      line: 2,
      field: 'limits.timeout',
      message: 'expected a duration like `5h` or `90m`',
    });
    await expectRejected('limits:\n  disk: 10g\n', { line: 2, field: 'limits', message: 'unknown key `disk`' });
  });

  it('rejects an empty build.network reason', async () => {
    await expectRejected('build:\n  network: ""\n', {
      line: 2,
      field: 'build.network',
      message: 'expected the reason this build needs the network',
    });
    await expectRejected('build:\n  network: true\n', { line: 2, field: 'build.network', message: 'in quotes' });
  });

  it('rejects a bool in build.env', async () => {
    await expectRejected('build:\n  env:\n    X: true\n', { line: 3, field: 'build.env.X', message: 'in quotes' });
  });

  it('rejects a string where a list is expected', async () => {
    const text = 'build:\n  system:\n    apt: libfoo\n';
    await expectRejected(text, {
      line: 'apt: libfoo',
      field: 'build.system.apt',
      message: 'expected a list, like `[libopenblas-dev, pkg-config]`, got `libfoo` (string)',
    });
  });

  it('rejects a list where a mapping is expected', async () => {
    await expectRejected('build:\n  env: [A, B]\n', {
      line: 2,
      field: 'build.env',
      message: 'expected a mapping of variable names to strings',
    });
    await expectRejected('source: https://example.org/x.tar.gz\n', {
      line: 1,
      field: 'source',
      message: /expected a mapping with keys from url, sha256, git/,
    });
  });

  it('rejects a top level that is not a mapping', async () => {
    const error = await rejection(load('- numpy\n'));
    expect(error.message).toContain('`(top level)`: expected a mapping');
  });

  it('rejects a number where a version is expected', async () => {
    const text = `source:\n  git: https://x.org/r.git\n  commit: ${COMMIT}\n  version: 2.10\n`;
    await expectRejected(text, {
      line: 'version: 2.10',
      field: 'source.version',
      message: 'expected a PEP 440 version in quotes, like "2.3.5"',
    });
  });

  it('rejects a number for python', async () => {
    await expectRejected('python: 3.11\n', { line: 1, field: 'python', message: 'in quotes, like ">=3.11"' });
  });

  it('rejects a config-settings value that is neither a string nor a list of strings', async () => {
    const text = 'build:\n  config-settings:\n    a: x\n    jobs: 3\n';
    await expectRejected(text, { line: 'jobs: 3', field: 'build.config-settings.jobs', message: 'expected a string or a list of strings' });
    await expectRejected('build:\n  config-settings:\n    a: [x, 1]\n', {
      line: 3,
      field: 'build.config-settings.a[1]',
      message: 'in quotes',
    });
  });

  it('rejects `null` for a toolchain', async () => {
    const text = 'build:\n  toolchains:\n    fortran:\n';
    await expectRejected(text, {
      line: 'fortran:',
      field: 'build.toolchains.fortran',
      message: 'expected `true` or a mapping like `{}`, got `null` (null)',
    });
  });

  it('rejects bad values inside lists, at the item', async () => {
    await expectRejected('build:\n  system:\n    dnf:\n      - ok-pkg\n      - Bad Pkg\n', {
      line: 'Bad Pkg',
      field: 'build.system.dnf[1]',
      message: 'expected a distro package name',
    });
    await expectRejected('test:\n  imports:\n    - numpy\n    - 1numpy\n', {
      line: '1numpy',
      field: 'test.imports[1]',
      message: 'expected an importable module name',
    });
    await expectRejected('test:\n  imports: [numpy., x]\n', { line: 2, field: 'test.imports[0]', message: 'importable module name' });
    await expectRejected('test:\n  requires: [pytest, ""]\n', { line: 2, field: 'test.requires[1]', message: 'empty string' });
    await expectRejected('repair:\n  exclude:\n    - /usr/lib/libcuda.so.1\n', { line: 3, field: 'repair.exclude[0]', message: 'no `/`' });
    await expectRejected('repair:\n  exclude: [""]\n', { line: 2, field: 'repair.exclude[0]', message: 'empty string' });
  });

  it('rejects bad environment variable names', async () => {
    await expectRejected('build:\n  env:\n    1X: "a"\n', {
      line: '1X',
      field: 'build.env.1X',
      message: 'is not an environment variable name',
    });
    await expectRejected('build:\n  env:\n    MY-VAR: "a"\n', {
      line: 'MY-VAR',
      field: 'build.env.MY-VAR',
      message: 'is not an environment variable name',
    });
  });

  it('rejects empty scripts and commands', async () => {
    await expectRejected('build:\n  before: ""\n', { line: 2, field: 'build.before', message: 'empty string' });
    await expectRejected('test:\n  command: "  "\n', { line: 2, field: 'test.command', message: 'empty string' });
  });
});

describe('recipe schema: unknown keys, each at its own line', () => {
  it('rejects an unknown top-level key and lists the known ones', async () => {
    const text = 'python: ">=3.11"\n\nbuidl:\n  env: {}\n';
    await expectRejected(text, {
      line: 'buidl',
      field: '(top level)',
      message: 'unknown key `buidl`: expected one of source, build, repair, test, limits, python, versions',
    });
  });

  it('rejects unknown nested keys', async () => {
    const text = 'build:\n  env: {}\n  before: echo\n  after: echo\n';
    await expectRejected(text, {
      line: 'after:',
      field: 'build',
      message: 'unknown key `after`: expected one of system, toolchains, env, config-settings, before',
    });
    const test = 'test:\n  imports: [x]\n  import: [y]\n';
    await expectRejected(test, { line: '  import:', field: 'test', message: 'unknown key `import`' });
    const source = `source:\n  url: https://x.org/a.tgz\n  sha256: ${SHA256}\n  md5: abc\n`;
    await expectRejected(source, { line: 'md5', field: 'source', message: 'unknown key `md5`' });
    await expectRejected('repair:\n  exclude: []\n  include: []\n', { line: 'include', field: 'repair', message: 'unknown key `include`' });
  });

  it('rejects an unknown package manager', async () => {
    const text = 'build:\n  system:\n    apt: [a]\n    yum: [b]\n';
    await expectRejected(text, { line: 'yum', field: 'build.system', message: 'unknown package manager `yum`: expected one of apt, dnf' });
  });

  it('rejects an unknown toolchain', async () => {
    const text = 'build:\n  toolchains:\n    rust: {}\n    go: {}\n';
    await expectRejected(text, {
      line: 'go:',
      field: 'build.toolchains',
      message: 'unknown toolchain `go`: expected one of fortran, rust, gcc, java',
    });
  });

  it('rejects settings inside toolchains that take none or other ones', async () => {
    await expectRejected('build:\n  toolchains:\n    fortran:\n      version: "12"\n', {
      line: 'version',
      field: 'build.toolchains.fortran',
      message: 'fortran takes no settings, write `fortran: true`',
    });
    await expectRejected('build:\n  toolchains:\n    rust: { version: ">=1.74", channel: nightly }\n', {
      line: 3,
      field: 'build.toolchains.rust',
      message: 'unknown key `channel` for rust: expected one of version',
    });
  });
});

describe('recipe schema: versions and specifiers', () => {
  for (const field of ['python', 'versions']) {
    it(`rejects a bad PEP 440 specifier in ${field}, naming it`, async () => {
      await expectRejected(`${field}: "=>3.11"\n`, { line: 1, field, message: '`=>3.11` is not a PEP 440 specifier' });
      const error = await expectRejected(`# c\n${field}: ">=3.10,=<3.14"\n`, {
        line: 2,
        field,
        message: '`=<3.14` is not a PEP 440 specifier',
      });
      expect(error.message).toMatch(/expected something like `>=\d/);
      await expectRejected(`${field}: "3.11"\n`, { line: 1, field, message: 'a bare version: write `==3.11.*` or `>=3.11`' });
      await expectRejected(`${field}: ""\n`, { line: 1, field, message: 'empty string' });
      await expectRejected(`${field}: "^1.2"\n`, { line: 1, field, message: '`^1.2` is not a PEP 440 specifier' });
    });
  }

  it('latest must be a whole number from 1 to 100', async () => {
    expect((await load('latest: 2\n')).latest).toBe(2);
    await expectRejected('latest: 0\n', { line: 1, field: 'latest', message: 'expected at least 1' });
    await expectRejected('latest: 2.5\n', { line: 1, field: 'latest', message: 'expected a whole number like `3`' });
    await expectRejected('latest: all\n', { line: 1, field: 'latest', message: 'expected a whole number like `3`' });
  });

  it('explains an unquoted specifier that YAML reads as a block scalar', async () => {
    const error = await rejection(load('python: >=3.11\n'));
    expect(error.code).toBe('bad-recipe');
    expect(error.message).toContain('demo.yaml:1:');
    expect(error.hint).toContain('python: ">=3.11"');
  });

  it('rejects a bad git version', async () => {
    const text = `source:\n  git: https://x.org/r.git\n  commit: ${COMMIT}\n  version: "latest"\n`;
    await expectRejected(text, { line: 'latest', field: 'source.version', message: 'expected a PEP 440 version' });
  });

  it('rejects bad rust and java version ranges (semver)', async () => {
    await expectRejected('build:\n  toolchains:\n    rust: { version: "banana" }\n', {
      line: 3,
      field: 'build.toolchains.rust.version',
      message: '`banana` is not a version range: expected something like `>=1.74`',
    });
    await expectRejected('build:\n  toolchains:\n    java:\n      version: ">=seventeen"\n', {
      line: 'seventeen',
      field: 'build.toolchains.java.version',
      message: '`>=seventeen` is not a version range: expected something like `>=17`',
    });
    await expectRejected('build:\n  toolchains:\n    java: { version: 17 }\n', {
      line: 3,
      field: 'build.toolchains.java.version',
      message: 'in quotes, like ">=17"',
    });
    await expectRejected('build:\n  toolchains:\n    rust: { version: "" }\n', {
      line: 3,
      field: 'build.toolchains.rust.version',
      message: 'is not a version range',
    });
  });

  it('rejects unknown java tools', async () => {
    await expectRejected('build:\n  toolchains:\n    java:\n      tools: [maven, sbt]\n', {
      line: 'sbt',
      field: 'build.toolchains.java.tools[1]',
      message: 'unknown tool `sbt`: expected one of maven, ant, gradle',
    });
  });
});

describe('recipe schema: sources', () => {
  it('requires sha256 with a URL source', async () => {
    const text = 'source:\n  url: https://example.org/demo-1.0.tar.gz\n';
    // A missing field points at the first line of its mapping.
    await expectRejected(text, { line: 'url:', field: 'source.sha256', message: 'a URL source needs `sha256`' });
  });

  it('rejects a sha256 that is not 64 lower-case hex digits', async () => {
    const text = `source:\n  url: https://example.org/demo-1.0.tar.gz\n  sha256: ${SHA256.toUpperCase()}\n`;
    await expectRejected(text, { line: 'sha256', field: 'source.sha256', message: '64 lower-case hex digits' });
  });

  it('rejects sha256 without a URL source', async () => {
    await expectRejected(`source:\n  sha256: ${SHA256}\n`, {
      line: 2,
      field: 'source.sha256',
      message: '`sha256` goes with a `url` source',
    });
  });

  it('requires commit and version with a git source', async () => {
    const text = 'source:\n  git: https://example.org/demo.git\n';
    await expectRejected(text, { line: 'git:', field: 'source.commit', message: 'a git source needs `commit`' });
    await expectRejected(text, { line: 'git:', field: 'source.version', message: 'a git source needs `version`' });
    await expectRejected(`source:\n  git: https://example.org/demo.git\n  commit: ${COMMIT}\n`, {
      line: 2,
      field: 'source.version',
      message: 'a git source needs `version`',
    });
  });

  it('rejects a short or upper-case commit', async () => {
    await expectRejected('source:\n  git: https://example.org/demo.git\n  commit: abc123\n  version: "1.0"\n', {
      line: 'abc123',
      field: 'source.commit',
      message: '40 lower-case hex digits',
    });
  });

  it('rejects commit or version without a git source', async () => {
    await expectRejected(`source:\n  commit: ${COMMIT}\n`, {
      line: 2,
      field: 'source.commit',
      message: '`commit` goes with a `git` source',
    });
    await expectRejected('source:\n  version: "1.0"\n', {
      line: 2,
      field: 'source.version',
      message: '`version` goes with a `git` source',
    });
  });

  it('rejects url and git together', async () => {
    const text = `source:\n  url: https://example.org/demo-1.0.tar.gz\n  sha256: ${SHA256}\n  git: https://example.org/demo.git\n  commit: ${COMMIT}\n  version: "1.0"\n`;
    const error = await expectRejected(text, { line: 'git:', field: 'source.git', message: 'a source is either `url` or `git`, not both' });
    expect(error.message.split('\n')).toHaveLength(2);
  });

  it('rejects URLs that are not http(s) or file:', async () => {
    await expectRejected(`source:\n  url: ftp://example.org/demo.tgz\n  sha256: ${SHA256}\n`, {
      line: 'ftp',
      field: 'source.url',
      message: 'expected an http(s):// or file: URL',
    });
    await expectRejected(`source:\n  git: git@github.com:x/y.git\n  commit: ${COMMIT}\n  version: "1"\n`, {
      line: 'git@',
      field: 'source.git',
      message: 'http(s)://',
    });
    await expectRejected(`source:\n  url: not a url\n  sha256: ${SHA256}\n`, { line: 2, field: 'source.url', message: 'URL' });
  });

  it('rejects patch paths outside the recipes folder', async () => {
    await expectRejected('source:\n  patches: [/etc/x.patch]\n', {
      line: 2,
      field: 'source.patches[0]',
      message: 'inside the recipes folder',
    });
    await expectRejected('source:\n  patches:\n    - ../x.patch\n', {
      line: 3,
      field: 'source.patches[0]',
      message: 'inside the recipes folder',
    });
  });
});
