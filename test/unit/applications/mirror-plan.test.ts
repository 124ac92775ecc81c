import { describe, expect, it } from 'vitest';
import type { LockedPackage, RequirementLine } from '../../../farm/src/applications/application-input.ts';
import type { ClosureDist } from '../../../farm/src/applications/closure.ts';
import { ClosureBuilder, pythonsOf } from '../../../farm/src/applications/closure.ts';
import type { MirrorEntry } from '../../../farm/src/applications/mirror-files.ts';
import { planMirrors } from '../../../farm/src/applications/mirror-files.ts';
import type { PublishedFile } from '../../../farm/src/index/publisher.ts';

const SHA = (c: string) => c.repeat(64);

function line(file: string, at: number, requirement: string, name: string, hashes: string[] = [], constraint = false): RequirementLine {
  return { file, line: at, requirement, name, hashes, constraint };
}

function mirrorEntry(name: string, version: string, filename: string, sha256: string | undefined): MirrorEntry {
  const dist: ClosureDist = {
    name,
    normalized: name.toLowerCase(),
    version,
    why: new Map([['3.13', ['requirements.txt:1']]]),
    hashes: [],
    lines: [],
  };
  return {
    kind: 'mirror',
    dist,
    pythons: ['3.13'],
    file: { filename, url: `https://upstream.example/files/${filename}`, yanked: false, ...(sha256 ? { sha256 } : {}) },
    reason: 'a pure wheel upstream',
  };
}

const served = (filename: string, sha256: string): PublishedFile => ({ filename, sha256, size: 100 });

describe('planMirrors', () => {
  const idna = mirrorEntry('idna', '3.10', 'idna-3.10-py3-none-any.whl', SHA('a'));

  it('missing: the index serves nothing of the project', () => {
    expect(planMirrors([idna], new Map())).toEqual([{ entry: idna, state: 'missing', reason: 'not in the index' }]);
  });

  it('missing: the index serves other files of the project, not this one', () => {
    const index = new Map([['idna', [served('idna-3.9-py3-none-any.whl', SHA('a')), served('idna-3.10-py2-none-any.whl', SHA('a'))]]]);
    expect(planMirrors([idna], index)).toEqual([{ entry: idna, state: 'missing', reason: 'not in the index' }]);
  });

  it('mirrored: the index serves the file with the upstream’s sha256', () => {
    const index = new Map([['idna', [served('idna-3.10-py3-none-any.whl', SHA('a'))]]]);
    expect(planMirrors([idna], index)).toEqual([{ entry: idna, state: 'mirrored', reason: 'in the index' }]);
  });

  it('mirrored: an upper-case upstream sha256 is the same bytes', () => {
    const upper = mirrorEntry('idna', '3.10', 'idna-3.10-py3-none-any.whl', SHA('A'));
    const index = new Map([['idna', [served('idna-3.10-py3-none-any.whl', SHA('a'))]]]);
    expect(planMirrors([upper], index)[0]).toMatchObject({ state: 'mirrored', reason: 'in the index' });
  });

  it('mirrored: a file of the same name with other bytes is the farm’s own build of it, not copied again', () => {
    const index = new Map([['idna', [served('idna-3.10-py3-none-any.whl', SHA('b'))]]]);
    expect(planMirrors([idna], index)).toEqual([{ entry: idna, state: 'mirrored', reason: "in the index (the farm's own build of it)" }]);
  });

  it('looks the project up by its normalized name, one answer per entry in order', () => {
    const markupsafe = mirrorEntry('MarkupSafe', '3.0.3', 'markupsafe-3.0.3-py3-none-any.whl', SHA('c'));
    const index = new Map([['markupsafe', [served('markupsafe-3.0.3-py3-none-any.whl', SHA('c'))]]]);
    expect(planMirrors([markupsafe, idna], index).map((p) => [p.entry.dist.name, p.state])).toEqual([
      ['MarkupSafe', 'mirrored'],
      ['idna', 'missing'],
    ]);
  });
});

describe('ClosureBuilder', () => {
  const flask = line('requirements.txt', 3, 'flask==3.1.2', 'flask', [SHA('a'), SHA('b')]);
  const flaskConstraint = line('constraints.txt', 1, 'flask<4', 'flask', [SHA('b'), SHA('c')], true);

  it('merges the same release from two Pythons into one distribution, with why per Python', () => {
    const builder = new ClosureBuilder();
    builder.add('3.12', { name: 'Flask', normalized: 'flask', version: '3.1.2', why: ['requirements.txt:3 flask==3.1.2'], lines: [flask] });
    builder.add('3.13', { name: 'Flask', normalized: 'flask', version: '3.1.2', why: ['app 1.0 requires flask>=3'], lines: [flask] });
    const closure = builder.build('requirements.txt', ['3.12', '3.13']);
    expect(closure).toEqual({
      application: 'requirements.txt',
      pythons: ['3.12', '3.13'],
      dists: [
        {
          name: 'Flask',
          normalized: 'flask',
          version: '3.1.2',
          why: new Map([
            ['3.12', ['requirements.txt:3 flask==3.1.2']],
            ['3.13', ['app 1.0 requires flask>=3']],
          ]),
          hashes: [SHA('a'), SHA('b')],
          lines: [flask],
        },
      ],
    });
  });

  it('keeps different versions per Python as separate distributions, sorted by name', () => {
    const builder = new ClosureBuilder();
    builder.add('3.12', { name: 'numpy', normalized: 'numpy', version: '2.2.6', why: ['requirements.txt:1 numpy'] });
    builder.add('3.12', { name: 'Click', normalized: 'click', version: '8.1.8', why: ['flask 3.1.2 requires click>=8.1.3'] });
    builder.add('3.13', { name: 'numpy', normalized: 'numpy', version: '2.3.4', why: ['requirements.txt:1 numpy'] });
    const closure = builder.build('requirements.txt', ['3.12', '3.13']);
    expect(closure.dists.map((d) => [d.normalized, d.version, [...d.why.keys()]])).toEqual([
      ['click', '8.1.8', ['3.12']],
      ['numpy', '2.2.6', ['3.12']],
      ['numpy', '2.3.4', ['3.13']],
    ]);
    expect(closure.dists.map((d) => pythonsOf(d, closure))).toEqual([['3.12'], ['3.12'], ['3.13']]);
  });

  it('collects the hashes of every line naming the distribution (constraints too), once each', () => {
    const builder = new ClosureBuilder();
    builder.add('3.13', { name: 'flask', normalized: 'flask', version: '3.1.2', why: [], lines: [flask, flaskConstraint] });
    const [dist] = builder.build('requirements.txt', ['3.13']).dists;
    expect(dist!.hashes).toEqual([SHA('a'), SHA('b'), SHA('c')]);
    expect(dist!.lines).toEqual([flask, flaskConstraint]);
  });

  it('allows any file when no line has a hash (a transitive dependency, or no --hash)', () => {
    const builder = new ClosureBuilder();
    builder.add('3.13', { name: 'click', normalized: 'click', version: '8.1.8', why: ['flask 3.1.2 requires click>=8.1.3'] });
    const [dist] = builder.build('requirements.txt', ['3.13']).dists;
    expect(dist).toMatchObject({ hashes: [], lines: [] });
    expect(dist).not.toHaveProperty('locked');
  });

  it('keeps a lock’s package entry on the distribution', () => {
    const locked: LockedPackage = {
      name: 'idna',
      normalized: 'idna',
      version: '3.10',
      wheels: [{ filename: 'idna-3.10-py3-none-any.whl', sha256: SHA('a') }],
      line: 20,
    };
    const builder = new ClosureBuilder();
    builder.add('3.12', { name: 'idna', normalized: 'idna', version: '3.10', why: ['pylock.toml:20'], locked });
    builder.add('3.13', { name: 'idna', normalized: 'idna', version: '3.10', why: ['pylock.toml:20'], locked });
    const closure = builder.build('pylock.toml', ['3.12', '3.13']);
    expect(closure.dists).toHaveLength(1);
    expect(closure.dists[0]!.locked).toBe(locked);
    expect(pythonsOf(closure.dists[0]!, closure)).toEqual(['3.12', '3.13']);
  });

  it('keeps the lock’s entry when a requirements line brought the same release first', () => {
    const locked: LockedPackage = {
      name: 'idna',
      normalized: 'idna',
      version: '3.10',
      wheels: [{ filename: 'idna-3.10-py3-none-any.whl', sha256: SHA('a') }],
      line: 20,
    };
    const builder = new ClosureBuilder();
    const idna = line('requirements.txt', 1, 'idna', 'idna');
    builder.add('3.13', { name: 'idna', normalized: 'idna', version: '3.10', why: ['requirements.txt:1 idna'], lines: [idna] });
    builder.add('3.13', { name: 'idna', normalized: 'idna', version: '3.10', why: ['pylock.toml:20'], locked });
    expect(builder.build('requirements.txt pylock.toml', ['3.13']).dists[0]!.locked).toEqual(locked);
  });
});

describe('pythonsOf', () => {
  it('gives the Pythons whose closure has the distribution, in the closure’s order, not the order they were added', () => {
    const builder = new ClosureBuilder();
    for (const python of ['3.14', '3.11', '3.13'])
      builder.add(python, { name: 'idna', normalized: 'idna', version: '3.10', why: ['requirements.txt:1 idna'] });
    const closure = builder.build('requirements.txt', ['3.11', '3.12', '3.13', '3.14']);
    expect(pythonsOf(closure.dists[0]!, closure)).toEqual(['3.11', '3.13', '3.14']);
  });

  it('leaves out Pythons the closure is not for', () => {
    const dist: ClosureDist = {
      name: 'idna',
      normalized: 'idna',
      version: '3.10',
      why: new Map([
        ['3.10', ['x']],
        ['3.13', ['y']],
      ]),
      hashes: [],
      lines: [],
    };
    expect(pythonsOf(dist, { pythons: ['3.12', '3.13'] })).toEqual(['3.13']);
  });
});
