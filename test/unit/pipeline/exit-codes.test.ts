// farm/src/cli/exit-codes.ts: the exit status each error class of farm/src/errors.ts maps to.
import { describe, expect, it } from 'vitest';
import { EXIT, EXIT_CODES_HELP, exitCodeFor, exitCodeForFailedCells } from '../../../farm/src/cli/exit-codes.ts';
import {
  BuildStepError,
  EnvironmentError,
  IntegrityError,
  InterruptedError,
  PublishConflictError,
  TransientError,
  UnsafeArchiveError,
  UserInputError,
  WheelfarmError,
} from '../../../farm/src/errors.ts';

describe('exitCodeFor', () => {
  it.each([
    ['UserInputError', new UserInputError('bad-flag', 'bad flag'), 2],
    ['EnvironmentError', new EnvironmentError('no-docker', 'no engine'), 3],
    ['TransientError', new TransientError('http-503', 'try later'), 4],
    ['IntegrityError', new IntegrityError('sha256-mismatch', 'bytes differ'), 5],
    ['PublishConflictError', new PublishConflictError('publish-conflict', 'different bytes'), 5],
    [
      'UnsafeArchiveError',
      new UnsafeArchiveError({ code: 'archive-path-traversal', archive: 'x-1.0.tar.gz', member: '../x', message: 'climbs out' }),
      5,
    ],
    ['BuildStepError', new BuildStepError({ buildId: 'demo-1.0-cp313-manylinux_2_31_x86_64', step: 'build', message: 'failed' }), 1],
    ['InterruptedError', new InterruptedError('SIGINT'), 130],
    ['a bare WheelfarmError', new WheelfarmError('oops', 'unclassified'), 70],
    ['a plain Error', new Error('bug'), 70],
    ['a TypeError', new TypeError('x is undefined'), 70],
    ['a thrown string', 'oops', 70],
    ['undefined', undefined, 70],
    ['null', null, 70],
  ])('%s -> %i', (_label, error, code) => {
    expect(exitCodeFor(error)).toBe(code);
  });

  it('matches the EXIT table', () => {
    expect(exitCodeFor(new UserInputError('x', 'x'))).toBe(EXIT.usage);
    expect(exitCodeFor(new EnvironmentError('x', 'x'))).toBe(EXIT.environment);
    expect(exitCodeFor(new TransientError('x', 'x'))).toBe(EXIT.transient);
    expect(exitCodeFor(new IntegrityError('x', 'x'))).toBe(EXIT.integrity);
    expect(exitCodeFor(new BuildStepError({ buildId: 'b', step: 'test', message: 'm' }))).toBe(EXIT.buildFailed);
    expect(exitCodeFor(new InterruptedError('SIGTERM'))).toBe(EXIT.interrupted);
    expect(exitCodeFor(new Error('x'))).toBe(EXIT.internal);
  });

  it("subclasses keep their parent class's code", () => {
    class UnknownPackageError extends UserInputError {}
    class DockerDownError extends EnvironmentError {}
    expect(exitCodeFor(new UnknownPackageError('package-not-found', 'no such package'))).toBe(2);
    expect(exitCodeFor(new DockerDownError('no-docker', 'down'))).toBe(3);
  });

  it('every exit status in EXIT is documented in the help text', () => {
    for (const code of Object.values(EXIT)) expect(EXIT_CODES_HELP).toMatch(new RegExp(`^  ${code}\\s`, 'm'));
  });
});

describe('the error classes', () => {
  it('carry their code, hint, cause and class name', () => {
    const cause = new Error('root cause');
    const error = new EnvironmentError('no-docker', 'no Docker engine', { hint: 'start Docker', cause });
    expect(error).toBeInstanceOf(WheelfarmError);
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('EnvironmentError');
    expect(error.code).toBe('no-docker');
    expect(error.message).toBe('no Docker engine');
    expect(error.hint).toBe('start Docker');
    expect(error.cause).toBe(cause);
  });

  it('BuildStepError derives its code from the step and keeps the log tail', () => {
    const error = new BuildStepError({
      buildId: 'id',
      step: 'repair',
      message: 'auditwheel failed',
      logTail: ['a', 'b'],
      logPath: '/x.log',
    });
    expect(error.code).toBe('repair-failed');
    expect(error.buildId).toBe('id');
    expect(error.logTail).toEqual(['a', 'b']);
    expect(error.logPath).toBe('/x.log');
    expect(new BuildStepError({ buildId: 'id', step: 'build', message: 'm' }).logTail).toEqual([]);
  });

  it('InterruptedError names the signal', () => {
    const error = new InterruptedError('SIGINT');
    expect(error.code).toBe('interrupted');
    expect(error.message).toContain('SIGINT');
  });

  it('TransientError is retryable', () => {
    expect(new TransientError('http-503', 'x').retryable).toBe(true);
  });
});

describe('exitCodeForFailedCells', () => {
  const diskFull = new EnvironmentError('disk-full', 'no space left');
  const indexDown = new TransientError('index-unavailable', 'the index stayed down');
  const compiler = new BuildStepError({ buildId: 'demo-1.0-cp313-manylinux_2_31_x86_64', step: 'build', message: 'failed' });
  it.each([
    ['one cell, the index disk full', [diskFull], 3],
    ['every cell, the index down', [indexDown, indexDown], 4],
    ['one cell, a compiler error', [compiler], 1],
    ['a full disk and a compiler error', [diskFull, compiler], 1],
    ['a full disk and the index down', [diskFull, indexDown], 1],
    ['an unclassified error (a failed cell, not a crash of the farm)', [new WheelfarmError('oops', 'unclassified')], 1],
    ['a cell without its error', [undefined], 1],
  ])('%s -> %i', (_label, errors, code) => {
    expect(exitCodeForFailedCells(errors)).toBe(code);
  });
});
