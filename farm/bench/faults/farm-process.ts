// `./wheelfarm ... --json` as a child process whose events can be awaited one by one: what fault
// trials need to strike at a chosen moment (a step starting, a cell ending).
import { join, resolve } from 'node:path';
import { execa } from 'execa';
import type { ResultPromise } from 'execa';

const ROOT = resolve(import.meta.dirname, '..', '..', '..');

const CHILD_OPTIONS = { cwd: ROOT, reject: false, stdin: 'ignore', buffer: { stdout: false, stderr: true } } as const;

export type FarmEventLine = Record<string, unknown> & { type: string; time: string };

export interface FarmExit {
  exitCode: number | undefined;
  signal: string | undefined;
  events: FarmEventLine[];
  stderr: string;
}

export class FarmProcess {
  readonly pid: number;
  readonly events: FarmEventLine[] = [];
  /** Settles when the process has ended, whatever its exit. */
  readonly done: Promise<FarmExit>;
  readonly #child: ResultPromise<typeof CHILD_OPTIONS>;
  readonly #waiters = new Set<{ matches: (event: FarmEventLine) => boolean; resolve: (event: FarmEventLine) => void }>();

  /** Starts `./wheelfarm <args>` (add `--json`) from the repository root, `env` over this process's. */
  constructor(args: string[], { env = {} }: { env?: Record<string, string> } = {}) {
    this.#child = execa(join(ROOT, 'wheelfarm'), args, { ...CHILD_OPTIONS, env });
    this.pid = this.#child.pid!;
    let pending = '';
    this.#child.stdout.setEncoding('utf8');
    this.#child.stdout.on('data', (chunk: string) => {
      pending += chunk;
      for (let newline = pending.indexOf('\n'); newline >= 0; newline = pending.indexOf('\n')) {
        const line = pending.slice(0, newline);
        pending = pending.slice(newline + 1);
        if (line.startsWith('{')) this.#take(JSON.parse(line) as FarmEventLine);
      }
    });
    this.done = this.#child.then((result) => ({
      exitCode: result.exitCode,
      signal: result.signal,
      events: this.events,
      stderr: String(result.stderr ?? ''),
    }));
  }

  /** The first event (already seen or still to come) that `matches`; rejects if the process ends without one. */
  event(matches: (event: FarmEventLine) => boolean): Promise<FarmEventLine> {
    const seen = this.events.find(matches);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolvePromise, reject) => {
      const waiter = { matches, resolve: resolvePromise };
      this.#waiters.add(waiter);
      void this.done.then((exit) => {
        if (!this.#waiters.delete(waiter)) return;
        const last = JSON.stringify(exit.events.at(-1) ?? null);
        reject(
          new Error(
            `wheelfarm ended (exit ${exit.exitCode ?? exit.signal}) before the awaited event; its last event: ${last}; its stderr:\n${exit.stderr.slice(-2000)}`,
          ),
        );
      });
    });
  }

  kill(signal: NodeJS.Signals): void {
    this.#child.kill(signal);
  }

  #take(event: FarmEventLine): void {
    this.events.push(event);
    for (const waiter of this.#waiters) {
      if (!waiter.matches(event)) continue;
      this.#waiters.delete(waiter);
      waiter.resolve(event);
    }
  }
}

/** Matches the `step` event of `step` reaching `status` (any cell). */
export function stepEvent(step: string, status: 'started' | 'done' | 'failed'): (event: FarmEventLine) => boolean {
  return (event) => event.type === 'step' && event.step === step && event.status === status;
}
