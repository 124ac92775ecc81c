/**
 * The error hierarchy. Every failure the farm reports is one of these; only the CLI entry point
 * turns them into text and exit codes (see cli/exit-codes.ts).
 *
 * A message says what happened; `hint` says what to check or do next.
 */
export interface WheelfarmErrorOptions {
  hint?: string;
  cause?: unknown;
  /**
   * A publish that failed after the index's manifest listed this wheel: it is stored and listed,
   * its pages are not written yet (the index keeps a note; the next run's start, or `index repair`,
   * writes them).
   */
  listedWheel?: string;
}

export class WheelfarmError extends Error {
  /** Stable, machine-readable identifier, e.g. `package-not-found`. Shown in --json output. */
  readonly code: string;
  readonly hint: string | undefined;
  /** See WheelfarmErrorOptions.listedWheel. */
  readonly listedWheel: string | undefined;

  constructor(code: string, message: string, options: WheelfarmErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.hint = options.hint;
    this.listedWheel = options.listedWheel;
  }
}

/** The user's input is wrong: a flag, a package name, a version, a settings file, a recipe. */
export class UserInputError extends WheelfarmError {}

/** The machine is not ready: no Docker engine, no debootstrap, an image that cannot be built. */
export class EnvironmentError extends WheelfarmError {}

/** A fault in something outside our control that may pass: HTTP 429/5xx, a reset connection. */
export class TransientError extends WheelfarmError {
  readonly retryable = true;
  /** How long the server asked us to wait before trying again (its `Retry-After`), when it said. */
  readonly retryAfterMs: number | undefined;

  constructor(code: string, message: string, options: WheelfarmErrorOptions & { retryAfterMs?: number | undefined } = {}) {
    super(code, message, options);
    this.retryAfterMs = options.retryAfterMs;
  }
}

/**
 * An index backend (S3, devpi, pypiserver) kept failing through every try of one request. The message
 * names the request, the endpoint and what the last try met; nothing retries it again.
 */
export class IndexUnavailableError extends TransientError {
  /** Tries made, the first included. */
  readonly tries: number;

  constructor(code: string, message: string, options: WheelfarmErrorOptions & { tries: number }) {
    super(code, message, options);
    this.tries = options.tries;
  }
}

/**
 * Bytes that cannot be trusted: a download that does not match the hash it was promised to have, an
 * index entry without a hash, an archive that is unsafe to unpack. Never retried silently.
 */
export class IntegrityError extends WheelfarmError {}

/**
 * An archive that is unsafe to unpack or install: an sdist before any container unpacks it, a wheel
 * before any index serves it (see archives/). The message names the archive and the member.
 */
export class UnsafeArchiveError extends IntegrityError {
  /** The archive's file name, as the message shows it. */
  readonly archive: string;
  /** The member at fault (as stored, unescaped); undefined when the fault is the archive as a whole. */
  readonly member: string | undefined;

  constructor(options: { code: string; archive: string; member?: string | undefined; message: string } & WheelfarmErrorOptions) {
    super(options.code, options.message, options);
    this.archive = options.archive;
    this.member = options.member;
  }
}

/** A build step failed inside a container. Carries the build identifier and the log's last lines. */
export class BuildStepError extends WheelfarmError {
  readonly buildId: string;
  readonly step: string;
  readonly logTail: string[];
  readonly logPath: string | undefined;
  /** The step's exit code; 128 + N when a signal killed it (137: SIGKILL, e.g. the engine stopping, or out of memory). */
  readonly exitCode: number | undefined;

  constructor(
    options: {
      buildId: string;
      step: string;
      message: string;
      logTail?: string[];
      logPath?: string;
      exitCode?: number;
    } & WheelfarmErrorOptions,
  ) {
    super(`${options.step}-failed`, options.message, options);
    this.exitCode = options.exitCode;
    this.buildId = options.buildId;
    this.step = options.step;
    this.logTail = options.logTail ?? [];
    this.logPath = options.logPath;
  }
}

/**
 * A cell's Docker engine went away under it (stopped, crashed, restarted): its containers died or
 * its API refused. Not the build's fault; the cell is run again from the start once the engine answers.
 */
export class EngineLostError extends TransientError {
  readonly buildId: string;
  /** The engine, as its runtime describes it (host name and URL). */
  readonly engine: string;

  constructor(options: { buildId: string; engine: string; message: string } & WheelfarmErrorOptions) {
    super('engine-lost', options.message, options);
    this.buildId = options.buildId;
    this.engine = options.engine;
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
