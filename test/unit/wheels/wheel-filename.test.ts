import { describe, expect, it } from 'vitest';
import { WheelfarmError } from '../../../farm/src/errors.ts';
import { formatWheelFilename, parseSdistFilename, parseWheelFilename } from '../../../farm/src/wheels/wheel-filename.ts';

function errorOf(action: () => unknown): WheelfarmError {
  try {
    action();
  } catch (error) {
    expect(error).toBeInstanceOf(WheelfarmError);
    return error as WheelfarmError;
  }
  throw new Error('expected an error');
}

describe('parseWheelFilename', () => {
  it('splits a plain wheel filename', () => {
    expect(parseWheelFilename('markupsafe-3.0.3-cp313-cp313-manylinux_2_31_x86_64.whl')).toEqual({
      name: 'markupsafe',
      version: '3.0.3',
      pythonTags: ['cp313'],
      abiTags: ['cp313'],
      platformTags: ['manylinux_2_31_x86_64'],
    });
  });

  it('reads a build tag into its number and suffix', () => {
    expect(parseWheelFilename('foo-1.0-1-py3-none-any.whl').buildTag).toEqual({ number: 1, suffix: '' });
    expect(parseWheelFilename('foo-1.0-12abc-py3-none-any.whl').buildTag).toEqual({ number: 12, suffix: 'abc' });
    expect(parseWheelFilename('foo-1.0-py3-none-any.whl')).not.toHaveProperty('buildTag');
  });

  it('expands compressed tag sets', () => {
    const parts = parseWheelFilename('six-1.16.0-py2.py3-none-manylinux_2_17_x86_64.manylinux2014_x86_64.whl');
    expect(parts.pythonTags).toEqual(['py2', 'py3']);
    expect(parts.abiTags).toEqual(['none']);
    expect(parts.platformTags).toEqual(['manylinux_2_17_x86_64', 'manylinux2014_x86_64']);
  });

  it('keeps the name as spelled and accepts epochs and local versions', () => {
    const parts = parseWheelFilename('Foo_Bar-2!1.0+local.7-cp311-abi3-linux_x86_64.whl');
    expect(parts.name).toBe('Foo_Bar');
    expect(parts.version).toBe('2!1.0+local.7');
  });

  it.each([
    ['foo-1.0-py3-none-any.zip', 'does not end with `.whl`'],
    ['foo-py3-none-any.whl', 'found 4'],
    ['foo-1.0-1-2-py3-none-any.whl', 'found 7'],
    ['foo-1.0-abc-py3-none-any.whl', 'build tag `abc` must start with a digit'],
    ['foo-not!a!version-py3-none-any.whl', 'not a PEP 440 version'],
    ['foo-1.0-py3..py2-none-any.whl', 'python tag'],
    ['foo-1.0-py3-none-.whl', 'platform tag'],
    ['fo o-1.0-py3-none-any.whl', 'name'],
    ['dir/foo-1.0-py3-none-any.whl', 'name'],
  ])('rejects %s', (filename, reason) => {
    const error = errorOf(() => parseWheelFilename(filename));
    expect(error.code).toBe('bad-wheel-filename');
    expect(error.message).toContain(filename);
    expect(error.message).toContain(reason);
    expect(error.hint).toBeTruthy();
  });
});

describe('formatWheelFilename', () => {
  it.each([
    'markupsafe-3.0.3-cp313-cp313-manylinux_2_17_x86_64.manylinux2014_x86_64.whl',
    'foo-1.0-12abc-py2.py3-none-any.whl',
    'Foo_Bar-2!1.0+local.7-cp311-abi3-linux_x86_64.whl',
  ])('round-trips %s', (filename) => {
    expect(formatWheelFilename(parseWheelFilename(filename))).toBe(filename);
  });

  it('turns dashes in the name into underscores', () => {
    const filename = formatWheelFilename({
      name: 'zope-interface',
      version: '7.0',
      buildTag: { number: 2, suffix: '' },
      pythonTags: ['cp313'],
      abiTags: ['cp313'],
      platformTags: ['manylinux_2_28_x86_64'],
    });
    expect(filename).toBe('zope_interface-7.0-2-cp313-cp313-manylinux_2_28_x86_64.whl');
  });

  it('refuses parts that would not parse back', () => {
    const error = errorOf(() =>
      formatWheelFilename({ name: 'foo', version: '1.0', pythonTags: [], abiTags: ['none'], platformTags: ['any'] }),
    );
    expect(error.code).toBe('bad-wheel-filename');
  });
});

describe('parseSdistFilename', () => {
  it('splits PEP 625 names', () => {
    expect(parseSdistFilename('markupsafe-3.0.3.tar.gz')).toEqual({ name: 'markupsafe', version: '3.0.3' });
    expect(parseSdistFilename('zope_interface-7.0.zip')).toEqual({ name: 'zope_interface', version: '7.0' });
  });

  it('finds the version after a legacy dashed name without the project name', () => {
    expect(parseSdistFilename('python-dateutil-2.8.2.tar.gz')).toEqual({ name: 'python-dateutil', version: '2.8.2' });
  });

  it('uses the normalized project name to split legacy names', () => {
    expect(parseSdistFilename('Python-Dateutil-2.8.2.tar.gz', 'python_dateutil')).toEqual({
      name: 'Python-Dateutil',
      version: '2.8.2',
    });
    // `1-2` is a valid version (1.post2), so only the project name tells where the name ends.
    expect(parseSdistFilename('pkg-1-2.tar.gz')).toEqual({ name: 'pkg', version: '1-2' });
    expect(parseSdistFilename('pkg-1-2.tar.gz', 'pkg-1')).toEqual({ name: 'pkg-1', version: '2' });
  });

  it('keeps a post-release dash in the version when the project name says where the name ends', () => {
    expect(parseSdistFilename('foo-1.0-1.tar.gz', 'foo')).toEqual({ name: 'foo', version: '1.0-1' });
  });

  it.each([
    ['foo-1.0.tar.bz2', undefined, 'does not end with'],
    ['foo.tar.gz', undefined, 'no `-`'],
    ['foo-bar.tar.gz', undefined, 'no `-`'],
    ['bar-1.0.tar.gz', 'foo', 'project name `foo`'],
  ])('rejects %s (project %s)', (filename, project, reason) => {
    const error = errorOf(() => parseSdistFilename(filename, project));
    expect(error.code).toBe('bad-sdist-filename');
    expect(error.message).toContain(filename);
    expect(error.message).toContain(reason);
  });
});
