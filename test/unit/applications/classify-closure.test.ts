import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { LockedPackage, RequirementLine } from '../../../farm/src/applications/application-input.ts';
import type { ClassifyDeps, ClosureEntry } from '../../../farm/src/applications/classify-closure.ts';
import { classifyClosure } from '../../../farm/src/applications/classify-closure.ts';
import type { Closure, ClosureDist } from '../../../farm/src/applications/closure.ts';
import { UpstreamProjects } from '../../../farm/src/applications/upstream-projects.ts';
import { IntegrityError, UserInputError, WheelfarmError } from '../../../farm/src/errors.ts';
import { loadRecipe } from '../../../farm/src/recipes/load-recipe.ts';
import { defaultRecipe } from '../../../farm/src/recipes/recipe.ts';
import { sendJson, startFixtureServer } from '../../fixtures/upstream/fixture-server.ts';
import type { FixtureServer } from '../../fixtures/upstream/fixture-server.ts';

const SHA = (c: string) => c.repeat(64);
const PYTHONS = ['3.12', '3.13'];

/** A file on a project's PEP 691 page. */
interface PageFile {
  filename: string;
  sha256?: string;
  requiresPython?: string;
}

const IDNA: PageFile[] = [
  { filename: 'idna-3.10-py3-none-any.whl', sha256: SHA('a'), requiresPython: '>=3.6' },
  { filename: 'idna-3.10.tar.gz', sha256: SHA('b'), requiresPython: '>=3.6' },
  { filename: 'idna-3.9-py3-none-any.whl', sha256: SHA('c') },
];
const MARKUPSAFE: PageFile[] = [
  { filename: 'markupsafe-3.0.3-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl', sha256: SHA('1') },
  { filename: 'markupsafe-3.0.3-cp313-cp313-manylinux_2_17_x86_64.manylinux2014_x86_64.whl', sha256: SHA('2') },
  { filename: 'markupsafe-3.0.3.tar.gz', sha256: SHA('3'), requiresPython: '>=3.9' },
];

let server: FixtureServer | undefined;
let recipesDir = '';

beforeEach(async () => {
  recipesDir = await mkdtemp(join(tmpdir(), 'wheelfarm-classify-'));
});
afterEach(async () => {
  await server?.close();
  server = undefined;
  await rm(recipesDir, { recursive: true, force: true });
});

/** A real upstream: a local HTTP server serving each project's PEP 691 page (`name`: as the index spells it). */
async function upstream(pages: Record<string, { name?: string; files: PageFile[] }>, auth = ''): Promise<UpstreamProjects> {
  const routes = Object.fromEntries(
    Object.entries(pages).map(([project, page]) => [
      `/simple/${project}/`,
      sendJson({
        meta: { 'api-version': '1.1' },
        name: page.name ?? project,
        files: page.files.map((f) => ({
          filename: f.filename,
          url: `../../files/${f.filename}`,
          hashes: f.sha256 ? { sha256: f.sha256 } : {},
          ...(f.requiresPython ? { 'requires-python': f.requiresPython } : {}),
          yanked: false,
        })),
      }),
    ]),
  );
  server = await startFixtureServer(routes);
  const url = `${server.origin.replace('//', `//${auth}`)}/simple/`;
  return new UpstreamProjects({ upstream: { index: async () => ({ url, source: 'test' }) }, signal: new AbortController().signal });
}

/** Real recipes: files in a temp recipes folder, read with loadRecipe. */
function deps(projects: UpstreamProjects, pure: ClassifyDeps['pure'] = 'mirror'): ClassifyDeps {
  return { projects, recipe: (name) => loadRecipe({ recipesDir, name }), pure };
}

async function writeRecipe(name: string, text: string): Promise<string> {
  const file = join(recipesDir, `${name}.yaml`);
  await writeFile(file, text);
  return file;
}

function line(file: string, at: number, requirement: string, name: string, hashes: string[] = []): RequirementLine {
  return { file, line: at, requirement, name, hashes, constraint: false };
}

function dist(
  name: string,
  version: string,
  { pythons = PYTHONS, lines = [], locked }: { pythons?: string[]; lines?: RequirementLine[]; locked?: LockedPackage } = {},
): ClosureDist {
  const normalized = name.toLowerCase();
  const why = new Map(pythons.map((p) => [p, [`requirements.txt:1 ${normalized}==${version}`]]));
  const hashes = [...new Set(lines.flatMap((l) => l.hashes))];
  return { name, normalized, version, why, hashes, lines, ...(locked ? { locked } : {}) };
}

function closure(...dists: ClosureDist[]): Closure {
  return { application: 'requirements.txt', pythons: PYTHONS, dists };
}

async function classifyOne(classify: ClassifyDeps, one: ClosureDist): Promise<ClosureEntry> {
  const [entry, ...rest] = await classifyClosure(classify, closure(one));
  expect(rest).toEqual([]);
  return entry!;
}

async function failure(promise: Promise<unknown>): Promise<WheelfarmError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(WheelfarmError);
  return error as WheelfarmError;
}

const origin = () => server!.origin;
const fileUrl = (filename: string) => `${origin()}/files/${filename}`;

describe('classifyClosure: mirror or build', () => {
  it('mirrors the pure wheel of the resolved version when the upstream has one', async () => {
    const projects = await upstream({ idna: { files: IDNA } });
    const idna = dist('idna', '3.10');
    const entry = await classifyOne(deps(projects), idna);
    expect(entry).toEqual({
      kind: 'mirror',
      dist: idna,
      pythons: PYTHONS,
      file: {
        filename: 'idna-3.10-py3-none-any.whl',
        url: fileUrl('idna-3.10-py3-none-any.whl'),
        sha256: SHA('a'),
        requiresPython: '>=3.6',
        yanked: false,
      },
      reason: 'a pure wheel upstream',
    });
  });

  it('builds from the sdist when the upstream has only platform wheels of the version (native code)', async () => {
    const projects = await upstream({ markupsafe: { name: 'MarkupSafe', files: MARKUPSAFE } });
    const markupsafe = dist('MarkupSafe', '3.0.3');
    const entry = await classifyOne(deps(projects), markupsafe);
    expect(entry).toEqual({
      kind: 'build',
      dist: markupsafe,
      pythons: PYTHONS,
      source: {
        name: 'MarkupSafe',
        version: '3.0.3',
        filename: 'markupsafe-3.0.3.tar.gz',
        requiresPython: '>=3.9',
        origin: { kind: 'download', url: fileUrl('markupsafe-3.0.3.tar.gz'), sha256: SHA('3') },
        from: `${origin()}/simple/`,
      },
      recipe: defaultRecipe('markupsafe'),
      reason: 'no pure wheel upstream: native code, or only an sdist',
    });
  });

  it('builds a pure project that publishes only an sdist', async () => {
    const projects = await upstream({ docopt: { files: [{ filename: 'docopt-0.6.2.tar.gz', sha256: SHA('d') }] } });
    const entry = await classifyOne(deps(projects), dist('docopt', '0.6.2'));
    expect(entry).toMatchObject({
      kind: 'build',
      source: { version: '0.6.2', filename: 'docopt-0.6.2.tar.gz' },
      reason: 'no pure wheel upstream: native code, or only an sdist',
    });
  });

  it('takes only files of the resolved version: a pure wheel of another release does not make it a mirror', async () => {
    const files = [
      { filename: 'idna-3.10.tar.gz', sha256: SHA('b') },
      { filename: 'idna-3.9-py3-none-any.whl', sha256: SHA('c') },
    ];
    const projects = await upstream({ idna: { files } });
    const entry = await classifyOne(deps(projects), dist('idna', '3.10'));
    expect(entry).toMatchObject({ kind: 'build', source: { filename: 'idna-3.10.tar.gz' } });
  });

  it('builds when a recipe file exists, even with a pure wheel upstream', async () => {
    const file = await writeRecipe('idna', 'python: ">=3.9"\n');
    const projects = await upstream({ idna: { files: IDNA } });
    const entry = await classifyOne(deps(projects), dist('idna', '3.10'));
    expect(entry).toMatchObject({
      kind: 'build',
      source: { filename: 'idna-3.10.tar.gz', origin: { kind: 'download', sha256: SHA('b') } },
      reason: `a recipe builds it (${file})`,
    });
    expect(entry.kind === 'build' && entry.recipe).toMatchObject({ file, python: '>=3.9' });
  });

  it('builds a pure project when closure.pure is build', async () => {
    const projects = await upstream({ idna: { files: IDNA } });
    const entry = await classifyOne(deps(projects, 'build'), dist('idna', '3.10'));
    expect(entry).toMatchObject({ kind: 'build', source: { filename: 'idna-3.10.tar.gz' }, reason: 'closure.pure: build' });
  });

  it('builds from the recipe’s own source without asking the upstream', async () => {
    const file = await writeRecipe('cffi', `source:\n  url: "https://files.example/cffi-2.0.0.tar.gz"\n  sha256: "${SHA('e')}"\n`);
    const projects = await upstream({ cffi: { files: [] } });
    const entry = await classifyOne(deps(projects), dist('cffi', '2.0.0'));
    expect(entry).toMatchObject({
      kind: 'build',
      source: {
        name: 'cffi',
        version: '2.0.0',
        filename: 'cffi-2.0.0.tar.gz',
        origin: { kind: 'download', url: 'https://files.example/cffi-2.0.0.tar.gz', sha256: SHA('e') },
      },
      reason: `its recipe gives its source (${file})`,
    });
    expect(server!.requests).toEqual([]);
  });

  it('refuses a recipe’s own source at another version than the closure’s', async () => {
    await writeRecipe('cffi', `source:\n  url: "https://files.example/cffi-1.17.1.tar.gz"\n  sha256: "${SHA('e')}"\n`);
    const projects = await upstream({ cffi: { files: [] } });
    await failure(classifyClosure(deps(projects), closure(dist('cffi', '2.0.0'))));
  });

  it.each([
    ['py3-none-any', 'idna-3.10-py3-none-any.whl'],
    ['py2.py3-none-any', 'idna-3.10-py2.py3-none-any.whl'],
    ['py312-none-any (3.12 and newer)', 'idna-3.10-py312-none-any.whl'],
  ])('counts a %s wheel as pure for Python 3.12 and 3.13', async (_tag, filename) => {
    const projects = await upstream({
      idna: {
        files: [
          { filename, sha256: SHA('a') },
          { filename: 'idna-3.10.tar.gz', sha256: SHA('b') },
        ],
      },
    });
    const entry = await classifyOne(deps(projects), dist('idna', '3.10'));
    expect(entry).toMatchObject({ kind: 'mirror', file: { filename } });
  });

  it.each([
    ['an abi3 wheel', 'tagged-1.0-cp312-abi3-manylinux_2_17_x86_64.whl'],
    ['a py3-none platform wheel', 'tagged-1.0-py3-none-manylinux_2_17_x86_64.whl'],
    ['an abi3 wheel tagged `any`', 'tagged-1.0-cp312-abi3-any.whl'],
    ['a pure wheel only for newer Pythons (py313)', 'tagged-1.0-py313-none-any.whl'],
  ])('does not count %s as pure: builds from the sdist', async (_what, filename) => {
    const files = [
      { filename, sha256: SHA('a') },
      { filename: 'tagged-1.0.tar.gz', sha256: SHA('b') },
    ];
    const projects = await upstream({ tagged: { files } });
    const only312: Closure = { application: 'requirements.txt', pythons: ['3.12'], dists: [dist('tagged', '1.0', { pythons: ['3.12'] })] };
    const [entry] = await classifyClosure(deps(projects), only312);
    expect(entry).toMatchObject({ kind: 'build', source: { filename: 'tagged-1.0.tar.gz' } });
  });

  it('builds when the pure wheel does not serve every Python that needs it (py313-none-any, needed on 3.12 and 3.13)', async () => {
    const files = [
      { filename: 'tagged-1.0-py313-none-any.whl', sha256: SHA('a') },
      { filename: 'tagged-1.0.tar.gz', sha256: SHA('b') },
    ];
    const projects = await upstream({ tagged: { files } });
    const entry = await classifyOne(deps(projects), dist('tagged', '1.0'));
    expect(entry).toMatchObject({ kind: 'build', pythons: PYTHONS, source: { filename: 'tagged-1.0.tar.gz' } });
  });

  it('asks only the Pythons whose closure has the distribution: a py313 wheel is pure enough when only 3.13 needs it', async () => {
    const filename = 'tagged-1.0-py313-none-any.whl';
    const files = [
      { filename, sha256: SHA('a') },
      { filename: 'tagged-1.0.tar.gz', sha256: SHA('b') },
    ];
    const projects = await upstream({ tagged: { files } });
    const entry = await classifyOne(deps(projects), dist('tagged', '1.0', { pythons: ['3.13'] }));
    expect(entry).toMatchObject({ kind: 'mirror', pythons: ['3.13'], file: { filename } });
  });

  it('ignores the pure wheel’s requires-python: the resolver already chose the release for these Pythons', async () => {
    const files = [{ filename: 'idna-3.10-py3-none-any.whl', sha256: SHA('a'), requiresPython: '>=3.14' }];
    const projects = await upstream({ idna: { files } });
    expect(await classifyOne(deps(projects), dist('idna', '3.10'))).toMatchObject({ kind: 'mirror' });
  });

  it('classifies every distribution, fetching each project’s page once for all its versions', async () => {
    const projects = await upstream({ idna: { files: IDNA }, markupsafe: { name: 'MarkupSafe', files: MARKUPSAFE } });
    const entries = await classifyClosure(
      deps(projects),
      closure(dist('idna', '3.10', { pythons: ['3.13'] }), dist('idna', '3.9', { pythons: ['3.12'] }), dist('MarkupSafe', '3.0.3')),
    );
    expect(entries.map((e) => [e.kind, e.dist.version, e.pythons])).toEqual([
      ['mirror', '3.10', ['3.13']],
      ['mirror', '3.9', ['3.12']],
      ['build', '3.0.3', PYTHONS],
    ]);
    expect(server!.count('/simple/idna/')).toBe(1);
    expect(server!.count('/simple/markupsafe/')).toBe(1);
  });

  it('names the upstream in the source without its credentials', async () => {
    const projects = await upstream({ markupsafe: { files: MARKUPSAFE } }, 'farm:s3cret@');
    const entry = await classifyOne(deps(projects), dist('markupsafe', '3.0.3'));
    expect(entry.kind === 'build' && entry.source.from).toBe(`${origin().replace('//', '//farm:***@')}/simple/`);
    expect(JSON.stringify(entry.kind === 'build' && entry.source.from)).not.toContain('s3cret');
  });
});

describe('classifyClosure: a distribution that must be built but cannot be', () => {
  it('no-sdist-to-build: native code and no sdist of the version', async () => {
    const files = MARKUPSAFE.filter((f) => f.filename.endsWith('.whl'));
    const projects = await upstream({ markupsafe: { name: 'MarkupSafe', files } });
    const error = await failure(classifyClosure(deps(projects), closure(dist('MarkupSafe', '3.0.3'))));
    expect(error).toBeInstanceOf(UserInputError);
    expect(error.code).toBe('no-sdist-to-build');
    expect(error.message).toBe(
      'MarkupSafe 3.0.3 must be built (no pure wheel upstream: native code, or only an sdist), but the upstream has no sdist of it',
    );
    expect(error.hint).toContain('recipe with its own source');
  });

  it('no-sdist-to-build: a recipe asks to build a project that publishes only a pure wheel', async () => {
    const file = await writeRecipe('idna', 'python: ">=3.9"\n');
    const projects = await upstream({ idna: { files: [{ filename: 'idna-3.10-py3-none-any.whl', sha256: SHA('a') }] } });
    const error = await failure(classifyClosure(deps(projects), closure(dist('idna', '3.10'))));
    expect(error.code).toBe('no-sdist-to-build');
    expect(error.message).toBe(`idna 3.10 must be built (a recipe builds it (${file})), but the upstream has no sdist of it`);
  });
});

describe('classifyClosure: the file taken must be one the application allows', () => {
  const hashed = (sha: string) => line('requirements.txt', 7, 'idna==3.10', 'idna', [sha, SHA('9')]);
  const constraint: RequirementLine = { ...line('constraints.txt', 2, 'idna<4', 'idna'), constraint: true };

  it('takes the pure wheel when a --hash of its line is the upstream file’s sha256', async () => {
    const projects = await upstream({ idna: { files: IDNA } });
    const entry = await classifyOne(deps(projects), dist('idna', '3.10', { lines: [hashed(SHA('a')), constraint] }));
    expect(entry).toMatchObject({ kind: 'mirror', file: { sha256: SHA('a') } });
  });

  it('hash-mismatch: no --hash allows the pure wheel’s sha256; names the file and the hashed line', async () => {
    const projects = await upstream({ idna: { files: IDNA } });
    const error = await failure(classifyClosure(deps(projects), closure(dist('idna', '3.10', { lines: [hashed(SHA('f')), constraint] }))));
    expect(error).toBeInstanceOf(IntegrityError);
    expect(error.code).toBe('hash-mismatch');
    expect(error.message).toBe(
      `idna-3.10-py3-none-any.whl (idna 3.10) has sha256 ${SHA('a')} upstream, which requirements.txt:7 idna==3.10 does not allow (ffffffffffff, 999999999999…)`,
    );
    expect(error.message).not.toContain('constraints.txt');
    expect(error.hint).toContain('--generate-hashes');
  });

  it('hash-mismatch on the sdist of a distribution that is built (hashes of its wheels only)', async () => {
    const projects = await upstream({ markupsafe: { name: 'MarkupSafe', files: MARKUPSAFE } });
    const lines = [line('requirements.txt', 3, 'markupsafe==3.0.3', 'markupsafe', [SHA('1'), SHA('2')])];
    const error = await failure(classifyClosure(deps(projects), closure(dist('MarkupSafe', '3.0.3', { lines }))));
    expect(error.code).toBe('hash-mismatch');
    expect(error.message).toContain(`markupsafe-3.0.3.tar.gz (MarkupSafe 3.0.3) has sha256 ${SHA('3')} upstream`);
    expect(error.message).toContain('requirements.txt:3 markupsafe==3.0.3');
  });

  it('hash-mismatch when the upstream gives no sha256 for a file the application hashes', async () => {
    const projects = await upstream({ idna: { files: [{ filename: 'idna-3.10-py3-none-any.whl' }] } });
    const error = await failure(classifyClosure(deps(projects), closure(dist('idna', '3.10', { lines: [hashed(SHA('a'))] }))));
    expect(error.code).toBe('hash-mismatch');
    expect(error.message).toContain('has sha256 (none given upstream) upstream');
  });

  describe('a lock’s entry', () => {
    const locked = (files: { wheels?: [string, string][]; sdist?: [string, string] }): LockedPackage => ({
      name: 'idna',
      normalized: 'idna',
      version: '3.10',
      wheels: (files.wheels ?? []).map(([filename, sha256]) => ({ filename, sha256 })),
      ...(files.sdist ? { sdist: { filename: files.sdist[0], sha256: files.sdist[1] } } : {}),
      line: 12,
    });

    it('takes the pure wheel the lock lists with the same sha256', async () => {
      const projects = await upstream({ idna: { files: IDNA } });
      const lock = locked({ wheels: [['idna-3.10-py3-none-any.whl', SHA('a')]], sdist: ['idna-3.10.tar.gz', SHA('b')] });
      expect(await classifyOne(deps(projects), dist('idna', '3.10', { locked: lock }))).toMatchObject({ kind: 'mirror' });
    });

    it('takes the sdist the lock lists when the distribution is built', async () => {
      const projects = await upstream({ idna: { files: IDNA } });
      const lock = locked({ wheels: [['idna-3.10-py3-none-any.whl', SHA('a')]], sdist: ['idna-3.10.tar.gz', SHA('b')] });
      const entry = await classifyOne(deps(projects, 'build'), dist('idna', '3.10', { locked: lock }));
      expect(entry).toMatchObject({ kind: 'build', source: { filename: 'idna-3.10.tar.gz' } });
    });

    it('hash-mismatch: the lock lists the file with another sha256', async () => {
      const projects = await upstream({ idna: { files: IDNA } });
      const lock = locked({ wheels: [['idna-3.10-py3-none-any.whl', SHA('7')]] });
      const error = await failure(classifyClosure(deps(projects), closure(dist('idna', '3.10', { locked: lock }))));
      expect(error).toBeInstanceOf(IntegrityError);
      expect(error.code).toBe('hash-mismatch');
      expect(error.message).toBe(
        `idna-3.10-py3-none-any.whl (idna 3.10) has sha256 ${SHA('a')} upstream, which the lock (line 12) does not allow (777777777777…)`,
      );
    });

    it('lock-file-missing: the lock does not list the file the farm takes', async () => {
      const projects = await upstream({ idna: { files: IDNA } });
      const lock = locked({ wheels: [['idna-3.10-py3-none-any.whl', SHA('a')]] });
      const error = await failure(classifyClosure(deps(projects, 'build'), closure(dist('idna', '3.10', { locked: lock }))));
      expect(error).toBeInstanceOf(UserInputError);
      expect(error.code).toBe('lock-file-missing');
      expect(error.message).toBe("the lock's entry for idna 3.10 (line 12) does not list idna-3.10.tar.gz, the file the farm takes");
    });
  });
});
