import { describe, expect, it } from 'vitest';
import {
  compareLibraryVersions,
  parseLibraryConstraint,
  parseLibraryVersion,
  satisfiesLibraryConstraint,
} from '../../../../farm/src/recipes/libraries/library-version.ts';

const satisfies = (version: string, constraint: string) =>
  satisfiesLibraryConstraint(parseLibraryVersion(version)!, parseLibraryConstraint(constraint)!);

describe('library versions: dotted numbers, compared number by number', () => {
  it('reads dotted numbers of any length, and nothing else', () => {
    expect(parseLibraryVersion('3.13.1')).toEqual([3, 13, 1]);
    expect(parseLibraryVersion('74')).toEqual([74]);
    expect(parseLibraryVersion(' 1.2.3.4 ')).toEqual([1, 2, 3, 4]);
    for (const bad of ['', '3.', '.3', '3..1', '1.1.1w', '3.12.0rc1', 'v3.12', '3.12.*', '3-12'])
      expect(parseLibraryVersion(bad), bad).toBeUndefined();
  });

  it('compares numerically, not as text, and a missing part counts as 0', () => {
    expect(compareLibraryVersions([2, 10], [2, 9])).toBeGreaterThan(0);
    expect(compareLibraryVersions([0, 3, 28], [0, 3, 9])).toBeGreaterThan(0);
    expect(compareLibraryVersions([3, 12], [3, 12, 0])).toBe(0);
    expect(compareLibraryVersions([1, 1, 45], [1, 2])).toBeLessThan(0);
  });

  it.each([
    ['3.13.1', '>=3.10', true],
    ['3.9.0', '>=3.10', false],
    ['2.15.4', '>2.15.4', false],
    ['2.15.4', '<=2.15.4', true],
    ['2.15.4', '<2.15', false],
    ['3.12', '==3.12.0', true],
    ['3.12.1', '!=3.12.1', false],
    ['0.3.21', '>=0.3.28', false],
    ['3.13.1', '>=3.10, <4', true],
    ['4.0', '>=3.10,<4', false],
  ])('%s against %s: %s', (version, constraint, expected) => {
    expect(satisfies(version, constraint)).toBe(expected);
  });

  it('reads constraints as comma-separated clauses of >=, >, <=, <, == or != and a version; refuses anything else', () => {
    expect(parseLibraryConstraint('>=2.12,<3')).toEqual([
      { operator: '>=', version: [2, 12] },
      { operator: '<', version: [3] },
    ]);
    expect(parseLibraryConstraint(' == 1.1.45 ')).toEqual([{ operator: '==', version: [1, 1, 45] }]);
    for (const bad of ['', '3.10', '~>3.10', '^3.10', '~=3.10', '=3.10', '===3.10', '==3.*', '>=3.10,', '>=3.10 <4', '>= v3']) {
      expect(parseLibraryConstraint(bad), bad).toBeUndefined();
    }
  });
});
