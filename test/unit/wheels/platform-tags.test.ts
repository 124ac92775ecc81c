import { describe, expect, it } from 'vitest';
import { UserInputError } from '../../../farm/src/errors.ts';
import { isPureWheel, parseManylinuxTag, wheelMatchesPolicy } from '../../../farm/src/wheels/platform-tags.ts';
import { parseWheelFilename } from '../../../farm/src/wheels/wheel-filename.ts';

describe('parseManylinuxTag', () => {
  it.each([
    ['manylinux_2_28_x86_64', [2, 28], 'x86_64'],
    ['manylinux_2_31_aarch64', [2, 31], 'aarch64'],
    ['manylinux_2_17_ppc64le', [2, 17], 'ppc64le'],
    ['manylinux1_x86_64', [2, 5], 'x86_64'],
    ['manylinux1_i686', [2, 5], 'i686'],
    ['manylinux2010_x86_64', [2, 12], 'x86_64'],
    ['manylinux2014_aarch64', [2, 17], 'aarch64'],
    ['manylinux2014_s390x', [2, 17], 's390x'],
  ])('reads %s', (tag, glibc, arch) => {
    expect(parseManylinuxTag(tag)).toEqual({ glibc, arch });
  });

  it.each([
    'any',
    'linux_x86_64',
    'musllinux_1_2_x86_64',
    'macosx_11_0_arm64',
    'manylinux1_aarch64',
    'manylinux_2_x86_64',
    'manylinux2015_x86_64',
  ])('returns undefined for %s', (tag) => {
    expect(parseManylinuxTag(tag)).toBeUndefined();
  });
});

describe('isPureWheel', () => {
  it('is true only for the `any` platform', () => {
    expect(isPureWheel(parseWheelFilename('six-1.16.0-py2.py3-none-any.whl'))).toBe(true);
    expect(isPureWheel(parseWheelFilename('foo-1.0-cp313-cp313-manylinux_2_28_x86_64.whl'))).toBe(false);
  });
});

describe('wheelMatchesPolicy', () => {
  const wheel = (platform: string) => parseWheelFilename(`foo-1.0-cp313-cp313-${platform}.whl`);

  it('accepts the same or an older glibc on the same architecture', () => {
    expect(wheelMatchesPolicy(wheel('manylinux_2_28_x86_64'), 'manylinux_2_28_x86_64')).toBe(true);
    expect(wheelMatchesPolicy(wheel('manylinux_2_17_x86_64.manylinux2014_x86_64'), 'manylinux_2_28_x86_64')).toBe(true);
    expect(wheelMatchesPolicy(wheel('manylinux1_x86_64'), 'manylinux2014_x86_64')).toBe(true);
  });

  it('compares glibc numerically, not as text', () => {
    expect(wheelMatchesPolicy(wheel('manylinux_2_9_x86_64'), 'manylinux_2_17_x86_64')).toBe(true);
    expect(wheelMatchesPolicy(wheel('manylinux_2_31_x86_64'), 'manylinux_2_5_x86_64')).toBe(false);
  });

  it('rejects a newer glibc, another architecture, or any non-manylinux tag', () => {
    expect(wheelMatchesPolicy(wheel('manylinux_2_31_x86_64'), 'manylinux_2_28_x86_64')).toBe(false);
    expect(wheelMatchesPolicy(wheel('manylinux_2_17_aarch64'), 'manylinux_2_28_x86_64')).toBe(false);
    expect(wheelMatchesPolicy(wheel('manylinux_2_17_x86_64.linux_x86_64'), 'manylinux_2_28_x86_64')).toBe(false);
    expect(wheelMatchesPolicy(wheel('linux_x86_64'), 'manylinux_2_28_x86_64')).toBe(false);
    expect(wheelMatchesPolicy(parseWheelFilename('six-1.16.0-py3-none-any.whl'), 'manylinux_2_28_x86_64')).toBe(false);
  });

  it('refuses a policy that is not a manylinux tag', () => {
    expect(() => wheelMatchesPolicy(wheel('manylinux_2_28_x86_64'), 'linux_x86_64')).toThrow(UserInputError);
  });
});
