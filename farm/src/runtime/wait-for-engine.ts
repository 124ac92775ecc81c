import { setTimeout as sleep } from 'node:timers/promises';
import { EnvironmentError, describeValue, interruption } from '../errors.ts';
import type { ContainerRuntime } from './container-runtime.ts';
import { engineAnswers } from './engine-answers.ts';

/** The first pause between pings; it doubles after each unanswered one, up to MAX_PAUSE_MS. */
const FIRST_PAUSE_MS = 250;
const MAX_PAUSE_MS = 5_000;
/**
 * An engine counts as back once it has answered for this long, pinged every STEADY_PING_MS: one that
 * is stopping kills its containers first and answers a few seconds more before it goes.
 */
const STEADY_MS = 5_000;
const STEADY_PING_MS = 1_000;

/**
 * Waits for an engine that went away (restarted, crashed, stopped) to answer again, steadily: pings
 * it with a pause that doubles from 250 ms to 5 s, for at most `timeoutSeconds`. Resolves with how
 * long that took. Rejects with an EnvironmentError naming the engine when it does not come back in
 * time, and with the interruption when `signal` aborts.
 */
export async function waitForEngine({
  runtime,
  timeoutSeconds,
  signal,
}: {
  runtime: Pick<ContainerRuntime, 'ping' | 'description'>;
  timeoutSeconds: number;
  signal: AbortSignal;
}): Promise<{ seconds: number }> {
  if (typeof timeoutSeconds !== 'number' || !Number.isFinite(timeoutSeconds) || timeoutSeconds < 0) {
    throw new TypeError(`Expected \`timeoutSeconds\` to be a finite number >= 0, got ${describeValue(timeoutSeconds)}`);
  }
  const started = performance.now();
  const deadline = started + timeoutSeconds * 1000;
  const pause = (ms: number) =>
    sleep(ms, undefined, { signal }).catch(() => {
      throw interruption(signal);
    });
  let wait = FIRST_PAUSE_MS;
  let unanswered: unknown;
  let answeringSince: number | undefined;
  for (;;) {
    if (signal.aborted) throw interruption(signal);
    const now = performance.now();
    if (await engineAnswers(runtime, { onError: (error) => (unanswered = error) })) {
      answeringSince ??= now;
      if (now - answeringSince >= STEADY_MS) return { seconds: (answeringSince - started) / 1000 };
      await pause(STEADY_PING_MS);
      continue;
    }
    answeringSince = undefined;
    const left = deadline - performance.now();
    if (left <= 0) break;
    await pause(Math.min(wait, left));
    wait = Math.min(wait * 2, MAX_PAUSE_MS);
  }
  throw new EnvironmentError(
    'engine-did-not-come-back',
    `the Docker engine at ${runtime.description} did not come back within ${formatWait(timeoutSeconds)}`,
    {
      cause: unanswered,
      hint:
        'check that it runs and answers (`docker info` against it, its log: `journalctl -u docker`); once it does, run the command ' +
        'again: only what is missing is built. `containers.engine-wait` in the settings sets how long to wait',
    },
  );
}

function formatWait(seconds: number): string {
  return seconds >= 60 && seconds % 60 === 0 ? `${seconds / 60} min` : `${seconds} s`;
}
