import { describe, expect, it } from 'vitest';
import { dependenciesOfBuilt } from '../../../farm/src/cli/commands/package-dependencies.ts';
import type { ScheduledResult } from '../../../farm/src/matrix/cell-scheduler.ts';
import type { GatheredMatrix } from '../../../farm/src/matrix/gather-parts.ts';
import type { PlannedCell } from '../../../farm/src/matrix/plan-matrix.ts';
import type { CellOutcome } from '../../../farm/src/pipeline/events.ts';
import type { ResolvedSource } from '../../../farm/src/pipeline/resolve-source.ts';
import type { Recipe } from '../../../farm/src/recipes/recipe.ts';
import { defaultRecipe } from '../../../farm/src/recipes/recipe.ts';

const PLATFORM = 'manylinux_2_28_x86_64';
const SHA = (c: string) => c.repeat(64);

/** cryptography 46.0.3's Requires-Dist, as its wheel's METADATA has it. */
const CRYPTOGRAPHY_REQUIRES = [
  "cffi>=1.14 ; python_full_version == '3.8.*' and platform_python_implementation != 'PyPy'",
  "cffi>=2.0.0 ; python_full_version >= '3.9' and platform_python_implementation != 'PyPy'",
  "typing-extensions>=4.13.2 ; python_full_version < '3.11'",
  "bcrypt>=3.1.5 ; extra == 'ssh'",
  "nox[uv]>=2024.4.15 ; extra == 'nox'",
  "cryptography-vectors==46.0.3 ; extra == 'test'",
  "pytest>=7.4.0 ; extra == 'test'",
  "sphinx>=5.3.0 ; extra == 'docs'",
  "click>=8.0.1 ; extra == 'pep8test'",
];

const SOURCE: ResolvedSource = {
  name: 'cryptography',
  version: '46.0.3',
  filename: 'cryptography-46.0.3.tar.gz',
  origin: { kind: 'download', url: 'https://upstream.example/cryptography-46.0.3.tar.gz', sha256: SHA('a') },
  from: 'upstream',
};

function gathered(recipe: Recipe = defaultRecipe('cryptography'), releases: ResolvedSource[] = [SOURCE]): GatheredMatrix {
  return {
    packages: [{ recipe, releases, recipeHash: 'r1', image: 'wheelfarm/build:1', indexFiles: [] }],
    problems: [],
    environment: { pythons: [], platform: PLATFORM, histories: new Map(), now: new Date(0), retry: { afterSeconds: 1, maxSeconds: 1 } },
    prepared: {} as GatheredMatrix['prepared'],
    skipped: new Map(),
  };
}

const buildIdOf = (python: string) => `cryptography-46.0.3-${python}-${PLATFORM}`;

function cell(python: string): PlannedCell {
  return {
    cell: { name: 'cryptography', version: '46.0.3', python, platform: PLATFORM },
    buildId: buildIdOf(python),
    state: 'missing',
    source: SOURCE,
    newRelease: true,
    expectedSeconds: 60,
  };
}

function result(python: string, outcome: CellOutcome, requiresDist?: string[]): ScheduledResult {
  return { buildId: buildIdOf(python), outcome, seconds: 1, host: 'local', ...(requiresDist ? { requiresDist } : {}) };
}

const CHOSEN = [cell('cp312'), cell('cp313')];
const run = (...results: ScheduledResult[]) => ({ results, lostHosts: [] });
const requirementsOf = (wanted: ReturnType<typeof dependenciesOfBuilt>) =>
  wanted?.inputs.flatMap((i) => (i.kind === 'requirements' ? i.lines.map((l) => l.requirement) : []));

describe('dependenciesOfBuilt', () => {
  it('brings nothing when no cell ended well', () => {
    expect(dependenciesOfBuilt(gathered(), CHOSEN, run(result('cp312', 'failed'), result('cp313', 'failed')))).toBeUndefined();
  });

  it('brings nothing when the gathered matrix has no package or no release', () => {
    const ok = run(result('cp313', 'published', ['cffi>=2.0.0']));
    expect(dependenciesOfBuilt({ ...gathered(), packages: [] }, CHOSEN, ok)).toBeUndefined();
    expect(dependenciesOfBuilt(gathered(defaultRecipe('cryptography'), []), CHOSEN, ok)).toBeUndefined();
  });

  it('brings nothing, and runs no resolver, when the built wheels require nothing', () => {
    expect(
      dependenciesOfBuilt(gathered(), CHOSEN, run(result('cp312', 'published', []), result('cp313', 'unchanged', []))),
    ).toBeUndefined();
  });

  it('brings the built wheels’ Requires-Dist as an application of its own, without the extras’ requirements', () => {
    const wanted = dependenciesOfBuilt(
      gathered(),
      CHOSEN,
      run(result('cp312', 'published', CRYPTOGRAPHY_REQUIRES), result('cp313', 'published', CRYPTOGRAPHY_REQUIRES)),
    );
    const file = 'cryptography 46.0.3 (Requires-Dist)';
    expect(wanted).toEqual({
      inputs: [
        {
          kind: 'requirements',
          file,
          lines: [
            { file, line: 1, requirement: CRYPTOGRAPHY_REQUIRES[0], name: 'cffi', hashes: [], constraint: false },
            { file, line: 2, requirement: CRYPTOGRAPHY_REQUIRES[1], name: 'cffi', hashes: [], constraint: false },
            { file, line: 3, requirement: CRYPTOGRAPHY_REQUIRES[2], name: 'typing-extensions', hashes: [], constraint: false },
          ],
        },
      ],
      application: 'cryptography-46.0.3-dependencies',
      pythons: ['3.12', '3.13'],
    });
  });

  it('drops an extra’s requirement however its marker is spaced or combined', () => {
    const requires = ['idna>=2.5', 'pytest; extra=="test"', 'pytest-cov ; python_version < "3.12" and extra == "test"', 'Six'];
    const wanted = dependenciesOfBuilt(gathered(), CHOSEN, run(result('cp313', 'published', requires)));
    expect(requirementsOf(wanted)).toEqual(['idna>=2.5', 'Six']);
    expect(wanted!.inputs[0]!.kind === 'requirements' && wanted!.inputs[0]!.lines.map((l) => l.name)).toEqual(['idna', 'six']);
  });

  it('joins the Requires-Dist of every built cell, each requirement once', () => {
    const wanted = dependenciesOfBuilt(
      gathered(),
      CHOSEN,
      run(result('cp312', 'published', ['cffi>=2.0.0', 'typing-extensions>=4.13.2']), result('cp313', 'published', ['cffi>=2.0.0'])),
    );
    expect(requirementsOf(wanted)).toEqual(['cffi>=2.0.0', 'typing-extensions>=4.13.2']);
  });

  it('resolves the release itself (name==version) when a cell was already in the index (its wheel not read)', () => {
    const wanted = dependenciesOfBuilt(gathered(), CHOSEN, run(result('cp312', 'published', ['cffi>=2.0.0']), result('cp313', 'skipped')));
    expect(requirementsOf(wanted)).toEqual(['cryptography==46.0.3']);
    expect(wanted!.pythons).toEqual(['3.12', '3.13']);
    expect(wanted!.inputs[0]).toMatchObject({ lines: [{ line: 1, name: 'cryptography', requirement: 'cryptography==46.0.3' }] });
  });

  it('brings only the known Requires-Dist of a release from a recipe’s own source (not on the upstream)', () => {
    const recipe: Recipe = {
      ...defaultRecipe('cryptography'),
      file: '/recipes/cryptography.yaml',
      source: { kind: 'url', url: 'https://files.example/cryptography-46.0.3.tar.gz', sha256: SHA('b') },
    };
    const wanted = dependenciesOfBuilt(
      gathered(recipe),
      CHOSEN,
      run(result('cp312', 'published', ['cffi>=2.0.0']), result('cp313', 'skipped')),
    );
    expect(requirementsOf(wanted)).toEqual(['cffi>=2.0.0']);
  });

  it('brings nothing for a release from a recipe’s own source whose every cell was already in the index', () => {
    const recipe: Recipe = {
      ...defaultRecipe('cryptography'),
      source: { kind: 'git', url: 'https://git.example/cryptography', commit: '0'.repeat(40), version: '46.0.3' },
    };
    expect(dependenciesOfBuilt(gathered(recipe), CHOSEN, run(result('cp312', 'skipped'), result('cp313', 'skipped')))).toBeUndefined();
  });

  it('is for the Pythons of the cells that ended well only', () => {
    const wanted = dependenciesOfBuilt(gathered(), CHOSEN, run(result('cp312', 'failed'), result('cp313', 'published', ['cffi>=2.0.0'])));
    expect(wanted!.pythons).toEqual(['3.13']);
  });

  it('takes no notice of results of cells it did not choose', () => {
    const stray = { ...result('cp311', 'published', ['numpy>=2']), buildId: buildIdOf('cp311') };
    expect(dependenciesOfBuilt(gathered(), CHOSEN, run(stray))).toBeUndefined();
    const wanted = dependenciesOfBuilt(gathered(), CHOSEN, run(stray, result('cp313', 'published', ['cffi>=2.0.0'])));
    expect(requirementsOf(wanted)).toEqual(['cffi>=2.0.0']);
    expect(wanted!.pythons).toEqual(['3.13']);
  });
});
