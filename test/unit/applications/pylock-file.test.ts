import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { LockInput } from '../../../farm/src/applications/application-input.ts';
import { pythonAdmittedByLock, readPylockFile } from '../../../farm/src/applications/pylock-file.ts';
import { FIXTURES, lineOf, rejection, useTempDir } from './helpers.ts';

const SHA = 'cd'.repeat(32);
const temp = useTempDir();

const HEAD = 'lock-version = "1.0"\ncreated-by = "uv"\nrequires-python = ">=3.11"\n';
const WHEEL = `{ url = "https://files.example.org/six-1.17.0-py2.py3-none-any.whl", size = 11050, hashes = { sha256 = "${SHA}" } }`;

/** A lock whose packages are the given `[[packages]]` bodies, after HEAD. */
function lock(...packages: string[]): string {
  return HEAD + packages.map((body) => `\n[[packages]]\n${body}\n`).join('');
}

/** Writes `text` as pylock.toml and expects reading it to fail with `code`, naming line `line`. */
async function refused(text: string, code: string, line: number) {
  const file = await temp.write('pylock.toml', text);
  const error = await rejection(readPylockFile(file));
  expect(error.code).toBe(code);
  expect(error.message).toContain(`${file}:${line}: `);
  expect(error.hint).toBeTruthy();
  return error;
}

describe('readPylockFile: what it takes', () => {
  it('reads a lock as uv exports it: wheels, sdists, markers, requires-python', async () => {
    const file = join(FIXTURES, 'pylock.toml');
    const text = await readFile(file, 'utf8');
    const input = await readPylockFile(file);
    expect(input).toMatchObject({ kind: 'lock', file, requiresPython: '>=3.11' });
    expect(input.environments).toBeUndefined();
    expect(input.packages.map((p) => [p.normalized, p.version, p.line])).toEqual([
      ['blinker', '1.9.0', lineOf(text, 'name = "blinker"') - 1],
      ['colorama', '0.4.6', lineOf(text, 'name = "colorama"') - 1],
      ['jinja2', '3.1.5', lineOf(text, 'name = "Jinja2"') - 1],
      ['markupsafe', '3.0.2', lineOf(text, 'name = "markupsafe"') - 1],
      ['tomli', '2.2.1', lineOf(text, 'name = "tomli"') - 1],
      ['werkzeug', '3.1.3', lineOf(text, 'name = "werkzeug"') - 1],
    ]);
    const [blinker, colorama, jinja2, markupsafe, tomli] = input.packages;
    expect(blinker!.sdist).toEqual({
      filename: 'blinker-1.9.0.tar.gz',
      url: expect.stringMatching(/^https:\/\/files\.pythonhosted\.org\/packages\/.*\/blinker-1\.9\.0\.tar\.gz$/),
      sha256: expect.stringMatching(/^[0-9a-f]{64}$/),
      size: 22460,
    });
    expect(blinker!.wheels).toMatchObject([{ filename: 'blinker-1.9.0-py3-none-any.whl', size: 8458 }]);
    expect(colorama!.marker).toBe("sys_platform == 'win32'");
    expect(jinja2!.name).toBe('Jinja2');
    expect(markupsafe!.wheels.map((w) => w.filename)).toEqual([
      'MarkupSafe-3.0.2-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl',
      'MarkupSafe-3.0.2-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl',
      'MarkupSafe-3.0.2-cp313-cp313-manylinux_2_17_x86_64.manylinux2014_x86_64.whl',
    ]);
    expect(tomli).toMatchObject({ marker: "python_full_version < '3.11'", requiresPython: '>=3.8' });
  });

  it('takes the filename from `name`, else the URL-decoded last segment; reads environments and 1.x versions', async () => {
    const text = [
      'lock-version = "1.1"',
      'created-by = "pip"',
      'environments = ["sys_platform == \'linux\'"]',
      '[[packages]]',
      'name = "torch"',
      'version = "2.5.1+cpu"',
      '[[packages.wheels]]',
      'url = "https://download.example.org/whl/cpu/torch-2.5.1%2Bcpu-cp312-cp312-linux_x86_64.whl"',
      `hashes = { sha256 = "${SHA.toUpperCase()}", blake2b = "00" }`,
      '[packages.sdist]',
      'name = "torch-2.5.1.tar.gz"',
      'url = "https://mirror.example.org/files/12345"',
      `hashes = { sha256 = "${SHA}" }`,
    ].join('\n');
    const input = await readPylockFile(await temp.write('pylock.toml', text));
    expect(input.environments).toEqual(["sys_platform == 'linux'"]);
    expect(input.requiresPython).toBeUndefined();
    expect(input.packages).toEqual([
      {
        name: 'torch',
        normalized: 'torch',
        version: '2.5.1+cpu',
        wheels: [{ filename: 'torch-2.5.1+cpu-cp312-cp312-linux_x86_64.whl', url: expect.any(String), sha256: SHA }],
        sdist: { filename: 'torch-2.5.1.tar.gz', url: 'https://mirror.example.org/files/12345', sha256: SHA },
        line: 4,
      },
    ]);
  });
});

describe('pythonAdmittedByLock', () => {
  const input = (requiresPython?: string): LockInput => ({
    kind: 'lock',
    file: 'pylock.toml',
    packages: [],
    ...(requiresPython ? { requiresPython } : {}),
  });

  it.each([
    ['>=3.11', '3.10', false],
    ['>=3.11', '3.11', true],
    ['>=3.11', '3.13', true],
    ['>=3.9,<3.13', '3.13', false],
    ['>=3.12.1', '3.12', true],
    ['!=3.12.*', '3.12', false],
  ])('requires-python %j, Python %s: %s', (requiresPython, minor, admitted) => {
    expect(pythonAdmittedByLock(input(requiresPython), minor)).toBe(admitted);
  });

  it('admits every Python when the lock says nothing', () => {
    expect(pythonAdmittedByLock(input(), '3.9')).toBe(true);
  });
});

describe('readPylockFile: what it refuses', () => {
  it('names the line of a TOML syntax error: bad-lock-file', async () => {
    const error = await refused(`${HEAD}\n[[packages]]\nname = "six\n`, 'bad-lock-file', 6);
    expect(error.code).toBe('bad-lock-file');
    expect(error.message).toContain('not valid TOML');
  });

  it('names the file, line and field of a schema error: bad-lock-file', async () => {
    const text = lock(
      `name = "six"\nversion = "1.17.0"\nwheels = [${WHEEL}]`,
      `name = "attrs"\nversion = "24.3.0"\nwheels = [\n  ${WHEEL},\n  { url = "https://x.example.org/attrs-24.3.0-py3-none-any.whl", size = -1, hashes = { sha256 = "${SHA}" } },\n]`,
    );
    const error = await refused(text, 'bad-lock-file', lineOf(text, 'size = -1'));
    expect(error.code).toBe('bad-lock-file');
    expect(error.message).toContain('`packages[1].wheels[1].size`');
  });

  it.each([
    ['a bad name', lock(`name = "_six"\nversion = "1.17.0"\nwheels = [${WHEEL}]`), 'name = "_six"', '`packages[0].name`'],
    ['a bad version', lock(`name = "six"\nversion = "one"\nwheels = [${WHEEL}]`), 'version = "one"', '`packages[0].version`'],
    ['no version', lock(`name = "six"\nwheels = [${WHEEL}]`), '[[packages]]', '`packages[0].version`'],
    [
      'a bad sha256',
      lock(`name = "six"\nversion = "1.17.0"\nsdist = { url = "https://x.example.org/six-1.17.0.tar.gz", hashes = { sha256 = "abc" } }`),
      'sdist =',
      '`packages[0].sdist.hashes`',
    ],
    ['a bad requires-python', `${HEAD.replace('>=3.11', '3.11+')}`, 'requires-python', '`requires-python`'],
    ['lock-version not a string', 'lock-version = 1\ncreated-by = "uv"\npackages = []\n', 'lock-version', '`lock-version`'],
    ['no created-by', 'lock-version = "1.0"\npackages = []\n', 'lock-version', '`created-by`: required'],
  ])('%s: bad-lock-file', async (_, text, needle, field) => {
    const error = await refused(text, 'bad-lock-file', lineOf(text, needle));
    expect(error.code).toBe('bad-lock-file');
    expect(error.message).toContain(field);
  });

  it('refuses a lock-version 2.x: unsupported-lock-version', async () => {
    const text = `created-by = "future-tool"\nlock-version = "2.0"\npackages = []\n`;
    const error = await refused(text, 'unsupported-lock-version', 2);
    expect(error.code).toBe('unsupported-lock-version');
    expect(error.message).toContain('"2.0"');
  });

  it.each([
    [
      'vcs',
      `name = "mylib"\nversion = "1.0"\nvcs = { type = "git", url = "https://github.com/me/mylib", commit-id = "0123456789abcdef0123456789abcdef01234567" }`,
    ],
    ['directory', `name = "mylib"\nversion = "1.0"\ndirectory = { path = "./mylib", editable = true }`],
    [
      'archive',
      `name = "mylib"\nversion = "1.0"\narchive = { url = "https://x.example.org/mylib.tar.gz", hashes = { sha256 = "${SHA}" } }`,
    ],
    ['path', `name = "mylib"\nversion = "1.0"\nwheels = [{ path = "dist/mylib-1.0-py3-none-any.whl", hashes = { sha256 = "${SHA}" } }]`],
  ])('refuses a %s source: unsupported-lock-source', async (_, body) => {
    const text = lock(`name = "six"\nversion = "1.17.0"\nwheels = [${WHEEL}]`, body);
    const error = await refused(text, 'unsupported-lock-source', lineOf(text, 'name = "mylib"') - 1);
    expect(error.code).toBe('unsupported-lock-source');
    expect(error.message).toContain('`mylib`');
  });

  it.each([
    ['other hashes only', 'hashes = { md5 = "00112233445566778899aabbccddeeff" }', 'only md5'],
    ['no hashes', 'size = 10', 'no hashes'],
  ])('refuses a file with %s: lock-file-without-sha256', async (_, hashes, said) => {
    const text = lock(`name = "six"\nversion = "1.17.0"\nsdist = { url = "https://x.example.org/six-1.17.0.tar.gz", ${hashes} }`);
    const error = await refused(text, 'lock-file-without-sha256', lineOf(text, '[[packages]]'));
    expect(error.code).toBe('lock-file-without-sha256');
    expect(error.message).toContain('`six-1.17.0.tar.gz`');
    expect(error.message).toContain(said);
  });

  it('refuses a package with neither wheels nor sdist: lock-package-without-files', async () => {
    const text = lock('name = "six"\nversion = "1.17.0"\nwheels = []');
    const error = await refused(text, 'lock-package-without-files', lineOf(text, '[[packages]]'));
    expect(error.code).toBe('lock-package-without-files');
    expect(error.message).toContain('`six` 1.17.0');
  });

  it('names a missing file: lock-file-not-found', async () => {
    const missing = join(temp.dir(), 'pylock.toml');
    const error = await rejection(readPylockFile(missing));
    expect(error.code).toBe('lock-file-not-found');
    expect(error.message).toContain(missing);
  });
});
