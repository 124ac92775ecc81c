import {
  BuildStepError,
  EnvironmentError,
  IntegrityError,
  InterruptedError,
  PublishConflictError,
  TransientError,
  UserInputError,
} from '../errors.ts';

/** What each exit status means; documented in the README and in `--help`. */
export const EXIT = {
  ok: 0,
  buildFailed: 1,
  usage: 2,
  environment: 3,
  transient: 4,
  integrity: 5,
  internal: 70,
  interrupted: 130,
} as const;

export const EXIT_CODES_HELP = `Exit status:
  0    every requested wheel is in the index (built now or already there)
  1    at least one build failed (its log tail is shown; nothing of it was published); when every
       failed cell failed for one reason below (a full disk, an index down), that reason's status
  2    bad input: unknown package or version, bad flag, invalid settings or definitions
  3    the machine is not ready: no Docker engine, an image that cannot be built, a full disk
  4    a passing fault upstream or at the index (HTTP 429/5xx, network, timeout): try again later
  5    integrity: a download's sha256 did not match, an sdist or wheel was unsafe to unpack
       (path traversal, links outside, device files, archive bombs), or the index refused different bytes
  70   an internal error (a bug: please report it with the log)
  130  interrupted`;

export function exitCodeFor(error: unknown): number {
  if (error instanceof InterruptedError) return EXIT.interrupted;
  if (error instanceof UserInputError) return EXIT.usage;
  if (error instanceof EnvironmentError) return EXIT.environment;
  if (error instanceof TransientError) return EXIT.transient;
  if (error instanceof IntegrityError || error instanceof PublishConflictError) return EXIT.integrity;
  if (error instanceof BuildStepError) return EXIT.buildFailed;
  return EXIT.internal;
}

/**
 * The exit status of a run whose cells `errors` failed: what they all have in common (a full disk is
 * 3 and an index that stayed down 4 for every cell as for a single command), else 1, "a build failed".
 * A cell failing for a reason of its own (a compiler error, or one without a class of its own) is 1
 * however the others failed.
 */
export function exitCodeForFailedCells(errors: readonly unknown[]): number {
  const ofCell = (error: unknown): number => {
    const code = error === undefined ? EXIT.buildFailed : exitCodeFor(error);
    return code === EXIT.internal ? EXIT.buildFailed : code;
  };
  const codes = new Set(errors.map(ofCell));
  return codes.size === 1 ? [...codes][0]! : EXIT.buildFailed;
}
