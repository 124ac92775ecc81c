import { describe, expect, it } from 'vitest';
import { chooseReleases } from '../../../farm/src/matrix/choose-releases.ts';
import type { MatrixPackage, PlanEnvironment } from '../../../farm/src/matrix/plan-matrix.ts';
import { DEFAULT_EXPECTED_SECONDS, failureBackOff, planMatrix } from '../../../farm/src/matrix/plan-matrix.ts';
import type { ResolvedSource } from '../../../farm/src/pipeline/resolve-source.ts';
import type { BuildInputs, BuildRecord, CellHistory } from '../../../farm/src/records/build-records.ts';
import { defaultRecipe } from '../../../farm/src/recipes/recipe.ts';
import { releasesWithSdists } from '../../../farm/src/upstream/select-sdist.ts';

const PLATFORM = 'manylinux_2_31_x86_64';
const NOW = new Date('2026-11-22T12:00:00Z');
const SHA = (c: string) => c.repeat(64);
const PYTHONS = [
  { minor: '3.11', tag: 'cp311', inImage: true },
  { minor: '3.13', tag: 'cp313', inImage: true },
];

function source(version: string, extra: Partial<ResolvedSource> = {}): ResolvedSource {
  return {
    name: 'PyYAML',
    version,
    filename: `pyyaml-${version}.tar.gz`,
    origin: { kind: 'download', url: `https://upstream.example/pyyaml-${version}.tar.gz`, sha256: SHA('a') },
    from: 'upstream',
    ...extra,
  };
}

function pkg(overrides: Partial<MatrixPackage> = {}): MatrixPackage {
  return {
    recipe: defaultRecipe('pyyaml'),
    releases: [source('6.0.3')],
    recipeHash: 'r1',
    image: 'wheelfarm/recipe:1',
    indexFiles: [],
    ...overrides,
  };
}

function env(overrides: Partial<PlanEnvironment> = {}): PlanEnvironment {
  return {
    pythons: PYTHONS,
    platform: PLATFORM,
    histories: new Map(),
    now: NOW,
    retry: { afterSeconds: 6 * 3600, maxSeconds: 7 * 86_400 },
    ...overrides,
  };
}

const INPUTS: BuildInputs = { source: `sha256:${SHA('a')}`, recipe: 'r1', image: 'wheelfarm/recipe:1' };
const wheelOf = (python: string, version = '6.0.3', tag = '') => `pyyaml-${version}-${tag}${python}-${python}-${PLATFORM}.whl`;
const file = (filename: string) => ({ filename, sha256: SHA('0'), size: 1 });
let nextId = 1;

function record(python: string, state: BuildRecord['state'], overrides: Partial<BuildRecord> = {}): BuildRecord {
  return {
    id: nextId++,
    buildId: `pyyaml-6.0.3-${python}-${PLATFORM}`,
    cell: { name: 'pyyaml', version: '6.0.3', python, platform: PLATFORM },
    index: 'dir:/srv',
    inputs: INPUTS,
    buildTag: undefined,
    state,
    startedAt: '2026-11-22T10:00:00.000Z',
    finishedAt: '2026-11-22T10:01:00.000Z',
    steps: { build: 30, repair: 5, test: 5 },
    wheel: state === 'published' ? wheelOf(python) : undefined,
    wheelSha256: undefined,
    log: undefined,
    error: state === 'failed' ? 'the build step failed' : undefined,
    requires: undefined,
    native: [],
    host: 'farm',
    pid: 1,
    ...overrides,
  };
}

function histories(...entries: CellHistory[]): Map<string, CellHistory> {
  return new Map(entries.map((h) => [h.buildId, h]));
}

const states = (cells: ReturnType<typeof planMatrix>) => cells.map((c) => [c.buildId, c.state, c.reason ?? '']);

describe('planMatrix: cell states', () => {
  it('missing: nothing in the index; one cell per release and Python, newest release first', () => {
    const plan = planMatrix([pkg({ releases: [source('6.0.3'), source('6.0.2')] })], env());
    expect(states(plan)).toEqual([
      [`pyyaml-6.0.3-cp311-${PLATFORM}`, 'missing', 'not in the index'],
      [`pyyaml-6.0.3-cp313-${PLATFORM}`, 'missing', 'not in the index'],
      [`pyyaml-6.0.2-cp311-${PLATFORM}`, 'missing', 'not in the index'],
      [`pyyaml-6.0.2-cp313-${PLATFORM}`, 'missing', 'not in the index'],
    ]);
    expect(plan[0]).toMatchObject({ inputs: INPUTS, newRelease: true, expectedSeconds: DEFAULT_EXPECTED_SECONDS });
  });

  it('built: the index serves the wheel and the records say it was built from these inputs', () => {
    const h = histories({ buildId: `pyyaml-6.0.3-cp311-${PLATFORM}`, done: record('cp311', 'published'), failures: [] });
    const plan = planMatrix([pkg({ indexFiles: [file(wheelOf('cp311'))] })], env({ histories: h }));
    expect(plan[0]).toMatchObject({ state: 'built', wheel: wheelOf('cp311'), newRelease: false, expectedSeconds: 40 });
    // The sibling cell without a history is expected to take as long as the package's known builds.
    expect(plan[1]).toMatchObject({ state: 'missing', newRelease: false, expectedSeconds: 40 });
  });

  it.each([
    ['recipe changed', { recipeHash: 'r2' }],
    ['image changed', { image: 'wheelfarm/recipe:2' }],
    ['sdist changed', { releases: [source('6.0.3', { origin: { kind: 'download', url: 'u', sha256: SHA('b') } })] }],
  ] as [string, Partial<MatrixPackage>][])('stale (%s): rebuilt with the next build tag', (reason, change) => {
    const h = histories({ buildId: `pyyaml-6.0.3-cp311-${PLATFORM}`, done: record('cp311', 'published'), failures: [] });
    const plan = planMatrix([pkg({ indexFiles: [file(wheelOf('cp311'))], ...change })], env({ histories: h }));
    expect(plan[0]).toMatchObject({ state: 'stale', reason, buildTag: '1', wheel: wheelOf('cp311') });
  });

  it('stale for everything built when a rebuild is forced', () => {
    const h = histories({ buildId: `pyyaml-6.0.3-cp311-${PLATFORM}`, done: record('cp311', 'published'), failures: [] });
    const plan = planMatrix([pkg({ indexFiles: [file(wheelOf('cp311'))] })], env({ histories: h, rebuild: true }));
    expect(plan.map((c) => c.state)).toEqual(['stale', 'missing']);
  });

  it('excluded: requires-python, the recipe’s python, or a Python the image lacks, each with its reason', () => {
    const pythons = [...PYTHONS, { minor: '3.14', tag: 'cp314', inImage: false }];
    const plan = planMatrix(
      [
        pkg({ releases: [source('6.0.3', { requiresPython: '>=3.12' })] }),
        pkg({ recipe: { ...defaultRecipe('pyyaml'), python: '<3.13' } }),
      ],
      env({ pythons }),
    );
    expect(plan.map((c) => [c.cell.python, c.state, c.reason])).toEqual([
      ['cp311', 'excluded', 'requires-python >=3.12'],
      ['cp313', 'missing', 'not in the index'],
      ['cp314', 'excluded', 'Python 3.14 is not in the build image'],
      ['cp311', 'missing', 'not in the index'],
      ['cp313', 'excluded', 'recipe python <3.13'],
      ['cp314', 'excluded', 'Python 3.14 is not in the build image'],
    ]);
    expect(plan[0]!.inputs).toBeUndefined();
  });

  it('failed: with the same inputs it waits, doubling per failure; then it is tried again', () => {
    const failures = [
      record('cp311', 'failed', { finishedAt: '2026-11-22T10:00:00.000Z' }),
      record('cp311', 'failed', { finishedAt: '2026-11-21T10:00:00.000Z' }),
    ];
    const h = histories({ buildId: `pyyaml-6.0.3-cp311-${PLATFORM}`, done: undefined, failures });
    const plan = planMatrix([pkg()], env({ histories: h }));
    // Two failures: 6 h x 2 = 12 h after the newest one.
    expect(plan[0]).toMatchObject({ state: 'failed', retryAt: '2026-11-22T22:00:00.000Z' });
    expect(plan[0]!.reason).toContain('failed 2 times with these inputs');
    expect(plan[1]!.state).toBe('missing');

    const later = planMatrix([pkg()], env({ histories: h, now: new Date('2026-11-22T22:00:01Z') }));
    expect(later[0]).toMatchObject({ state: 'missing', reason: 'not in the index; retry after 2 failures' });
  });

  it('failed cells whose recipe or image changed are tried at once', () => {
    const h = histories({ buildId: `pyyaml-6.0.3-cp311-${PLATFORM}`, done: undefined, failures: [record('cp311', 'failed')] });
    expect(planMatrix([pkg({ recipeHash: 'fixed' })], env({ histories: h }))[0]!.state).toBe('missing');
    expect(planMatrix([pkg()], env({ histories: h }))[0]!.state).toBe('failed');
  });

  it('a stale cell that keeps failing is `failed` and still names the wheel it serves', () => {
    const done = record('cp311', 'published', { inputs: { ...INPUTS, recipe: 'r0' } });
    const h = histories({ buildId: `pyyaml-6.0.3-cp311-${PLATFORM}`, done, failures: [record('cp311', 'failed')] });
    const plan = planMatrix([pkg({ indexFiles: [file(wheelOf('cp311'))] })], env({ histories: h }));
    expect(plan[0]).toMatchObject({ state: 'failed', wheel: wheelOf('cp311') });
  });

  it('without any record, a bigger sdist is expected to take longer (so it is scheduled first)', () => {
    const plan = planMatrix(
      [
        pkg({ releases: [source('6.0.3', { size: 4_000_000 })] }),
        pkg({ recipe: defaultRecipe('markupsafe'), releases: [source('3.0.4', { name: 'markupsafe', size: 20_000 })] }),
      ],
      env(),
    );
    expect(plan[0]!.expectedSeconds).toBeCloseTo(150);
    expect(plan[2]!.expectedSeconds).toBeCloseTo(30.6);
  });

  it('a release published by someone else is built, not new', () => {
    const plan = planMatrix([pkg({ indexFiles: [file(wheelOf('cp311'))] })], env());
    expect(plan.map((c) => [c.state, c.newRelease])).toEqual([
      ['built', false],
      ['missing', false],
    ]);
  });
});

describe('failureBackOff', () => {
  const retry = { afterSeconds: 3600, maxSeconds: 4 * 3600 };
  it('counts only the newest failures with the same inputs, and caps the wait', () => {
    const f = (inputs: BuildInputs) => record('cp311', 'failed', { inputs, finishedAt: '2026-11-22T00:00:00.000Z' });
    expect(failureBackOff([], INPUTS, { retry })).toBeUndefined();
    expect(failureBackOff([f({ ...INPUTS, image: 'x' })], INPUTS, { retry })).toBeUndefined();
    expect(failureBackOff([f(INPUTS), f({ ...INPUTS, image: 'x' }), f(INPUTS)], INPUTS, { retry })!.count).toBe(1);
    const many = failureBackOff(
      Array.from({ length: 6 }, () => f(INPUTS)),
      INPUTS,
      { retry },
    )!;
    expect(many).toEqual({ count: 6, retryAt: new Date('2026-11-22T04:00:00.000Z') });
  });
});

describe('chooseReleases', () => {
  const releases = releasesWithSdists('demo', [
    ...['1.0', '1.1', '2.0', '2.1rc1', '2.1', '3.0b1'].map((v) => ({
      filename: `demo-${v}.tar.gz`,
      url: `u/${v}`,
      sha256: SHA('c'),
      yanked: false as const,
    })),
    { filename: 'demo-2.2.tar.gz', url: 'u/2.2', sha256: SHA('c'), yanked: 'broken' },
    { filename: 'demo-2.3-py3-none-any.whl', url: 'u/2.3', sha256: SHA('c'), yanked: false },
  ]);

  it('lists the versions with a non-yanked sdist, newest first (PEP 440), marking pre-releases', () => {
    expect(releases).toEqual([
      { version: '3.0b1', prerelease: true },
      { version: '2.1', prerelease: false },
      { version: '2.1rc1', prerelease: true },
      { version: '2.0', prerelease: false },
      { version: '1.1', prerelease: false },
      { version: '1.0', prerelease: false },
    ]);
  });

  it('keeps the newest N finals, and says why newer ones were left out', () => {
    expect(chooseReleases(releases, { versions: undefined, latest: undefined }, { latest: 2, prereleases: false })).toEqual({
      versions: ['2.1', '2.0'],
      skipped: [
        { version: '3.0b1', reason: 'pre-release' },
        { version: '2.1rc1', reason: 'pre-release' },
      ],
    });
  });

  it('the recipe’s versions and latest win over the settings; pre-releases when asked', () => {
    expect(chooseReleases(releases, { versions: '<2', latest: 5 }, { latest: 1, prereleases: false }).versions).toEqual(['1.1', '1.0']);
    expect(chooseReleases(releases, { versions: undefined, latest: undefined }, { latest: 2, prereleases: true }).versions).toEqual([
      '3.0b1',
      '2.1',
    ]);
    expect(chooseReleases([], { versions: undefined, latest: undefined }, { latest: 2, prereleases: false })).toEqual({
      versions: [],
      skipped: [],
    });
  });
});
