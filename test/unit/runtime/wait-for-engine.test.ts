import { describe, expect, it } from 'vitest';
import { EnvironmentError, InterruptedError } from '../../../farm/src/errors.ts';
import { waitForEngine } from '../../../farm/src/runtime/wait-for-engine.ts';

/**
 * An engine whose pings follow a script: `true` answers, `false` is refused (as a restarting
 * dockerd's socket is); past the script's end, the last entry repeats. Records when each ping came.
 */
function scriptedEngine(script: boolean[]) {
  const started = performance.now();
  const pings: number[] = [];
  return {
    pings,
    runtime: {
      description: 'engine-2 (unix:///tmp/engine-2.sock)',
      ping: async () => {
        pings.push(performance.now() - started);
        if (!(script[pings.length - 1] ?? script.at(-1)!)) throw new Error('connect ECONNREFUSED /tmp/engine-2.sock');
      },
    },
  };
}

describe('waitForEngine', () => {
  it('gives up after its bound with an EnvironmentError naming the engine, having pinged with a growing pause', async () => {
    const { runtime, pings } = scriptedEngine([false]);
    const error = await waitForEngine({ runtime, timeoutSeconds: 2, signal: new AbortController().signal }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EnvironmentError);
    expect(error).toMatchObject({
      code: 'engine-did-not-come-back',
      message: 'the Docker engine at engine-2 (unix:///tmp/engine-2.sock) did not come back within 2 s',
      hint: expect.stringContaining('containers.engine-wait'),
    });
    expect(((error as Error).cause as Error).message).toContain('ECONNREFUSED');
    // Pauses of 250 ms, then 500, 1000 (and what is left of the bound): five pings in two seconds, not a busy loop.
    expect(pings.length).toBeGreaterThanOrEqual(3);
    expect(pings.length).toBeLessThanOrEqual(5);
    const pauses = pings.slice(1).map((at, i) => at - pings[i]!);
    expect(pauses[0]!).toBeGreaterThanOrEqual(240);
    expect(pauses[1]!).toBeGreaterThanOrEqual(490);
  });

  it('counts an engine as back only once it has answered steadily: one that answers a moment while stopping is not', async () => {
    // Answers (an engine still stopping), refused twice, then answers for good.
    const { runtime, pings } = scriptedEngine([true, false, false, true]);
    const { seconds } = await waitForEngine({ runtime, timeoutSeconds: 30, signal: new AbortController().signal });
    // Back from the fourth ping on (after about 0.25 + 0.5 s of pauses), steady for 5 s after it.
    expect(seconds).toBeGreaterThan(0.7);
    expect(seconds).toBeLessThan(2);
    expect(pings.at(-1)! - pings[3]!).toBeGreaterThanOrEqual(5_000);
  }, 15_000);

  it('stops at once when the run is interrupted', async () => {
    const { runtime } = scriptedEngine([false]);
    const controller = new AbortController();
    setTimeout(() => controller.abort(new InterruptedError('SIGINT')), 100);
    const started = performance.now();
    await expect(waitForEngine({ runtime, timeoutSeconds: 60, signal: controller.signal })).rejects.toBeInstanceOf(InterruptedError);
    expect(performance.now() - started).toBeLessThan(1_000);
  });

  it('validates its options up front', async () => {
    const { runtime } = scriptedEngine([true]);
    await expect(waitForEngine({ runtime, timeoutSeconds: -1, signal: new AbortController().signal })).rejects.toThrow(
      'Expected `timeoutSeconds` to be a finite number >= 0, got `-1` (number)',
    );
  });
});
