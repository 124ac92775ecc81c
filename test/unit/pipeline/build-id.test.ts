// farm/src/wheels/build-id.ts (not covered by test/unit/wheels/; kept here because that folder is not ours to write).
import { describe, expect, it } from 'vitest';
import { formatBuildId, pythonTagFromVersion, pythonVersionFromTag } from '../../../farm/src/wheels/build-id.ts';

describe('formatBuildId', () => {
  it('is <normalized name>-<version>-<python>-<platform>', () => {
    expect(formatBuildId({ name: 'MarkupSafe', version: '3.0.3', python: 'cp313', platform: 'manylinux_2_31_x86_64' })).toBe(
      'markupsafe-3.0.3-cp313-manylinux_2_31_x86_64',
    );
  });

  it('normalizes runs of `-`, `_` and `.` in the name to one `-`', () => {
    expect(formatBuildId({ name: 'Zope__Interface', version: '7.0', python: 'cp311', platform: 'manylinux_2_31_x86_64' })).toBe(
      'zope-interface-7.0-cp311-manylinux_2_31_x86_64',
    );
    expect(formatBuildId({ name: 'ruamel.yaml.clib', version: '0.2.12', python: 'cp311', platform: 'manylinux_2_31_x86_64' })).toBe(
      'ruamel-yaml-clib-0.2.12-cp311-manylinux_2_31_x86_64',
    );
  });

  it('keeps PEP 440 characters of the version (!, +, .)', () => {
    expect(formatBuildId({ name: 'demo', version: '1!2.0rc1.post3+local.7', python: 'cp313', platform: 'manylinux_2_31_x86_64' })).toBe(
      'demo-1!2.0rc1.post3+local.7-cp313-manylinux_2_31_x86_64',
    );
  });

  it('replaces anything unsafe in a file name or label with `_`', () => {
    const id = formatBuildId({ name: 'demo', version: '1.0/../x y', python: 'cp313', platform: 'manylinux_2_31_x86_64' });
    expect(id).toBe('demo-1.0_.._x_y-cp313-manylinux_2_31_x86_64');
    expect(id).toMatch(/^[A-Za-z0-9._+!-]+$/);
    expect(id).not.toContain('/');
  });

  it('differs for cells that differ only in python or platform', () => {
    const cell = { name: 'demo', version: '1.0', python: 'cp313', platform: 'manylinux_2_31_x86_64' };
    const ids = new Set([
      formatBuildId(cell),
      formatBuildId({ ...cell, python: 'cp311' }),
      formatBuildId({ ...cell, platform: 'manylinux_2_28_x86_64' }),
    ]);
    expect(ids.size).toBe(3);
  });
});

describe('pythonTagFromVersion', () => {
  it.each([
    ['3.13', 'cp313'],
    ['3.9', 'cp39'],
    ['3.10', 'cp310'],
    ['2.7', 'cp27'],
    [' 3.12 ', 'cp312'],
  ])('%j -> %s', (version, tag) => {
    expect(pythonTagFromVersion(version)).toBe(tag);
  });

  it.each(['3', '3.13.5', 'cp313', '3.x', '', '13.1', '3.123', 'py3.13'])('rejects %j with a RangeError', (version) => {
    expect(() => pythonTagFromVersion(version)).toThrow(RangeError);
  });
});

describe('pythonVersionFromTag', () => {
  it.each([
    ['cp313', '3.13'],
    ['cp39', '3.9'],
    ['cp310', '3.10'],
    ['cp27', '2.7'],
  ])('%s -> %s', (tag, version) => {
    expect(pythonVersionFromTag(tag)).toBe(version);
  });

  it.each(['cp3', 'py313', 'cp3130', 'CP313', 'cp313t', '3.13', '', ' cp313'])('rejects %j with a RangeError', (tag) => {
    expect(() => pythonVersionFromTag(tag)).toThrow(RangeError);
  });

  it('round-trips with pythonTagFromVersion', () => {
    for (const version of ['2.7', '3.8', '3.9', '3.10', '3.11', '3.12', '3.13', '3.14']) {
      expect(pythonVersionFromTag(pythonTagFromVersion(version))).toBe(version);
    }
  });
});
