import { describe, expect, it } from 'vitest';
import { IntegrityError, UserInputError, WheelfarmError } from '../../../farm/src/errors.ts';
import { selectSdist, versionFromArchiveStem } from '../../../farm/src/upstream/select-sdist.ts';
import type { UpstreamFile } from '../../../farm/src/upstream/simple-api-client.ts';

function hashOf(filename: string): string {
  let hex = '';
  for (const char of filename) hex += char.charCodeAt(0).toString(16);
  return hex.padEnd(64, '0').slice(0, 64);
}

function file(filename: string, extra: Partial<UpstreamFile> = {}): UpstreamFile {
  return { filename, url: `http://127.0.0.1:1/files/${filename}`, sha256: hashOf(filename), yanked: false, ...extra };
}

function thrown(run: () => unknown): WheelfarmError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(WheelfarmError);
    return error as WheelfarmError;
  }
  throw new Error('expected a throw');
}

describe('selectSdist without a version', () => {
  it('picks the newest final release, skipping pre-releases and yanked files', () => {
    const files = [
      file('demo-1.0.tar.gz'),
      file('demo-1.10.tar.gz'),
      file('demo-1.9.tar.gz'),
      file('demo-2.0rc1.tar.gz'),
      file('demo-2.0.dev3.tar.gz'),
      file('demo-1.11.tar.gz', { yanked: 'broken' }),
      file('demo-1.12.tar.gz', { yanked: true }),
      file('demo-3.0-py3-none-any.whl'),
    ];
    const selected = selectSdist({ project: 'demo', files });
    expect(selected).toEqual({
      name: 'demo',
      version: '1.10',
      filename: 'demo-1.10.tar.gz',
      url: 'http://127.0.0.1:1/files/demo-1.10.tar.gz',
      sha256: hashOf('demo-1.10.tar.gz'),
    });
  });

  it('falls back to the highest pre-release when there are only pre-releases', () => {
    const files = [file('demo-2.0a1.tar.gz'), file('demo-2.0rc1.tar.gz'), file('demo-2.0b2.tar.gz'), file('demo-2.0.dev9.tar.gz')];
    expect(selectSdist({ project: 'demo', files }).version).toBe('2.0rc1');
  });

  it('orders epochs and post releases by PEP 440', () => {
    const files = [file('demo-2023.1.tar.gz'), file('demo-1!0.5.tar.gz'), file('demo-1!0.4.post2.tar.gz')];
    expect(selectSdist({ project: 'demo', files }).filename).toBe('demo-1!0.5.tar.gz');
    const posts = [file('demo-1.0.tar.gz'), file('demo-1.0.post1.tar.gz'), file('demo-1.0rc2.tar.gz')];
    expect(selectSdist({ project: 'demo', files: posts }).version).toBe('1.0.post1');
  });

  it('skips a newer version that has only wheels', () => {
    const files = [file('demo-1.0.tar.gz'), file('demo-2.0-cp313-cp313-manylinux_2_31_x86_64.whl')];
    expect(selectSdist({ project: 'demo', files }).version).toBe('1.0');
  });

  it('matches names spelled differently and legacy names with dashes', () => {
    const files = [
      file('Zope.Interface-5.0.tar.gz'),
      file('zope_interface-6.1.tar.gz', { requiresPython: '>=3.7' }),
      file('zope-interface-6.0.zip'),
      file('zope.interface.extra-9.0.tar.gz'),
    ];
    expect(selectSdist({ project: 'zope.interface', files })).toMatchObject({
      name: 'zope.interface',
      version: '6.1',
      filename: 'zope_interface-6.1.tar.gz',
      requiresPython: '>=3.7',
    });
    expect(versionFromArchiveStem('python-dateutil', 'python-dateutil-2.8.2')).toBe('2.8.2');
    expect(versionFromArchiveStem('python-dateutil', 'python_dateutil-2.9.0.post0')).toBe('2.9.0.post0');
    expect(versionFromArchiveStem('demo', 'demo-1.0-1')).toBe('1.0.post1');
    expect(versionFromArchiveStem('demo', 'other-1.0')).toBeUndefined();
  });

  it('prefers .tar.gz over .zip of the same version', () => {
    const files = [file('demo-1.0.zip'), file('demo-1.0.tar.gz')];
    expect(selectSdist({ project: 'demo', files }).filename).toBe('demo-1.0.tar.gz');
    expect(selectSdist({ project: 'demo', files: [file('demo-1.0.zip')] }).filename).toBe('demo-1.0.zip');
  });

  it('says no-sdist when the project publishes only wheels', () => {
    const error = thrown(() => selectSdist({ project: 'demo', files: [file('demo-1.0-py3-none-any.whl')] }));
    expect(error).toBeInstanceOf(UserInputError);
    expect(error.code).toBe('no-sdist');
  });

  it('says only-yanked when every sdist is yanked', () => {
    const error = thrown(() => selectSdist({ project: 'demo', files: [file('demo-1.0.tar.gz', { yanked: true })] }));
    expect(error.code).toBe('only-yanked');
    expect(error.hint).toContain('1.0');
  });
});

describe('selectSdist with a version', () => {
  const files = [
    file('demo-0.9.tar.gz'),
    file('demo-1.0.0.tar.gz'),
    file('demo-1.1.tar.gz', { yanked: 'bad release' }),
    file('demo-1.2rc1.tar.gz'),
    file('demo-1.2.tar.gz'),
    file('demo-1.3.post1.tar.gz'),
    file('demo-1.4-py3-none-any.whl'),
    file('demo-1!0.1.tar.gz'),
  ];

  it('matches exactly by PEP 440 equality (`1.0` is `1.0.0`)', () => {
    expect(selectSdist({ project: 'demo', files, version: '1.0' }).filename).toBe('demo-1.0.0.tar.gz');
    expect(selectSdist({ project: 'demo', files, version: '1.0.0' }).version).toBe('1.0.0');
    expect(selectSdist({ project: 'demo', files, version: '1.2RC1' }).filename).toBe('demo-1.2rc1.tar.gz');
    expect(selectSdist({ project: 'demo', files, version: '1.3-1' }).filename).toBe('demo-1.3.post1.tar.gz');
    expect(selectSdist({ project: 'demo', files, version: '1!0.1' }).filename).toBe('demo-1!0.1.tar.gz');
  });

  it('allows a yanked version when pinned exactly', () => {
    expect(selectSdist({ project: 'demo', files, version: '1.1' }).filename).toBe('demo-1.1.tar.gz');
  });

  it('prefers a non-yanked sdist of the pinned version over a yanked one', () => {
    const mixed = [file('demo-2.0.tar.gz', { yanked: 'corrupt upload' }), file('demo-2.0.zip')];
    expect(selectSdist({ project: 'demo', files: mixed, version: '2.0' }).filename).toBe('demo-2.0.zip');
    expect(selectSdist({ project: 'demo', files: mixed }).filename).toBe('demo-2.0.zip');
  });

  it('does not confuse a version with its post release or another epoch', () => {
    const error = thrown(() => selectSdist({ project: 'demo', files, version: '1.3' }));
    expect(error.code).toBe('version-not-found');
    expect(thrown(() => selectSdist({ project: 'demo', files, version: '0.1' })).code).toBe('version-not-found');
  });

  it('lists the 5 newest versions when the version does not exist', () => {
    const error = thrown(() => selectSdist({ project: 'demo', files, version: '7.0' }));
    expect(error).toBeInstanceOf(UserInputError);
    expect(error.code).toBe('version-not-found');
    expect(error.message).toBe(
      'version `7.0` of package `demo` was not found on the upstream index; newest available: 1!0.1, 1.4, 1.3.post1, 1.2, 1.2rc1',
    );
  });

  it('says no-sdist when the version exists only as wheels', () => {
    const error = thrown(() => selectSdist({ project: 'demo', files, version: '1.4' }));
    expect(error).toBeInstanceOf(UserInputError);
    expect(error.code).toBe('no-sdist');
    expect(error.message).toContain('demo-1.4-py3-none-any.whl');
  });

  it('says bad-version for a version that is not PEP 440', () => {
    const error = thrown(() => selectSdist({ project: 'demo', files, version: 'latest!' }));
    expect(error).toBeInstanceOf(UserInputError);
    expect(error.code).toBe('bad-version');
    expect(error.message).toContain('latest!');
  });
});

describe('selectSdist hashes', () => {
  it('refuses an sdist without a sha256', () => {
    const { sha256: _dropped, ...unhashed } = file('demo-1.0.tar.gz');
    const error = thrown(() => selectSdist({ project: 'demo', files: [unhashed] }));
    expect(error).toBeInstanceOf(IntegrityError);
    expect(error.code).toBe('no-hash');
    expect(error.message).toContain('demo-1.0.tar.gz');
  });

  it('prefers a hashed sdist of the same version over an unhashed one', () => {
    const { sha256: _dropped, ...unhashed } = file('demo-1.0.tar.gz');
    expect(selectSdist({ project: 'demo', files: [unhashed, file('demo-1.0.zip')] }).filename).toBe('demo-1.0.zip');
  });
});

describe('selectSdist with a recipe specifier', () => {
  const file = (filename: string) => ({
    filename,
    url: `https://files.invalid/${filename}`,
    sha256: 'a'.repeat(64),
    yanked: false as const,
  });
  const files = ['numpy-2.3.4.tar.gz', 'numpy-2.3.5.tar.gz', 'numpy-2.4.0.tar.gz', 'numpy-2.5.5.tar.gz'].map(file);
  it('the newest release the specifier admits', () => {
    expect(selectSdist({ project: 'numpy', files, specifier: '<2.4' }).version).toBe('2.3.5');
  });
  it('an exact version is built even outside the specifier', () => {
    expect(selectSdist({ project: 'numpy', files, version: '2.5.5', specifier: '<2.4' }).version).toBe('2.5.5');
  });
  it('no release in range: a user error naming the specifier and the newest releases', () => {
    expect(() => selectSdist({ project: 'numpy', files, specifier: '>=9' })).toThrow(
      /no release of package `numpy` matches `>=9`; newest available: 2\.5\.5/,
    );
    expect(() => selectSdist({ project: 'numpy', files, specifier: '>=9' })).toThrow(
      expect.objectContaining({ code: 'no-version-in-range' }),
    );
  });
});
