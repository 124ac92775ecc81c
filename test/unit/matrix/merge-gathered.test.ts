import { describe, expect, it } from 'vitest';
import type { GatheredApplication } from '../../../farm/src/matrix/gather-application.ts';
import type { GatheredMatrix } from '../../../farm/src/matrix/gather-parts.ts';
import { mergeGathered } from '../../../farm/src/matrix/merge-gathered.ts';
import type { MatrixPackage, MatrixPython, PlanEnvironment } from '../../../farm/src/matrix/plan-matrix.ts';
import { NOT_IN_CLOSURE, planMatrix } from '../../../farm/src/matrix/plan-matrix.ts';
import type { ResolvedSource } from '../../../farm/src/pipeline/resolve-source.ts';
import type { CellHistory } from '../../../farm/src/records/build-records.ts';
import { defaultRecipe } from '../../../farm/src/recipes/recipe.ts';

const PLATFORM = 'manylinux_2_31_x86_64';
const NOW = new Date('2026-11-22T12:00:00Z');
const SHA = (c: string) => c.repeat(64);
const py = (minor: string): MatrixPython => ({ minor, tag: `cp${minor.replace('.', '')}`, inImage: true });

function source(name: string, version: string): ResolvedSource {
  return {
    name,
    version,
    filename: `${name}-${version}.tar.gz`,
    origin: { kind: 'download', url: `https://upstream.example/${name}-${version}.tar.gz`, sha256: SHA('a') },
    from: 'upstream',
  };
}

function pkg(name: string, versions: string[], overrides: Partial<MatrixPackage> = {}): MatrixPackage {
  return {
    recipe: defaultRecipe(name),
    releases: versions.map((v) => source(name, v)),
    recipeHash: 'r1',
    image: 'wheelfarm/build:1',
    indexFiles: [],
    ...overrides,
  };
}

function env(pythons: string[], overrides: Partial<PlanEnvironment> = {}): PlanEnvironment {
  return {
    pythons: pythons.map(py),
    platform: PLATFORM,
    histories: new Map(),
    now: NOW,
    retry: { afterSeconds: 6 * 3600, maxSeconds: 7 * 86_400 },
    ...overrides,
  };
}

const PREPARED = {} as GatheredMatrix['prepared'];

function matrix(packages: MatrixPackage[], environment: PlanEnvironment): GatheredMatrix {
  return { packages, problems: [], environment, prepared: PREPARED, skipped: new Map() };
}

/** An application's gathered closure: its build packages, each release for the Pythons that need it. */
function application(name: string, packages: MatrixPackage[], environment: PlanEnvironment): GatheredApplication {
  return {
    ...matrix(packages, environment),
    closure: { application: name, pythons: environment.pythons.map((p) => p.minor), dists: [] },
    entries: [],
    mirrors: [],
    record: `/home/closures/${name}.json`,
  };
}

const closurePythons = (entries: Record<string, string[]>) => new Map(Object.entries(entries).map(([v, ps]) => [v, new Set(ps)]));
const asObject = (map: Map<string, Set<string>> | undefined) =>
  Object.fromEntries([...(map ?? new Map<string, Set<string>>())].map(([v, ps]) => [v, [...ps].sort()]));

function history(buildId: string): CellHistory {
  return { buildId, done: undefined, failures: [] };
}

describe('mergeGathered', () => {
  it('is the matrix itself when there is no application', () => {
    const gathered = matrix([pkg('pyyaml', ['6.0.3'])], env(['3.11', '3.13']));
    expect(mergeGathered(gathered, [])).toBe(gathered);
  });

  it('joins a package both keep built: the releases of both, each for the Pythons that need it', () => {
    const gathered = matrix([pkg('pyyaml', ['6.0.3'])], env(['3.11', '3.13']));
    const app = application(
      'web',
      [pkg('pyyaml', ['6.0.3', '6.0.2'], { closurePythons: closurePythons({ '6.0.3': ['3.12'], '6.0.2': ['3.13'] }) })],
      env(['3.12', '3.13']),
    );
    const merged = mergeGathered(gathered, [app]);
    expect(merged.packages).toHaveLength(1);
    expect(merged.packages[0]!.releases.map((r) => r.version)).toEqual(['6.0.3', '6.0.2']);
    expect(asObject(merged.packages[0]!.closurePythons)).toEqual({ '6.0.3': ['3.11', '3.12', '3.13'], '6.0.2': ['3.13'] });
  });

  it('plans with the union of the Pythons, in order, the rest of the environment the matrix’s', () => {
    const gathered = matrix([pkg('pyyaml', ['6.0.3'])], env(['3.11', '3.13'], { rebuild: true }));
    const app = application(
      'web',
      [pkg('idna', ['3.10'], { closurePythons: closurePythons({ '3.10': ['3.14'] }) })],
      env(['3.14', '3.12'], { platform: 'other', now: new Date(0) }),
    );
    const merged = mergeGathered(gathered, [app]);
    expect(merged.environment.pythons.map((p) => p.minor)).toEqual(['3.11', '3.12', '3.13', '3.14']);
    expect(merged.environment).toMatchObject({ platform: PLATFORM, now: NOW, rebuild: true });
  });

  it('keeps the records of the matrix and of every application', () => {
    const mine = history(`pyyaml-6.0.3-cp311-${PLATFORM}`);
    const theirs = history(`idna-3.10-cp312-${PLATFORM}`);
    const gathered = matrix([pkg('pyyaml', ['6.0.3'])], env(['3.11'], { histories: new Map([[mine.buildId, mine]]) }));
    const app = application(
      'web',
      [pkg('idna', ['3.10'], { closurePythons: closurePythons({ '3.10': ['3.12'] }) })],
      env(['3.12'], { histories: new Map([[theirs.buildId, theirs]]) }),
    );
    expect([...mergeGathered(gathered, [app]).environment.histories.keys()]).toEqual([mine.buildId, theirs.buildId]);
  });

  it('joins the same package of two applications, and leaves the applications as they were', () => {
    const gathered = matrix([], env(['3.12']));
    const web = application('web', [pkg('idna', ['3.10'], { closurePythons: closurePythons({ '3.10': ['3.12'] }) })], env(['3.12']));
    const cli = application(
      'cli',
      [pkg('idna', ['3.10', '3.9'], { closurePythons: closurePythons({ '3.10': ['3.13'], '3.9': ['3.14'] }) })],
      env(['3.13', '3.14']),
    );
    const merged = mergeGathered(gathered, [web, cli]);
    expect(merged.packages.map((p) => p.recipe.name)).toEqual(['idna']);
    expect(asObject(merged.packages[0]!.closurePythons)).toEqual({ '3.10': ['3.12', '3.13'], '3.9': ['3.14'] });
    expect(asObject(web.packages[0]!.closurePythons)).toEqual({ '3.10': ['3.12'] });
    expect(web.packages[0]!.releases.map((r) => r.version)).toEqual(['3.10']);
  });

  it('keeps the matrix’s packages to the matrix’s Pythons when an application adds another', () => {
    const gathered = matrix([pkg('numpy', ['2.3.4'])], env(['3.11', '3.13']));
    const app = application('web', [pkg('idna', ['3.10'], { closurePythons: closurePythons({ '3.10': ['3.12'] }) })], env(['3.12']));
    const merged = mergeGathered(gathered, [app]);
    expect(merged.packages.map((p) => p.recipe.name)).toEqual(['numpy', 'idna']);
    expect(asObject(merged.packages[0]!.closurePythons)).toEqual({ '2.3.4': ['3.11', '3.13'] });
  });
});

describe('mergeGathered, then planMatrix', () => {
  const gathered = matrix([pkg('pyyaml', ['6.0.3']), pkg('numpy', ['2.3.4'])], env(['3.11', '3.13']));
  const app = application(
    'web',
    [
      pkg('pyyaml', ['6.0.3', '6.0.2'], { closurePythons: closurePythons({ '6.0.3': ['3.12'], '6.0.2': ['3.13'] }) }),
      pkg('markupsafe', ['3.0.3'], { closurePythons: closurePythons({ '3.0.3': ['3.12'] }) }),
    ],
    env(['3.12', '3.13']),
  );

  it('plans each release for the Pythons that need it; the others are excluded as not in the closure', () => {
    const merged = mergeGathered(gathered, [app]);
    const plan = planMatrix(merged.packages, merged.environment);
    expect(plan.map((c) => [c.buildId.replace(`-${PLATFORM}`, ''), c.state, c.reason])).toEqual([
      ['pyyaml-6.0.3-cp311', 'missing', 'not in the index'],
      ['pyyaml-6.0.3-cp312', 'missing', 'not in the index'],
      ['pyyaml-6.0.3-cp313', 'missing', 'not in the index'],
      ['pyyaml-6.0.2-cp311', 'excluded', `${NOT_IN_CLOSURE} for Python 3.11`],
      ['pyyaml-6.0.2-cp312', 'excluded', `${NOT_IN_CLOSURE} for Python 3.12`],
      ['pyyaml-6.0.2-cp313', 'missing', 'not in the index'],
      ['numpy-2.3.4-cp311', 'missing', 'not in the index'],
      ['numpy-2.3.4-cp312', 'excluded', `${NOT_IN_CLOSURE} for Python 3.12`],
      ['numpy-2.3.4-cp313', 'missing', 'not in the index'],
      ['markupsafe-3.0.3-cp311', 'excluded', `${NOT_IN_CLOSURE} for Python 3.11`],
      ['markupsafe-3.0.3-cp312', 'missing', 'not in the index'],
      ['markupsafe-3.0.3-cp313', 'excluded', `${NOT_IN_CLOSURE} for Python 3.13`],
    ]);
  });

  it('leaves the matrix’s own packages as they were (no closure of theirs, their own releases)', () => {
    mergeGathered(gathered, [app]);
    expect(gathered.packages).toEqual([pkg('pyyaml', ['6.0.3']), pkg('numpy', ['2.3.4'])]);
    expect(planMatrix(gathered.packages, gathered.environment).map((c) => c.state)).toEqual(['missing', 'missing', 'missing', 'missing']);
  });
});
