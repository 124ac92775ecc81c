import { describe, expect, it } from 'vitest';
import type { PublishedFile } from '../../../farm/src/index/publisher.ts';
import { findPublishedWheel } from '../../../farm/src/pipeline/find-published-wheel.ts';
import type { Cell } from '../../../farm/src/wheels/build-id.ts';

const CELL: Cell = { name: 'MarkupSafe', version: '3.0.3', python: 'cp313', platform: 'manylinux_2_31_x86_64' };

function file(filename: string): PublishedFile {
  return { filename, sha256: '0'.repeat(64), size: 1234 };
}

function find(filenames: string[], cell: Cell = CELL): string | undefined {
  return findPublishedWheel(filenames.map(file), cell)?.filename;
}

describe('findPublishedWheel', () => {
  it('finds the wheel built for the cell', () => {
    const name = 'markupsafe-3.0.3-cp313-cp313-manylinux_2_31_x86_64.whl';
    const files = [file(name)];
    expect(findPublishedWheel(files, CELL)).toBe(files[0]);
  });

  it('is undefined when nothing is published', () => {
    expect(find([])).toBeUndefined();
  });

  it('compares names normalized (case, `-`, `_`, `.`)', () => {
    expect(find(['MarkupSafe-3.0.3-cp313-cp313-manylinux_2_31_x86_64.whl'], { ...CELL, name: 'markupsafe' })).toBeDefined();
    expect(
      find(['zope_interface-7.0-cp313-cp313-manylinux_2_31_x86_64.whl'], { ...CELL, name: 'zope.interface', version: '7.0' }),
    ).toBeDefined();
    expect(
      find(['ruamel.yaml.clib-0.2.12-cp313-cp313-manylinux_2_31_x86_64.whl'], { ...CELL, name: 'Ruamel-YAML-clib', version: '0.2.12' }),
    ).toBeDefined();
  });

  it('does not take another project', () => {
    expect(find(['markupsafe2-3.0.3-cp313-cp313-manylinux_2_31_x86_64.whl'])).toBeUndefined();
  });

  it('compares versions by PEP 440 equality', () => {
    expect(find(['demo-1.0-cp313-cp313-manylinux_2_31_x86_64.whl'], { ...CELL, name: 'demo', version: '1.0.0' })).toBeDefined();
    expect(find(['demo-1.0.0-cp313-cp313-manylinux_2_31_x86_64.whl'], { ...CELL, name: 'demo', version: '1.0' })).toBeDefined();
    expect(find(['demo-1.0rc1-cp313-cp313-manylinux_2_31_x86_64.whl'], { ...CELL, name: 'demo', version: '1.0.0-RC1' })).toBeDefined();
  });

  it('does not take another version', () => {
    expect(find(['markupsafe-3.0.2-cp313-cp313-manylinux_2_31_x86_64.whl'])).toBeUndefined();
    expect(find(['markupsafe-3.0.3.post1-cp313-cp313-manylinux_2_31_x86_64.whl'])).toBeUndefined();
    expect(find(['markupsafe-3.0.3rc1-cp313-cp313-manylinux_2_31_x86_64.whl'])).toBeUndefined();
    expect(find(['markupsafe-3.0.3+local-cp313-cp313-manylinux_2_31_x86_64.whl'])).toBeUndefined();
  });

  it("needs the cell's CPython tag", () => {
    expect(find(['markupsafe-3.0.3-cp312-cp312-manylinux_2_31_x86_64.whl'])).toBeUndefined();
    expect(find(['markupsafe-3.0.3-cp312-cp312-manylinux_2_31_x86_64.whl'], { ...CELL, python: 'cp312' })).toBeDefined();
  });

  it("accepts a compressed python tag set that includes the cell's", () => {
    expect(find(['markupsafe-3.0.3-cp312.cp313-cp313-manylinux_2_31_x86_64.whl'])).toBeDefined();
  });

  it('accepts a wheel for an older glibc than the policy', () => {
    expect(find(['markupsafe-3.0.3-cp313-cp313-manylinux_2_17_x86_64.whl'])).toBeDefined();
    expect(find(['markupsafe-3.0.3-cp313-cp313-manylinux2014_x86_64.whl'])).toBeDefined();
    expect(find(['markupsafe-3.0.3-cp313-cp313-manylinux_2_17_x86_64.manylinux2014_x86_64.whl'])).toBeDefined();
  });

  it('refuses a wheel that needs a newer glibc than the policy', () => {
    expect(find(['markupsafe-3.0.3-cp313-cp313-manylinux_2_34_x86_64.whl'])).toBeUndefined();
    expect(find(['markupsafe-3.0.3-cp313-cp313-manylinux_3_0_x86_64.whl'])).toBeUndefined();
  });

  it('refuses a wheel for another architecture', () => {
    expect(find(['markupsafe-3.0.3-cp313-cp313-manylinux_2_31_aarch64.whl'])).toBeUndefined();
    expect(find(['markupsafe-3.0.3-cp313-cp313-manylinux_2_17_i686.whl'])).toBeUndefined();
  });

  it('refuses an unrepaired linux_x86_64 wheel and other platforms', () => {
    expect(find(['markupsafe-3.0.3-cp313-cp313-linux_x86_64.whl'])).toBeUndefined();
    expect(find(['markupsafe-3.0.3-cp313-cp313-musllinux_1_2_x86_64.whl'])).toBeUndefined();
    expect(find(['markupsafe-3.0.3-cp313-cp313-macosx_11_0_arm64.whl'])).toBeUndefined();
    expect(find(['markupsafe-3.0.3-cp313-cp313-win_amd64.whl'])).toBeUndefined();
  });

  it('a pure-Python wheel of the version serves every cell', () => {
    const pure = 'markupsafe-3.0.3-py3-none-any.whl';
    expect(find([pure])).toBe(pure);
    expect(find([pure], { ...CELL, python: 'cp39' })).toBe(pure);
    expect(find([pure], { ...CELL, platform: 'manylinux_2_28_aarch64' })).toBe(pure);
    expect(find(['markupsafe-3.0.2-py3-none-any.whl'])).toBeUndefined();
  });

  it('ignores sdists, other files and garbage file names', () => {
    expect(
      find([
        'markupsafe-3.0.3.tar.gz',
        'markupsafe-3.0.3.zip',
        'markupsafe-3.0.3-cp313-cp313-manylinux_2_31_x86_64.whl.metadata',
        'markupsafe-3.0.3.whl',
        'not a wheel.whl',
        'markupsafe-3.0.3-cp313-manylinux_2_31_x86_64.whl',
        'markupsafe-notaversion-cp313-cp313-manylinux_2_31_x86_64.whl',
      ]),
    ).toBeUndefined();
  });

  it('skips garbage and finds the wheel after it', () => {
    const good = 'markupsafe-3.0.3-cp313-cp313-manylinux_2_17_x86_64.manylinux2014_x86_64.whl';
    expect(find(['garbage.whl', 'markupsafe-3.0.3.tar.gz', 'markupsafe-3.0.3-cp313-cp313-manylinux_2_34_x86_64.whl', good])).toBe(good);
  });

  it('accepts a wheel with a build tag', () => {
    expect(find(['markupsafe-3.0.3-1-cp313-cp313-manylinux_2_31_x86_64.whl'])).toBeDefined();
  });

  it('works with legacy policy tags for the cell', () => {
    const cell = { ...CELL, platform: 'manylinux2014_x86_64' };
    expect(find(['markupsafe-3.0.3-cp313-cp313-manylinux_2_17_x86_64.whl'], cell)).toBeDefined();
    expect(find(['markupsafe-3.0.3-cp313-cp313-manylinux_2_28_x86_64.whl'], cell)).toBeUndefined();
  });
});

describe('findPublishedWheel and ABI tags', () => {
  const cell = { name: 'markupsafe', version: '3.0.3', python: 'cp313', platform: 'manylinux_2_31_x86_64' };
  const file = (filename: string) => ({ filename, sha256: 'a'.repeat(64), size: 1 });
  it('a free-threaded wheel does not count as built for the regular interpreter', () => {
    expect(findPublishedWheel([file('markupsafe-3.0.3-cp313-cp313t-manylinux_2_31_x86_64.whl')], cell)).toBeUndefined();
  });
  it('an abi3 wheel for an older CPython counts', () => {
    expect(findPublishedWheel([file('markupsafe-3.0.3-cp311-abi3-manylinux_2_31_x86_64.whl')], cell)).toBeDefined();
  });
  it('a py2-only pure wheel does not count', () => {
    expect(findPublishedWheel([file('markupsafe-3.0.3-py2-none-any.whl')], cell)).toBeUndefined();
  });
});
