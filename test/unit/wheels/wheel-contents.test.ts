import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { WheelfarmError } from '../../../farm/src/errors.ts';
import { readWheelContents } from '../../../farm/src/wheels/wheel-contents.ts';
import { makeZip } from '../../fixtures/wheels/make-zip.ts';

const dir = mkdtempSync(join(tmpdir(), 'wheelfarm-contents-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const WHEEL_PLATLIB = 'Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: false\nTag: cp311-cp311-manylinux_2_17_x86_64\n';
const WHEEL_PURELIB = 'Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n';

function metadata(fields: string, body = 'Long description.\n'): string {
  return `Metadata-Version: 2.1\n${fields}\n\n${body}`;
}

async function errorOf(promise: Promise<unknown>): Promise<WheelfarmError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(WheelfarmError);
  return error as WheelfarmError;
}

describe('readWheelContents', () => {
  it('reads name, version and requires-python from METADATA and modules from top_level.txt', async () => {
    const path = makeZip(join(dir, 'markupsafe-3.0.3-cp311-cp311-manylinux_2_17_x86_64.whl'), {
      'markupsafe/__init__.py': '',
      'markupsafe/_speedups.cpython-311-x86_64-linux-gnu.so': 'ELF',
      'MarkupSafe-3.0.3.dist-info/METADATA': metadata('Name: MarkupSafe\nVersion: 3.0.3\nRequires-Python: >=3.9\nClassifier: X'),
      'MarkupSafe-3.0.3.dist-info/WHEEL': WHEEL_PLATLIB,
      'MarkupSafe-3.0.3.dist-info/top_level.txt': '_private\nmarkupsafe\n\n',
    });
    expect(await readWheelContents(path)).toEqual({
      name: 'MarkupSafe',
      version: '3.0.3',
      requiresDist: [],
      requiresPython: '>=3.9',
      topLevelModules: ['markupsafe', '_private'],
      rootIsPurelib: false,
    });
  });

  it('derives modules from the layout when top_level.txt is missing', async () => {
    const path = makeZip(join(dir, 'layout-1.0-cp311-cp311-linux_x86_64.whl'), {
      'pkg/__init__.py': '',
      'pkg/sub/mod.py': '',
      'nspkg/inner/__init__.py': '',
      'native/core.abi3.so': 'ELF',
      'six.py': '',
      '_cffi_backend.cpython-311-x86_64-linux-gnu.so': 'ELF',
      'docs/readme.txt': '',
      'data_only/thing.json': '{}',
      'pkg.libs/libgfortran-1234abcd.so.5.0.0': 'ELF',
      'pkg.libs/libopenblas.so': 'ELF',
      'layout-1.0.data/purelib/extra/__init__.py': '',
      'layout-1.0.data/scripts/tool': '#!python',
      'layout-1.0.data/headers/x.py': '',
      'layout-1.0.dist-info/METADATA': metadata('Name: layout\nVersion: 1.0'),
      'layout-1.0.dist-info/WHEEL': WHEEL_PURELIB,
    });
    const contents = await readWheelContents(path);
    expect(contents.topLevelModules).toEqual(['extra', 'native', 'nspkg', 'pkg', 'six', '_cffi_backend']);
    expect(contents.rootIsPurelib).toBe(true);
    expect(contents).not.toHaveProperty('requiresPython');
  });

  it('reads only the METADATA headers, however long the description', async () => {
    const path = makeZip(join(dir, 'big-1.0-py3-none-any.whl'), {
      'big/__init__.py': '',
      'big-1.0.dist-info/METADATA': metadata('Name: big\nVersion: 1.0\nRequires-Python: >=3.10,\n  <4', 'x'.repeat(3 * 1024 * 1024)),
      'big-1.0.dist-info/WHEEL': WHEEL_PURELIB,
    });
    const contents = await readWheelContents(path);
    expect(contents.name).toBe('big');
    // A folded header line is joined back.
    expect(contents.requiresPython).toBe('>=3.10, <4');
  });

  it('reports a file that is not a zip archive, naming it', async () => {
    const path = join(dir, 'broken-1.0-py3-none-any.whl');
    writeFileSync(path, '<html>404 Not Found</html>');
    const error = await errorOf(readWheelContents(path));
    expect(error.code).toBe('bad-wheel');
    expect(error.message).toContain(path);
    expect(error.hint).toBeTruthy();
  });

  it('reports a missing file', async () => {
    const error = await errorOf(readWheelContents(join(dir, 'nope.whl')));
    expect(error.code).toBe('bad-wheel');
    expect(error.message).toContain('does not exist');
  });

  it('reports a zip without a .dist-info folder', async () => {
    const path = makeZip(join(dir, 'nodist-1.0-py3-none-any.whl'), { 'nodist/__init__.py': '' });
    const error = await errorOf(readWheelContents(path));
    expect(error.code).toBe('bad-wheel');
    expect(error.message).toContain('no .dist-info folder');
    expect(error.message).toContain(path);
  });

  it('reports a dist-info folder without METADATA, and two dist-info folders', async () => {
    const noMetadata = makeZip(join(dir, 'nometa-1.0-py3-none-any.whl'), { 'nometa-1.0.dist-info/WHEEL': WHEEL_PURELIB });
    expect((await errorOf(readWheelContents(noMetadata))).message).toContain('no METADATA');
    const two = makeZip(join(dir, 'two-1.0-py3-none-any.whl'), {
      'a-1.0.dist-info/METADATA': metadata('Name: a\nVersion: 1.0'),
      'a-1.0.dist-info/WHEEL': WHEEL_PURELIB,
      'b-1.0.dist-info/METADATA': metadata('Name: b\nVersion: 1.0'),
      'b-1.0.dist-info/WHEEL': WHEEL_PURELIB,
    });
    expect((await errorOf(readWheelContents(two))).message).toContain('2 .dist-info folders');
  });

  it('reports METADATA without a version', async () => {
    const path = makeZip(join(dir, 'nover-1.0-py3-none-any.whl'), {
      'nover-1.0.dist-info/METADATA': metadata('Name: nover'),
      'nover-1.0.dist-info/WHEEL': WHEEL_PURELIB,
    });
    const error = await errorOf(readWheelContents(path));
    expect(error.code).toBe('bad-wheel');
    expect(error.message).toContain('no Version');
  });
});
