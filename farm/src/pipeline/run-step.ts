import { BuildStepError, interruption } from '../errors.ts';
import type { RunningContainer } from '../runtime/container-runtime.ts';
import type { BuildLog } from '../records/build-log.ts';
import type { FarmContext } from '../farm-context.ts';
import type { StepName } from './events.ts';

/**
 * Run one step of a cell as a bash script in the container: announced, timed, its output in the
 * build's log. A non-zero exit becomes a BuildStepError carrying the log's last lines.
 */
export async function runStep(
  context: FarmContext,
  { container, buildId, step, script, log, env }: {
    container: RunningContainer;
    buildId: string;
    step: StepName;
    script: string;
    log: BuildLog;
    env?: Record<string, string>;
  },
): Promise<void> {
  await timeStep(context, { buildId, step, log }, async () => {
    const exitCode = await container.exec(['bash', '-c', `set -euo pipefail\n${script}`], {
      onOutput: (chunk) => log.write(chunk),
      ...(env ? { env } : {}),
    });
    if (context.signal.aborted) throw interruption(context.signal);
    if (exitCode !== 0) {
      throw new BuildStepError({
        buildId,
        step,
        message: `${buildId}: the ${step} step failed (exit code ${exitCode})`,
        logTail: log.tail(25),
        logPath: log.path,
        exitCode,
        hint: `the last lines of the log are above; the whole log is ${log.path}`,
      });
    }
  });
}

/** Announce, time and log a step that runs anywhere (container or host). */
export async function timeStep<T>(
  context: FarmContext,
  { buildId, step, log }: { buildId: string; step: StepName; log: BuildLog },
  work: () => Promise<T>,
): Promise<T> {
  context.emit({ type: 'step', buildId, step, status: 'started' });
  log.note(`step ${step} started`);
  const started = performance.now();
  const seconds = () => Math.round((performance.now() - started) / 100) / 10;
  try {
    const result = await work();
    log.note(`step ${step} done in ${seconds()} s`);
    log.steps[step] = seconds();
    context.emit({ type: 'step', buildId, step, status: 'done', seconds: seconds() });
    return result;
  } catch (error) {
    log.note(`step ${step} failed after ${seconds()} s: ${(error as Error).message}`);
    log.steps[step] = seconds();
    context.emit({ type: 'step', buildId, step, status: 'failed', seconds: seconds(), detail: (error as Error).message });
    throw error;
  }
}
