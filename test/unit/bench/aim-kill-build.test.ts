// farm/bench/faults/fault-trials.ts › aimKillBuild: a kill-build strikes a moment of the calibrated
// cell, counted from the start of the step that moment falls in.
import { describe, expect, it } from 'vitest';
import { aimKillBuild } from '../../../farm/bench/faults/fault-trials.ts';

const CALIBRATION = {
  beforePublishMs: 8000,
  steps: [
    { step: 'requires', atMs: 500 },
    { step: 'build', atMs: 3000 },
    { step: 'repair', atMs: 6000 },
    { step: 'test', atMs: 6500 },
  ],
  publishMs: 30,
};

describe('aimKillBuild', () => {
  it('counts from the start of the step the moment falls in, or from `planned` before the first step', () => {
    expect(aimKillBuild(CALIBRATION, 0.05)).toEqual({ after: undefined, delayMs: 400 });
    expect(aimKillBuild(CALIBRATION, 0.5)).toEqual({ after: 'build', delayMs: 1000 });
    expect(aimKillBuild(CALIBRATION, 0.9)).toEqual({ after: 'test', delayMs: 700 });
  });
});
