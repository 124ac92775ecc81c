import { BuildStepError, interruption } from '../errors.ts';
import type { RunningContainer } from '../runtime/container-runtime.ts';
import type { BuildLog } from '../records/build-log.ts';
import type { StepDeps } from './cell-deps.ts';
import type { EmitEvent, StepName } from './events.ts';
import { parseDuration } from '../config/parse-duration.ts';
import type { Recipe } from '../recipes/recipe.ts';
import type { ContainerLimits } from '../runtime/build-host.ts';
import { detectContainerLoss } from './detect-container-loss.ts';

/** How long a step may run: the recipe's `limits.timeout`, else the settings' `containers.timeout`. */
export function stepTimeoutSeconds(limits: ContainerLimits, recipe: Recipe): number {
  return recipe.limits.timeout ? parseDuration(recipe.limits.timeout) : limits.stepTimeoutSeconds;
}

/** What a build sees when it reaches for a network it does not have (Python, curl, git, cargo, the C library). */
const NO_NETWORK =
  /Network is unreachable|Temporary failure in name resolution|Name or service not known|No address associated with hostname|Could not resolve host|failed to lookup address|getaddrinfo|\[Errno (101|-2|-3)\]/;

/**
 * Run one step of a cell as a bash script in the container: announced, timed, its output in the
 * build's log. A non-zero exit becomes a BuildStepError carrying the log's last lines; a step that
 * outlives `timeoutSeconds` is ended by removing its container. A step whose container died under
 * it (its engine restarted or stopped) is an EngineLostError, not the build's failure. With
 * `offline` (the build phase, NetworkMode none), a failure whose log shows a network error says that is why.
 */
export async function runStep(
  { host, upstream, emit, signal }: StepDeps,
  {
    container,
    buildId,
    step,
    script,
    log,
    env,
    timeoutSeconds,
    offline = false,
  }: {
    container: RunningContainer;
    buildId: string;
    step: StepName;
    script: string;
    log: BuildLog;
    env?: Record<string, string>;
    timeoutSeconds?: number;
    offline?: boolean;
  },
): Promise<void> {
  await timeStep(emit, { buildId, step, log }, async () => {
    let timedOut = false;
    const timer =
      timeoutSeconds === undefined
        ? undefined
        : setTimeout(() => {
            timedOut = true;
            log.note(`step ${step}: still running after ${formatDuration(timeoutSeconds)}, the limit: stopping its container`);
            void container.remove().catch(() => undefined);
          }, timeoutSeconds * 1000);
    // When the credential proxy's upstream refuses or fails, pip says only "no matching distribution":
    // the log says why (each problem once, the first few).
    const noted = new Set<string>();
    const unwatch = offline
      ? undefined
      : upstream.watch((problem) => {
          if (noted.has(problem) || noted.size >= 5) return;
          noted.add(problem);
          log.note(problem);
        });
    let exitCode: number;
    try {
      exitCode = await container.exec(['bash', '-c', `set -euo pipefail\nmkdir -p "\${TMPDIR:-/tmp}"\n${script}`], {
        onOutput: (chunk) => log.write(chunk),
        ...(env ? { env } : {}),
      });
    } catch (error) {
      if (!timedOut)
        throw signal.aborted
          ? error
          : ((await detectContainerLoss(host.runtime, { container, buildId, step, ending: (error as Error).message })) ?? error);
      exitCode = -1;
    } finally {
      clearTimeout(timer);
      unwatch?.();
    }
    if (signal.aborted) throw interruption(signal);
    // Killed by a signal (>= 128), or no exit code known (the stream was cut): the engine stopping
    // (restart, crash), or the build's own death (OOM killer, crash)?
    if (!timedOut && (exitCode >= 128 || exitCode < 0)) {
      const lost = await detectContainerLoss(host.runtime, { container, buildId, step, ending: `exit code ${exitCode}` });
      if (lost) throw lost;
    }
    if (timedOut) {
      throw new BuildStepError({
        buildId,
        step,
        message: `${buildId}: the ${step} step was stopped after ${formatDuration(timeoutSeconds!)}, its time limit`,
        logTail: log.tail(25),
        logPath: log.path,
        hint: `if it needs longer, raise \`limits.timeout\` in its recipe (or \`containers.timeout\` in the settings); the log is ${log.path}`,
      });
    }
    if (exitCode !== 0) {
      const network = offline
        ? log
            .tail(200)
            .findLast((line) => NO_NETWORK.test(line))
            ?.trim()
            .slice(0, 200)
        : undefined;
      throw new BuildStepError({
        buildId,
        step,
        message: network
          ? `${buildId}: the ${step} step failed (exit code ${exitCode}): it tried to reach the network ("${network}"), and builds run with none`
          : `${buildId}: the ${step} step failed (exit code ${exitCode})`,
        logTail: log.tail(25),
        logPath: log.path,
        exitCode,
        hint: network
          ? `the build requirements were fetched before the build (the requires step in the log). A package that must download while it builds needs \`build.network: "<why>"\` in its recipe. The log is ${log.path}`
          : `the last lines of the log are above; the whole log is ${log.path}`,
      });
    }
  });
}

function formatDuration(seconds: number): string {
  if (seconds % 3600 === 0) return `${seconds / 3600} h`;
  if (seconds % 60 === 0) return `${seconds / 60} min`;
  return `${seconds} s`;
}

/** Announce, time and log a step that runs anywhere (container or host). */
export async function timeStep<T>(
  emit: EmitEvent,
  { buildId, step, log }: { buildId: string; step: StepName; log: BuildLog },
  work: () => Promise<T>,
): Promise<T> {
  emit({ type: 'step', buildId, step, status: 'started' });
  log.note(`step ${step} started`);
  const started = performance.now();
  const seconds = () => Math.round((performance.now() - started) / 100) / 10;
  try {
    const result = await work();
    log.note(`step ${step} done in ${seconds()} s`);
    log.steps[step] = seconds();
    emit({ type: 'step', buildId, step, status: 'done', seconds: seconds() });
    return result;
  } catch (error) {
    log.note(`step ${step} failed after ${seconds()} s: ${(error as Error).message}`);
    log.steps[step] = seconds();
    emit({ type: 'step', buildId, step, status: 'failed', seconds: seconds(), detail: (error as Error).message });
    throw error;
  }
}
