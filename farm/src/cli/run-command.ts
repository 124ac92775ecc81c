import { resolve } from 'node:path';
import pc from 'picocolors';
import { loadSettings } from '../config/settings.ts';
import type { ResolvedSettings } from '../config/settings.ts';
import { BuildStepError, InterruptedError, WheelfarmError } from '../errors.ts';
import { createFarm } from '../farm.ts';
import type { Farm } from '../farm.ts';
import { sweepContainers } from '../runtime/sweep-containers.ts';
import { EXIT, exitCodeFor } from './exit-codes.ts';
import type { Reporter } from './reporter.ts';
import { createLiveReporter } from './live-view.ts';
import { createJsonReporter, createTerminalReporter } from './reporter.ts';

export const REPOSITORY_ROOT = resolve(import.meta.dirname, '..', '..', '..');

export interface CommonOptions {
  json?: boolean;
  config?: string;
  index?: string;
}

export interface CommandEnvironment {
  farm: Farm;
  settings: ResolvedSettings;
  reporter: Reporter;
}

/**
 * The frame every command runs in: settings, the farm's parts, Ctrl-C handling (containers removed, exit
 * 130), leftover containers swept, and the one place errors become text and exit codes.
 */
export async function runCommand(
  options: CommonOptions,
  {
    needsDocker = true,
    signalStops = false,
  }: {
    needsDocker?: boolean;
    /** Ctrl-C is how this command ends normally (a server): keep its exit code, not 130. */
    signalStops?: boolean;
  },
  body: (env: CommandEnvironment) => Promise<number>,
): Promise<never> {
  const reporter = options.json ? createJsonReporter() : process.stderr.isTTY ? createLiveReporter() : createTerminalReporter();
  const controller = new AbortController();
  let interrupted: string | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    if (interrupted) process.exit(EXIT.interrupted);
    interrupted = signal;
    if (!options.json) {
      const what = signalStops ? 'stopping' : 'stopping, removing containers';
      process.stderr.write(`\n${signal}: ${what} (again to quit at once)\n`);
    }
    controller.abort(new InterruptedError(signal));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let code: number;
  let farm: Farm | undefined;
  try {
    const settings = await loadSettings({ root: REPOSITORY_ROOT, ...(options.config ? { file: options.config } : {}) });
    farm = createFarm({
      settings,
      emit: (event) => reporter.event(event),
      signal: controller.signal,
      ...(options.index ? { indexTarget: options.index } : {}),
    });
    if (needsDocker) {
      await farm.runtime.ping();
      const swept = await sweepContainers({ runtime: farm.runtime });
      if (swept.containers.length + swept.volumes.length > 0) {
        farm.emit({ type: 'swept', containers: swept.containers.length, volumes: swept.volumes.length });
      }
    }
    code = await body({ farm, settings, reporter });
    if (interrupted && !signalStops) code = EXIT.interrupted;
  } catch (error) {
    code = interrupted ? EXIT.interrupted : exitCodeFor(error);
    reportError(reporter, interrupted ? new InterruptedError(interrupted) : error);
  }
  // The credential proxy: its containers are gone by now.
  await farm?.close().catch(() => undefined);
  // Writes to a pipe are asynchronous: exiting at once would cut a long --json line short.
  await Promise.all([drained(process.stdout), drained(process.stderr)]);
  process.exit(code);
}

function drained(stream: NodeJS.WriteStream): Promise<void> {
  return new Promise((resolve) => stream.write('', () => resolve()));
}

function reportError(reporter: Reporter, error: unknown): void {
  const known = error instanceof WheelfarmError;
  const code = known ? error.code : 'internal-error';
  const message = error instanceof Error ? error.message : String(error);
  const hint = known ? error.hint : 'this is a bug in wheelfarm; please report it with the output above';
  const text = [`${pc.red('error:')} ${message}`];
  if (error instanceof BuildStepError && error.logTail.length > 0) text.push(...error.logTail.map((l) => pc.dim(`  | ${l}`)));
  if (hint) text.push(`${pc.yellow('hint:')} ${hint}`);
  if (!known && error instanceof Error && error.stack) text.push(pc.dim(error.stack));
  reporter.result({ type: 'error', code, message, ...(hint ? { hint } : {}) }, text);
}
