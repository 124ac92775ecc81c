import { describe, expect, it } from 'vitest';
import { servesSeveralPythons, wheelServesPython } from '../../../farm/src/wheels/python-tags.ts';
import { parseWheelFilename } from '../../../farm/src/wheels/wheel-filename.ts';

const serves = (filename: string, python: string) => wheelServesPython(parseWheelFilename(filename), python);

describe('wheelServesPython', () => {
  it('a version-specific wheel needs the same Python and ABI tag', () => {
    expect(serves('m-1.0-cp313-cp313-manylinux_2_31_x86_64.whl', 'cp313')).toBe(true);
    expect(serves('m-1.0-cp313-cp313-manylinux_2_31_x86_64.whl', 'cp311')).toBe(false);
  });
  it('free-threaded and debug ABIs do not serve the regular interpreter', () => {
    expect(serves('m-1.0-cp313-cp313t-manylinux_2_31_x86_64.whl', 'cp313')).toBe(false);
    expect(serves('m-1.0-cp313-cp313d-manylinux_2_31_x86_64.whl', 'cp313')).toBe(false);
  });
  it('an abi3 wheel serves its CPython and newer ones, not older', () => {
    expect(serves('m-1.0-cp311-abi3-manylinux_2_31_x86_64.whl', 'cp313')).toBe(true);
    expect(serves('m-1.0-cp311-abi3-manylinux_2_31_x86_64.whl', 'cp311')).toBe(true);
    expect(serves('m-1.0-cp312-abi3-manylinux_2_31_x86_64.whl', 'cp311')).toBe(false);
  });
  it('a pure wheel serves the Pythons its tag admits', () => {
    expect(serves('m-1.0-py3-none-any.whl', 'cp313')).toBe(true);
    expect(serves('m-1.0-py2.py3-none-any.whl', 'cp311')).toBe(true);
    expect(serves('m-1.0-py2-none-any.whl', 'cp313')).toBe(false);
    expect(serves('m-1.0-py312-none-any.whl', 'cp311')).toBe(false);
  });
  it('servesSeveralPythons: pure and abi3 wheels only', () => {
    expect(servesSeveralPythons(parseWheelFilename('m-1.0-py3-none-any.whl'))).toBe(true);
    expect(servesSeveralPythons(parseWheelFilename('m-1.0-cp311-abi3-manylinux_2_31_x86_64.whl'))).toBe(true);
    expect(servesSeveralPythons(parseWheelFilename('m-1.0-cp311-cp311-manylinux_2_31_x86_64.whl'))).toBe(false);
  });
});
