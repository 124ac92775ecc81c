import { describe, expect, it } from 'vitest';
import type { ClosureEntry } from '../../../farm/src/applications/classify-closure.ts';
import type { ClosureDist } from '../../../farm/src/applications/closure.ts';
import type { PlannedMirror } from '../../../farm/src/applications/mirror-files.ts';
import { applicationPlanJson, applicationPlanText, applicationStates } from '../../../farm/src/cli/application-plan.ts';
import type { GatheredApplication } from '../../../farm/src/matrix/gather-application.ts';
import type { CellStateName, PlannedCell } from '../../../farm/src/matrix/plan-matrix.ts';
import type { ResolvedSource } from '../../../farm/src/pipeline/resolve-source.ts';
import { defaultRecipe } from '../../../farm/src/recipes/recipe.ts';

const PLATFORM = 'manylinux_2_31_x86_64';
const SHA = (c: string) => c.repeat(64);
const PYTHONS = ['3.12', '3.13'];

function dist(name: string, version: string, pythons = PYTHONS): ClosureDist {
  return {
    name,
    normalized: name.toLowerCase(),
    version,
    why: new Map(pythons.map((p) => [p, ['requirements.txt:1']])),
    hashes: [],
    lines: [],
  };
}

function source(name: string, version: string): ResolvedSource {
  return {
    name,
    version,
    filename: `${name.toLowerCase()}-${version}.tar.gz`,
    origin: { kind: 'download', url: `https://upstream.example/${name}-${version}.tar.gz`, sha256: SHA('a') },
    from: 'upstream',
  };
}

function build(name: string, version: string, pythons = PYTHONS): Extract<ClosureEntry, { kind: 'build' }> {
  return {
    kind: 'build',
    dist: dist(name, version, pythons),
    pythons,
    source: source(name, version),
    recipe: defaultRecipe(name),
    reason: 'no pure wheel upstream: native code, or only an sdist',
  };
}

function mirror(name: string, version: string): Extract<ClosureEntry, { kind: 'mirror' }> {
  const filename = `${name}-${version}-py3-none-any.whl`;
  return {
    kind: 'mirror',
    dist: dist(name, version),
    pythons: PYTHONS,
    file: { filename, url: `https://upstream.example/${filename}`, sha256: SHA('b'), yanked: false },
    reason: 'a pure wheel upstream',
  };
}

/** A cell of the plan: `PyYAML 6.0.3 cp313 built`. */
function cell(name: string, version: string, python: string, state: CellStateName): PlannedCell {
  const c = { name, version, python, platform: PLATFORM };
  return {
    cell: c,
    buildId: `${name}-${version}-${python}-${PLATFORM}`,
    state,
    source: source(name, version),
    newRelease: false,
    expectedSeconds: 60,
  };
}

function app(entries: ClosureEntry[], mirrors: PlannedMirror[] = []): GatheredApplication {
  return {
    packages: [],
    problems: [],
    environment: { pythons: [], platform: PLATFORM, histories: new Map(), now: new Date(0), retry: { afterSeconds: 1, maxSeconds: 1 } },
    prepared: {} as GatheredApplication['prepared'],
    skipped: new Map(),
    closure: { application: 'web', pythons: PYTHONS, dists: entries.map((e) => e.dist) },
    entries,
    mirrors,
    record: '/home/closures/web.json',
  };
}

const stateOf = (entry: ClosureEntry, cells: PlannedCell[], mirrors: PlannedMirror[] = []) =>
  applicationStates(app([entry], mirrors), cells)[0]!.state;

describe('applicationStates: a distribution that is built', () => {
  const pyyaml = build('PyYAML', '6.0.3');
  const cells = (cp312: CellStateName, cp313: CellStateName) => [
    cell('PyYAML', '6.0.3', 'cp312', cp312),
    cell('PyYAML', '6.0.3', 'cp313', cp313),
  ];

  it('built when every cell of its Pythons is built', () => {
    expect(applicationStates(app([pyyaml]), cells('built', 'built'))).toEqual([
      {
        name: 'PyYAML',
        version: '6.0.3',
        kind: 'build',
        state: 'built',
        pythons: PYTHONS,
        reason: 'no pure wheel upstream: native code, or only an sdist',
      },
    ]);
  });

  it.each([
    ['stale', 'built', 'stale'],
    ['missing', 'stale', 'missing'],
    ['stale', 'missing', 'missing'],
    ['failed', 'missing', 'failed'],
    ['missing', 'failed', 'failed'],
    ['failed', 'stale', 'failed'],
  ] as [CellStateName, CellStateName, string][])('the worst of its cells: %s and %s -> %s', (cp312, cp313, expected) => {
    expect(stateOf(pyyaml, cells(cp312, cp313))).toBe(expected);
  });

  it('missing when the plan has no cell of it', () => {
    expect(stateOf(pyyaml, [cell('PyYAML', '6.0.2', 'cp313', 'built')])).toBe('missing');
  });

  it('counts only its own cells: not another release’s, another project’s, or a Python that does not need it', () => {
    const only313 = build('PyYAML', '6.0.3', ['3.13']);
    const others = [
      cell('PyYAML', '6.0.3', 'cp313', 'built'),
      cell('PyYAML', '6.0.3', 'cp312', 'failed'),
      cell('PyYAML', '6.0.2', 'cp313', 'failed'),
      cell('markupsafe', '6.0.3', 'cp313', 'missing'),
    ];
    expect(stateOf(only313, others)).toBe('built');
  });

  it('finds its cells under any spelling of the name and version', () => {
    const entry = build('PyYAML', '6.0');
    expect(stateOf(entry, [cell('PyYAML', '6.0.0', 'cp312', 'failed'), cell('pyyaml', '6.0', 'cp313', 'built')])).toBe('failed');
  });

  it('is not built when the plan excludes every cell of it', () => {
    expect(stateOf(pyyaml, cells('excluded', 'excluded'))).not.toBe('built');
  });
});

describe('applicationStates: a distribution that is mirrored', () => {
  const idna = mirror('idna', '3.10');

  it('mirrored when the plan of mirrors has it in the index', () => {
    const mirrors: PlannedMirror[] = [{ entry: idna, state: 'mirrored', reason: 'in the index' }];
    expect(applicationStates(app([idna], mirrors), [])).toEqual([
      { name: 'idna', version: '3.10', kind: 'mirror', state: 'mirrored', pythons: PYTHONS, reason: 'a pure wheel upstream' },
    ]);
  });

  it('missing when the plan of mirrors says so, or does not have it', () => {
    expect(stateOf(idna, [], [{ entry: idna, state: 'missing', reason: 'not in the index' }])).toBe('missing');
    const other = mirror('idna', '3.9');
    expect(stateOf(idna, [], [{ entry: other, state: 'mirrored', reason: 'in the index' }])).toBe('missing');
  });

  it('takes no notice of cells', () => {
    expect(stateOf(idna, [cell('idna', '3.10', 'cp313', 'failed')], [{ entry: idna, state: 'mirrored', reason: 'in the index' }])).toBe(
      'mirrored',
    );
  });
});

describe('applicationPlanJson and applicationPlanText', () => {
  const idna = mirror('idna', '3.10');
  const pyyaml = build('PyYAML', '6.0.3');
  const markupsafe = build('MarkupSafe', '3.0.3');
  const gathered = app([idna, pyyaml, markupsafe], [{ entry: idna, state: 'mirrored', reason: 'in the index' }]);
  const cells = [
    cell('PyYAML', '6.0.3', 'cp312', 'built'),
    cell('PyYAML', '6.0.3', 'cp313', 'built'),
    cell('MarkupSafe', '3.0.3', 'cp312', 'failed'),
    cell('MarkupSafe', '3.0.3', 'cp313', 'built'),
  ];

  it('gives each application’s name, Pythons, record and distributions', () => {
    const [json] = applicationPlanJson([gathered], cells);
    expect(json).toMatchObject({ name: 'web', pythons: PYTHONS, record: '/home/closures/web.json' });
    expect(json!.dists.map((d) => [d.name, d.state])).toEqual([
      ['idna', 'mirrored'],
      ['PyYAML', 'built'],
      ['MarkupSafe', 'failed'],
    ]);
  });

  it('heads each application with its counts, then a line per distribution', () => {
    const text = applicationPlanText([gathered], cells);
    expect(text[0]).toBe('');
    expect(text[1]).toBe('application web (Python 3.12, 3.13): 3 distribution(s): 1 built, 1 mirrored, 1 failed');
    expect(text.slice(2).map((l) => l.split(/\s{2,}/).slice(1, 4))).toEqual([
      ['idna 3.10', 'mirror', 'mirrored'],
      ['PyYAML 6.0.3', 'build', 'built'],
      ['MarkupSafe 3.0.3', 'build', 'failed'],
    ]);
  });
});
