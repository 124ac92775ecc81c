import { readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readRequirementsFile } from '../../../farm/src/applications/requirements-file.ts';
import { FIXTURES, lineOf, rejection, useTempDir } from './helpers.ts';

const SHA = 'ab'.repeat(32);
const temp = useTempDir();

/** Writes `text` as requirements.txt and expects reading it to fail with `code`, naming line `line` and `shown`. */
async function refused(text: string, code: string, shown: string, line = 1) {
  const file = await temp.write('requirements.txt', text);
  const error = await rejection(readRequirementsFile(file));
  expect(error.code).toBe(code);
  expect(error.message).toContain(`${file}:${line}: `);
  expect(error.message).toContain(shown);
  expect(error.hint).toBeTruthy();
  return error;
}

describe('readRequirementsFile: what it takes', () => {
  it('reads pip-compile output: continued --hash lines, markers, comments', async () => {
    const file = join(FIXTURES, 'pip-compile.txt');
    const text = await readFile(file, 'utf8');
    const input = await readRequirementsFile(file);
    expect(input).toMatchObject({ kind: 'requirements', file });
    expect(input.lines.map((line) => line.name)).toEqual([
      'blinker',
      'click',
      'colorama',
      'flask',
      'itsdangerous',
      'jinja2',
      'markupsafe',
      'tomli',
      'werkzeug',
    ]);
    const colorama = input.lines[2]!;
    expect(colorama).toMatchObject({ file, line: lineOf(text, 'colorama==0.4.6'), constraint: false });
    expect(colorama.requirement).toBe('colorama==0.4.6 ; sys_platform == "win32"');
    expect(colorama.hashes).toHaveLength(2);
    expect(input.lines[3]).toMatchObject({ requirement: 'flask[async]==3.1.0', line: lineOf(text, 'flask[async]') });
    expect(input.lines[5]!.requirement).toBe('Jinja2==3.1.5');
    const markupsafe = input.lines[6]!;
    expect(markupsafe.hashes).toHaveLength(3);
    for (const hash of markupsafe.hashes) expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(input.lines[7]).toMatchObject({ requirement: 'tomli==2.2.1 ; python_version < "3.11"', hashes: [expect.any(String)] });
  });

  it('follows -r and -c relative to the including file; a -r inside constraints stays constraints', async () => {
    const top = relative(process.cwd(), join(FIXTURES, 'includes', 'requirements.txt'));
    const dir = join(top, '..');
    const input = await readRequirementsFile(top);
    expect(input.file).toBe(top);
    expect(input.lines.map(({ file, line, name, constraint, requirement }) => ({ file, line, name, constraint, requirement }))).toEqual([
      { file: join(dir, 'nested', 'base.txt'), line: 1, name: 'attrs', constraint: false, requirement: 'attrs==24.3.0' },
      { file: join(dir, 'shared.txt'), line: 1, name: 'certifi', constraint: false, requirement: 'certifi==2024.12.14' },
      { file: join(dir, 'nested', 'constraints.txt'), line: 1, name: 'urllib3', constraint: true, requirement: 'urllib3<3' },
      { file: join(dir, 'nested', 'more-constraints.txt'), line: 1, name: 'idna', constraint: true, requirement: 'idna==3.10' },
      { file: top, line: 8, name: 'requests', constraint: false, requirement: 'requests[socks] >= 2.32, < 3' },
    ]);
  });

  it('counts a continued line from its first line; a comment line ends a continuation', async () => {
    const file = await temp.write(
      'requirements.txt',
      `# top\r\n\r\nsix==1.17.0 \\\r\n  --hash sha256:${SHA} \\\r\n  --hash=SHA256:${SHA.toUpperCase()}\r\nidna==3.10 \\\n# a comment\nattrs (>=24,<25)  # why\n`,
    );
    const input = await readRequirementsFile(file);
    expect(input.lines).toMatchObject([
      { line: 3, name: 'six', requirement: 'six==1.17.0', hashes: [SHA, SHA] },
      { line: 6, name: 'idna', requirement: 'idna==3.10', hashes: [] },
      { line: 8, name: 'attrs', requirement: 'attrs (>=24,<25)' },
    ]);
  });

  it('normalizes names per PEP 503 and keeps the requirement as written', async () => {
    const file = await temp.write('requirements.txt', 'Zope.Interface_Extra[Test, docs]~=7.2; python_version >= "3.10"\n');
    const [line] = (await readRequirementsFile(file)).lines;
    expect(line).toMatchObject({
      name: 'zope-interface-extra',
      requirement: 'Zope.Interface_Extra[Test, docs]~=7.2; python_version >= "3.10"',
    });
  });
});

describe('readRequirementsFile: what it refuses', () => {
  it.each([
    ['-e ./mylib', '-e ./mylib'],
    ['--editable=git+https://github.com/pallets/flask#egg=flask', '--editable git+https://github.com/pallets/flask#egg=flask'],
    ['-egit+https://example.org/x.git', '-e git+https://example.org/x.git'],
  ])('%j: editable-requirement', async (text, shown) => {
    const error = await refused(`six==1.17.0\n${text}\n`, 'editable-requirement', shown, 2);
    expect(error.code).toBe('editable-requirement');
  });

  it.each([
    '.',
    './mylib',
    '../mylib[extra]',
    '/srv/wheels/foo-1.0-py3-none-any.whl',
    'dist/foo-1.0.tar.gz',
    'foo-1.0-py3-none-any.whl',
    'foo-1.0.zip',
    'file:///srv/foo-1.0.tar.gz',
    'foo @ file:///srv/foo',
    './mylib ; python_version >= "3.10"',
  ])('%j: local-requirement', async (text) => {
    const error = await refused(`${text}\n`, 'local-requirement', `\`${text}\``);
    expect(error.code).toBe('local-requirement');
  });

  it.each([
    'git+https://github.com/pallets/flask@3.1.0#egg=flask',
    'flask @ git+https://github.com/pallets/flask@3.1.0',
    'flask[async]@git+ssh://git@github.com/pallets/flask',
    'hg+https://hg.example.org/repo#egg=repo',
    'svn+https://svn.example.org/repo/trunk#egg=repo',
    'bzr+lp:project#egg=project',
  ])('%j: vcs-requirement', async (text) => {
    const error = await refused(`# vcs\n${text}\n`, 'vcs-requirement', `\`${text}\``, 2);
    expect(error.code).toBe('vcs-requirement');
  });

  it.each([
    'flask @ https://example.org/flask-3.1.0.tar.gz',
    'https://example.org/flask-3.1.0-py3-none-any.whl',
    'flask @ https://example.org/flask-3.1.0.tar.gz ; python_version >= "3.10"',
  ])('%j: url-requirement', async (text) => {
    const error = await refused(`${text}\n`, 'url-requirement', `\`${text}\``);
    expect(error.code).toBe('url-requirement');
  });

  it('refuses a requirements file included by URL', async () => {
    const error = await refused('-r https://example.org/requirements.txt\n', 'url-requirement', '-r https://example.org/requirements.txt');
    expect(error.code).toBe('url-requirement');
  });

  it.each([
    ['-i https://example.org/simple', '-i https://example.org/simple'],
    ['--index-url=https://example.org/simple', '--index-url https://example.org/simple'],
    ['--extra-index-url https://example.org/simple', '--extra-index-url https://example.org/simple'],
    ['-f ./wheels', '-f ./wheels'],
    ['--find-links https://example.org/wheels/', '--find-links https://example.org/wheels/'],
    ['--no-index', '--no-index'],
    ['--trusted-host example.org', '--trusted-host example.org'],
    ['six==1.17.0 --index-url https://example.org/simple', '--index-url https://example.org/simple'],
  ])('%j: index-option-in-requirements', async (text, shown) => {
    const error = await refused(`${text}\n`, 'index-option-in-requirements', shown);
    expect(error.code).toBe('index-option-in-requirements');
    expect(error.hint).toContain('upstream.index-url');
  });

  it.each([
    ['--use-feature=truststore', '--use-feature=truststore'],
    ['-x', '-x'],
    ['--pre=yes', '--pre'],
    ['six==1.17.0 --config-settings=a=b', '--config-settings'],
    ['six==1.17.0 --global-option=--quiet', '--global-option'],
  ])('%j: unknown-requirements-option or bad-requirement', async (text, shown) => {
    const file = await temp.write('requirements.txt', `${text}\n`);
    const error = await rejection(readRequirementsFile(file));
    expect(error.code).toBe(text === '--pre=yes' ? 'bad-requirement' : 'unknown-requirements-option');
    expect(error.message).toContain(`${file}:1: `);
    expect(error.message).toContain(shown);
  });

  it('refuses a hash of another algorithm: unsupported-hash', async () => {
    const error = await refused(
      `six==1.17.0 \\\n  --hash=sha256:${SHA} \\\n  --hash=md5:0123456789abcdef\n`,
      'unsupported-hash',
      'six==1.17.0',
    );
    expect(error.message).toContain('md5');
    expect(error.hint).toContain('pip hash');
    expect(error.code).toBe('unsupported-hash');
  });

  it.each([
    ['flask 3.1.0', 'a bare version'],
    ['flask>=3,', 'empty clause'],
    ['flask>=3 <4', 'not a PEP 440 version specifier'],
    ['flask[async', 'without `]`'],
    ['flask[as ync]', 'the extra'],
    ['_flask==3.1.0', 'not a valid project name'],
    ['flask==3.1.0 ;', 'without a marker'],
    ['flask; python_version < "3.10', 'unclosed quote'],
    ['(flask)', 'does not start with a project name'],
    ['six==1.17.0 --hash=sha256:abc', 'is not sha256:<64 hex digits>'],
    ['-r', 'needs a value'],
    [`--hash=sha256:${SHA}`, 'belongs after a requirement'],
  ])('%j: bad-requirement', async (text, problem) => {
    const error = await refused(`six==1.17.0\n\n${text}\n`, 'bad-requirement', problem, 3);
    expect(error.code).toBe('bad-requirement');
    expect(error.message).toContain(text.split(/[ =]/)[0]);
  });

  it('refuses a requirement after options on its line: bad-requirement', async () => {
    const error = await refused('--prefer-binary six==1.17.0\n', 'bad-requirement', '`six==1.17.0` follows options');
    expect(error.code).toBe('bad-requirement');
  });

  it('refuses an include cycle, naming the loop', async () => {
    const file = join(FIXTURES, 'cycle', 'a.txt');
    const error = await rejection(readRequirementsFile(file));
    expect(error.code).toBe('requirements-include-cycle');
    const b = join(FIXTURES, 'cycle', 'b.txt');
    expect(error.message).toContain(`${b}:2: \`-r a.txt\``);
    expect(error.message).toContain(`${file} -> ${b} -> ${file}`);
  });

  it('names a missing file, and the line that included it', async () => {
    const missing = join(temp.dir(), 'nope.txt');
    const top = await rejection(readRequirementsFile(missing));
    expect(top.code).toBe('requirements-file-not-found');
    expect(top.message).toContain(missing);
    const error = await refused('six==1.17.0\n-c constraints/pins.txt\n', 'requirements-file-not-found', '-c constraints/pins.txt', 2);
    expect(error.code).toBe('requirements-file-not-found');
    expect(error.message).toContain(join(temp.dir(), 'constraints', 'pins.txt'));
  });

  it('refuses a file with only constraints and comments: no-requirements', async () => {
    await temp.write('constraints.txt', 'six==1.17.0\n');
    const file = await temp.write('requirements.txt', '# nothing yet\n-c constraints.txt\n--prefer-binary\n');
    const error = await rejection(readRequirementsFile(file));
    expect(error.code).toBe('no-requirements');
    expect(error.message).toContain(file);
  });
});
