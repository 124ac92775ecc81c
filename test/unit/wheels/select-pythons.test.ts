import { describe, expect, it } from 'vitest';
import { UserInputError } from '../../../farm/src/errors.ts';
import { selectPythons } from '../../../farm/src/wheels/select-pythons.ts';

describe('selectPythons', () => {
  it('keeps everything without requires-python', () => {
    expect(selectPythons({ requested: ['3.11', '3.13'] })).toEqual({ selected: ['3.11', '3.13'], skipped: [] });
    expect(selectPythons({ requested: ['3.11'], requiresPython: '  ' })).toEqual({ selected: ['3.11'], skipped: [] });
  });

  it('skips Pythons below the minimum and says why', () => {
    expect(selectPythons({ requested: ['3.11', '3.12', '3.13'], requiresPython: '>=3.12' })).toEqual({
      selected: ['3.12', '3.13'],
      skipped: [{ python: '3.11', reason: 'requires-python >=3.12' }],
    });
  });

  it('handles upper bounds, exclusions and compatible-release clauses', () => {
    const requested = ['3.9', '3.10', '3.11', '3.12', '3.13'];
    expect(selectPythons({ requested, requiresPython: '>=3.10, <3.13' }).selected).toEqual(['3.10', '3.11', '3.12']);
    expect(selectPythons({ requested, requiresPython: '!=3.11.*,>=3.9' }).selected).toEqual(['3.9', '3.10', '3.12', '3.13']);
    expect(selectPythons({ requested, requiresPython: '~=3.11' }).selected).toEqual(['3.11', '3.12', '3.13']);
  });

  it('compares versions numerically (3.10 is newer than 3.9)', () => {
    expect(selectPythons({ requested: ['3.9', '3.10'], requiresPython: '>=3.10' }).selected).toEqual(['3.10']);
    expect(selectPythons({ requested: ['3.9', '3.10'], requiresPython: '<3.10' }).selected).toEqual(['3.9']);
  });

  it('admits a minor version when some patch release satisfies a patch-level minimum', () => {
    expect(selectPythons({ requested: ['3.8', '3.9'], requiresPython: '>=3.8.1' }).selected).toEqual(['3.8', '3.9']);
    // pip on Python 3.9.1 or later installs a `>3.9` project too.
    expect(selectPythons({ requested: ['3.9'], requiresPython: '>3.9' }).selected).toEqual(['3.9']);
  });

  it('names an invalid specifier', () => {
    expect(() => selectPythons({ requested: ['3.12'], requiresPython: '>=3.9 <4' })).toThrow(UserInputError);
    expect(() => selectPythons({ requested: ['3.12'], requiresPython: '3.9+' })).toThrow(/`3\.9\+`/);
  });

  it('rejects requested versions that are not major.minor', () => {
    expect(() => selectPythons({ requested: ['cp313'] })).toThrow(UserInputError);
  });

  it('drops duplicate requests', () => {
    expect(selectPythons({ requested: ['3.12', '3.12'] }).selected).toEqual(['3.12']);
  });
});
