import { describe, expect, it } from 'vitest';
import type { PublishedFile } from '../../../farm/src/index/publisher.ts';
import { decideCellState } from '../../../farm/src/pipeline/cell-state.ts';
import { compareBuildTags, findPublishedWheels, nextBuildTag } from '../../../farm/src/pipeline/find-published-wheel.ts';
import type { BuildInputs, BuildRecord } from '../../../farm/src/records/build-records.ts';
import type { Cell } from '../../../farm/src/wheels/build-id.ts';

const CELL: Cell = { name: 'PyYAML', version: '6.0.3', python: 'cp313', platform: 'manylinux_2_31_x86_64' };
const WHEEL = 'pyyaml-6.0.3-cp313-cp313-manylinux_2_31_x86_64.whl';
const INPUTS: BuildInputs = { source: `sha256:${'a'.repeat(64)}`, recipe: 'r1', image: 'wheelfarm/build:1111' };

function file(filename: string): PublishedFile {
  return { filename, sha256: '0'.repeat(64), size: 1 };
}

function record(wheel: string, inputs: BuildInputs = INPUTS): BuildRecord {
  return {
    id: 1,
    buildId: 'pyyaml-6.0.3-cp313-manylinux_2_31_x86_64',
    cell: CELL,
    index: 'dir:/srv/index',
    inputs,
    buildTag: undefined,
    state: 'published',
    startedAt: '2026-11-22T00:00:00.000Z',
    finishedAt: '2026-11-22T00:01:00.000Z',
    steps: {},
    wheel,
    wheelSha256: undefined,
    log: undefined,
    error: undefined,
    requires: undefined,
    native: [],
    host: 'farm',
    pid: 1,
  };
}

describe('decideCellState', () => {
  it('missing when the index serves no wheel for the cell (even if the records remember one)', () => {
    expect(decideCellState({ files: [], cell: CELL, record: record(WHEEL), inputs: INPUTS })).toEqual({ state: 'missing' });
    const otherPython = [file('pyyaml-6.0.3-cp311-cp311-manylinux_2_31_x86_64.whl')];
    expect(decideCellState({ files: otherPython, cell: CELL, record: undefined, inputs: INPUTS }).state).toBe('missing');
  });

  it('built when the newest wheel was built from the same inputs', () => {
    const state = decideCellState({ files: [file(WHEEL)], cell: CELL, record: record(WHEEL), inputs: INPUTS });
    expect(state).toEqual({ state: 'built', wheel: file(WHEEL) });
  });

  it('built when the records know nothing of the wheel (another farm published it, or the records were moved aside)', () => {
    expect(decideCellState({ files: [file(WHEEL)], cell: CELL, record: undefined, inputs: { ...INPUTS, recipe: 'r2' } }).state).toBe(
      'built',
    );
    const tagged = 'pyyaml-6.0.3-1-cp313-cp313-manylinux_2_31_x86_64.whl';
    const state = decideCellState({
      files: [file(WHEEL), file(tagged)],
      cell: CELL,
      record: record(WHEEL),
      inputs: { ...INPUTS, recipe: 'r2' },
    });
    expect(state).toEqual({ state: 'built', wheel: file(tagged) });
  });

  it.each([
    ['recipe', { recipe: 'r2' }],
    ['image', { image: 'wheelfarm/recipe:2222' }],
    ['source', { source: `sha256:${'b'.repeat(64)}` }],
  ] as const)('stale when the %s changed: the next build tag is 1 after an untagged wheel', (changed, patch) => {
    const state = decideCellState({ files: [file(WHEEL)], cell: CELL, record: record(WHEEL), inputs: { ...INPUTS, ...patch } });
    expect(state).toEqual({ state: 'stale', wheel: file(WHEEL), changed: [changed], buildTag: '1' });
  });

  it('stale again after a rebuild: the record of the tagged wheel is compared, and the tag goes one higher', () => {
    const tagged = 'pyyaml-6.0.3-1-cp313-cp313-manylinux_2_31_x86_64.whl';
    const files = [file(WHEEL), file(tagged)];
    expect(decideCellState({ files, cell: CELL, record: record(tagged), inputs: INPUTS }).state).toBe('built');
    const state = decideCellState({ files, cell: CELL, record: record(tagged), inputs: { ...INPUTS, image: 'x', recipe: 'y' } });
    expect(state).toMatchObject({ state: 'stale', wheel: file(tagged), changed: ['recipe', 'image'], buildTag: '2' });
  });

  it('stale when a rebuild is requested, whatever the records say', () => {
    expect(decideCellState({ files: [file(WHEEL)], cell: CELL, record: undefined, inputs: INPUTS, rebuild: true })).toEqual({
      state: 'stale',
      wheel: file(WHEEL),
      changed: ['requested'],
      buildTag: '1',
    });
    expect(decideCellState({ files: [], cell: CELL, record: undefined, inputs: INPUTS, rebuild: true }).state).toBe('missing');
  });
});

describe('build tags', () => {
  it('lists the cell’s wheels newest build tag first, the order pip prefers', () => {
    const files = [
      'pyyaml-6.0.3-2-cp313-cp313-manylinux_2_31_x86_64.whl',
      WHEEL,
      'pyyaml-6.0.3-10-cp313-cp313-manylinux_2_31_x86_64.whl',
      'pyyaml-6.0.3-2b-cp313-cp313-manylinux_2_31_x86_64.whl',
    ];
    expect(findPublishedWheels(files.map(file), CELL).map((w) => w.file.filename)).toEqual([files[2], files[3], files[0], WHEEL]);
  });

  it('compares numbers as numbers, then the rest as a string; no tag sorts first', () => {
    expect(compareBuildTags(undefined, { number: 0, suffix: '' })).toBeLessThan(0);
    expect(compareBuildTags({ number: 10, suffix: '' }, { number: 9, suffix: 'z' })).toBeGreaterThan(0);
    expect(compareBuildTags({ number: 1, suffix: 'a' }, { number: 1, suffix: 'b' })).toBeLessThan(0);
    expect(compareBuildTags(undefined, undefined)).toBe(0);
  });

  it('the next tag is one more than the highest number, counting wheels that serve the cell through abi3', () => {
    const files = [WHEEL, 'pyyaml-6.0.3-3-cp311-abi3-manylinux_2_31_x86_64.whl'].map(file);
    expect(nextBuildTag(findPublishedWheels(files, CELL))).toBe('4');
    expect(nextBuildTag([])).toBe('1');
  });
});
