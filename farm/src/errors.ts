/**
 * The error hierarchy. Every failure the farm reports is one of these; only the CLI entry point
 * turns them into text and exit codes (see cli/exit-codes.ts).
 *
 * A message says what happened; `hint` says what to check or do next.
 */
export interface WheelfarmErrorOptions {
  hint?: string;
  cause?: unknown;
}

export class WheelfarmError extends Error {
  /** Stable, machine-readable identifier, e.g. `package-not-found`. Shown in --json output. */
  readonly code: string;
  readonly hint: string | undefined;

  constructor(code: string, message: string, options: WheelfarmErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.hint = options.hint;
  }
}

/** The user's input is wrong: a flag, a package name, a version, a settings file, a recipe. */
export class UserInputError extends WheelfarmError {}

/** The machine is not ready: no Docker engine, no debootstrap, an image that cannot be built. */
export class EnvironmentError extends WheelfarmError {}

/** A fault in something outside our control that may pass: HTTP 429/5xx, a reset connection. */
export class TransientError extends WheelfarmError {
  readonly retryable = true;
}

/** Downloaded bytes do not match the hash they were promised to have. Never retried silently. */
export class IntegrityError extends WheelfarmError {}

/** A build step failed inside a container. Carries the build identifier and the log's last lines. */
export class BuildStepError extends WheelfarmError {
  readonly buildId: string;
  readonly step: string;
  readonly logTail: string[];
  readonly logPath: string | undefined;
  /** The step's exit code; 128 + N when a signal killed it (137: SIGKILL, e.g. the engine stopping, or out of memory). */
  readonly exitCode: number | undefined;

  constructor(
    options: { buildId: string; step: string; message: string; logTail?: string[]; logPath?: string; exitCode?: number } & WheelfarmErrorOptions,
  ) {
    super(`${options.step}-failed`, options.message, options);
    this.exitCode = options.exitCode;
    this.buildId = options.buildId;
    this.step = options.step;
    this.logTail = options.logTail ?? [];
    this.logPath = options.logPath;
  }
}

/** Publishing would change bytes that an index already serves under the same filename. */
export class PublishConflictError extends WheelfarmError {}

/** The run was interrupted (SIGINT/SIGTERM). */
export class InterruptedError extends WheelfarmError {
  constructor(signal: string) {
    super('interrupted', `interrupted by ${signal}`);
  }
}

export function describeValue(value: unknown): string {
  return `\`${typeof value === 'string' ? value : JSON.stringify(value)}\` (${value === null ? 'null' : typeof value})`;
}

/** The reason a run was aborted, as an InterruptedError (the CLI aborts with one naming the signal). */
export function interruption(signal: AbortSignal): InterruptedError {
  return signal.reason instanceof InterruptedError ? signal.reason : new InterruptedError('an abort');
}
