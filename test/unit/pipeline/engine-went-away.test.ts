// The engine watch after a failed cell (pipeline/detect-engine-loss.ts): was it the engine going away,
// or the build's own failure? A fake engine whose pings follow a script; short watch times.
import { describe, expect, it } from 'vitest';
import { BuildStepError, TransientError, UserInputError } from '../../../farm/src/errors.ts';
import { engineWentAway } from '../../../farm/src/pipeline/detect-engine-loss.ts';

function engine(answers: boolean[]) {
  let pings = 0;
  return {
    pings: () => pings,
    runtime: {
      ping: async () => {
        pings += 1;
        if (!(answers[pings - 1] ?? answers.at(-1)!)) throw new Error('connect ECONNREFUSED');
      },
    },
  };
}

const watch = { watchMs: 60, pingEveryMs: 10 };
const step = (exitCode: number) =>
  new BuildStepError({ buildId: 'x-1.0-cp313-manylinux_2_31_x86_64', step: 'build', message: 'failed', exitCode });

describe('engineWentAway', () => {
  it('an engine that does not answer now: yes, at once', async () => {
    const e = engine([false]);
    expect(await engineWentAway(e.runtime, step(1), watch)).toBe(true);
    expect(e.pings()).toBe(1);
  });

  it("a step that exited by itself (exit 1), or an error that is the build's own: no, without watching", async () => {
    for (const error of [step(1), new UserInputError('bad-recipe', 'bad')]) {
      const e = engine([true]);
      expect(await engineWentAway(e.runtime, error, watch)).toBe(false);
      expect(e.pings()).toBe(1);
    }
  });

  it('a step killed by a signal (exit 137) while the engine stops a moment later: yes, found by the watch', async () => {
    const e = engine([true, true, false]);
    expect(await engineWentAway(e.runtime, step(137), watch)).toBe(true);
    expect(e.pings()).toBe(3);
  });

  it('a step killed by a signal while the engine keeps answering (the OOM killer): no, after the whole watch', async () => {
    const e = engine([true]);
    expect(await engineWentAway(e.runtime, step(137), watch)).toBe(false);
    expect(e.pings()).toBe(1 + watch.watchMs / watch.pingEveryMs);
  });

  it("an error that is not the build's own (a cut stream) is watched too", async () => {
    const e = engine([true, false]);
    expect(await engineWentAway(e.runtime, new TransientError('stream-cut', 'socket hang up'), watch)).toBe(true);
  });
});
