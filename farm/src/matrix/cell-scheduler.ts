import { EnvironmentError, interruption, WheelfarmError } from '../errors.ts';
import type { CellResult } from '../pipeline/build-cell.ts';
import { reportCell } from '../pipeline/build-cell.ts';
import { MAX_ENGINE_LOSSES } from '../pipeline/detect-engine-loss.ts';
import type { EmitEvent } from '../pipeline/events.ts';

/** A cell as the scheduler sees it: who it is and how long it is expected to take. */
export interface SchedulableCell {
  buildId: string;
  expectedSeconds: number;
}

/** How one run of a cell on a host ended: with the cell's result, or with its engine gone under it. */
export type CellRunOutcome = { kind: 'done'; result: CellResult } | { kind: 'engine-lost'; reason: string; attempt?: CellResult };

/** The scheduler's effects on the world: the runtime injects real ones, the unit tests fakes. */
export interface SchedulerEffects<C extends SchedulableCell> {
  /** Prepares (sdist, images) and builds one cell on a host; says whether its engine went away under it. */
  runCell(host: string, cell: C): Promise<CellRunOutcome>;
  /** Resolves once the host's engine answers again; rejects with why when it does not in time, or on `signal`. */
  waitForEngine(host: string, signal: AbortSignal): Promise<{ seconds: number }>;
  /** A lost host answers again: what its lost cells (`buildIds`) left there is removed before it takes cells. */
  hostBack(host: string, buildIds: string[]): Promise<void>;
  emit: EmitEvent;
}

export interface ScheduledResult extends CellResult {
  host: string | undefined;
}

export interface ScheduleResult {
  results: ScheduledResult[];
  /** Hosts taken out of the run because their engine stopped answering, with why, and not back by its end. */
  lostHosts: { name: string; reason: string }[];
}

interface HostState {
  name: string;
  slots: number;
  running: number;
  live: boolean;
  /** The wait for its engine, while it is out. */
  returning: Promise<void> | undefined;
  /** The cells whose engine went away under them here: their leftovers go when it is back. */
  lostCells: Set<string>;
  /** Why it did not come back in time. */
  gaveUp: WheelfarmError | undefined;
}

/**
 * Runs cells across hosts: the longest expected first, never more cells on a host than its slots.
 * A host whose engine goes away under a cell is taken out, and the cell runs again from the start
 * on another host, or on this one once its engine answers again (within `engineWaitSeconds`); after
 * `maxEngineLosses` losses the cell counts as failed. Keeps going past failed cells; only an
 * interruption, an unexpected error, or every host gone for good stops it early. The same for one
 * package on the local engine (`build`) and for a matrix across many hosts.
 */
export class CellScheduler<C extends SchedulableCell> {
  readonly #hosts: HostState[];
  readonly #effects: SchedulerEffects<C>;
  readonly #engineWaitSeconds: number;
  readonly #maxEngineLosses: number;
  readonly #signal: AbortSignal;
  readonly #pending: C[] = [];
  readonly #results: ScheduledResult[] = [];
  readonly #losses = new Map<string, number>();
  /** Cells to be run again, with why: their `retry` event goes out when they start again. */
  readonly #retries = new Map<string, string>();
  readonly #waits = new AbortController();
  #lostHosts: { name: string; reason: string }[] = [];
  #running = 0;
  #failure: unknown;
  #end: (() => void) | undefined;

  constructor(
    hosts: { name: string; slots: number }[],
    effects: SchedulerEffects<C>,
    {
      engineWaitSeconds,
      maxEngineLosses = MAX_ENGINE_LOSSES,
      signal,
    }: { engineWaitSeconds: number; maxEngineLosses?: number; signal: AbortSignal },
  ) {
    this.#hosts = hosts.map((h) => ({ ...h, running: 0, live: true, returning: undefined, lostCells: new Set(), gaveUp: undefined }));
    this.#effects = effects;
    this.#engineWaitSeconds = engineWaitSeconds;
    this.#maxEngineLosses = maxEngineLosses;
    this.#signal = signal;
  }

  async run(cells: C[]): Promise<ScheduleResult> {
    this.#enqueue(...cells);
    const finished = new Promise<void>((resolve) => (this.#end = resolve));
    const onAbort = () => this.#waits.abort();
    this.#signal.addEventListener('abort', onAbort, { once: true });
    try {
      this.#dispatch();
      await finished;
    } finally {
      this.#signal.removeEventListener('abort', onAbort);
    }
    if (this.#signal.aborted) throw interruption(this.#signal);
    if (this.#failure !== undefined) throw this.#failure;
    return { results: this.#results, lostHosts: this.#lostHosts };
  }

  /** Whether the host takes cells now (not lost, or back from being lost). */
  isLive(host: string): boolean {
    return this.#hosts.find((h) => h.name === host)?.live ?? false;
  }

  #enqueue(...cells: C[]): void {
    this.#pending.push(...cells);
    this.#pending.sort((a, b) => b.expectedSeconds - a.expectedSeconds);
  }

  #dispatch(): void {
    if (this.#failure !== undefined || this.#signal.aborted) {
      if (this.#running === 0) this.#finish();
      return;
    }
    for (const host of this.#hosts) {
      while (host.live && this.#pending.length > 0 && host.running < host.slots) this.#start(host, this.#pending.shift()!);
    }
    // Cells left and every host out: the run waits while a host may still come back.
    const returning = this.#hosts.some((h) => h.returning !== undefined);
    if (this.#running === 0 && (this.#pending.length === 0 || !returning)) {
      if (this.#pending.length > 0) this.#failure ??= this.#noHostsLeft();
      this.#finish();
    }
  }

  #start(host: HostState, cell: C): void {
    this.#running += 1;
    host.running += 1;
    const reason = this.#retries.get(cell.buildId);
    if (reason !== undefined) {
      this.#retries.delete(cell.buildId);
      this.#effects.emit({ type: 'retry', buildId: cell.buildId, reason, host: host.name });
    }
    this.#effects
      .runCell(host.name, cell)
      .then((outcome) => {
        if (outcome.kind === 'done') this.#results.push({ ...outcome.result, host: host.name });
        else this.#loseHost(host, cell, outcome.reason, outcome.attempt);
      })
      .catch((error: unknown) => {
        this.#failure ??= error;
      })
      .finally(() => {
        this.#running -= 1;
        host.running -= 1;
        this.#dispatch();
      });
  }

  /** The host's engine went away under `cell`: the host is out until it answers again; the cell runs again, or fails after too many losses. */
  #loseHost(host: HostState, cell: C, reason: string, attempt: CellResult | undefined): void {
    host.lostCells.add(cell.buildId);
    if (host.live) {
      host.live = false;
      this.#lostHosts.push({ name: host.name, reason });
      this.#effects.emit({ type: 'host', host: host.name, status: 'lost', reason, waitSeconds: this.#engineWaitSeconds });
      this.#awaitReturn(host);
    }
    const losses = (this.#losses.get(cell.buildId) ?? 0) + 1;
    this.#losses.set(cell.buildId, losses);
    if (losses < this.#maxEngineLosses) {
      this.#retries.set(cell.buildId, reason);
      this.#enqueue(cell);
      return;
    }
    const error = new EnvironmentError(
      'engine-lost-repeatedly',
      `${cell.buildId}: its Docker engine went away under it ${losses} times (last: ${reason})`,
      { hint: 'check the engines of the hosts (their logs: `journalctl -u docker`); the next run tries the cell again' },
    );
    const seconds = attempt?.seconds ?? 0;
    const result = { buildId: cell.buildId, outcome: 'failed' as const, seconds, ...(attempt?.log ? { log: attempt.log } : {}), error };
    reportCell((event) => this.#effects.emit(event.type === 'cell' ? { ...event, host: host.name } : event), result);
    this.#results.push({ ...result, host: host.name });
  }

  /** Waits for a lost host's engine in the background; once it answers (and is cleaned) it takes cells again. */
  #awaitReturn(host: HostState): void {
    const wait = this.#effects
      .waitForEngine(host.name, this.#waits.signal)
      .then(async ({ seconds }) => {
        const cells = [...host.lostCells];
        await this.#effects.hostBack(host.name, cells);
        for (const buildId of cells) host.lostCells.delete(buildId);
        host.live = true;
        this.#lostHosts = this.#lostHosts.filter((h) => h.name !== host.name);
        this.#effects.emit({ type: 'host', host: host.name, status: 'back', seconds: Math.round(seconds * 10) / 10 });
      })
      .catch((error: unknown) => {
        if (this.#waits.signal.aborted) return;
        host.gaveUp =
          error instanceof WheelfarmError
            ? error
            : new EnvironmentError('engine-did-not-come-back', (error as Error).message, { cause: error });
      })
      .finally(() => {
        // (Lost again meanwhile: a newer wait is in its place.)
        if (host.returning === wait) host.returning = undefined;
        this.#dispatch();
      });
    host.returning = wait;
  }

  /** Every host is out and none came back in time: the run ends, naming the engines. */
  #noHostsLeft(): EnvironmentError {
    const notBuilt = `${this.#pending.length} cell(s) were not built`;
    const again = 'start the engines again and run the command again: only what is missing is built';
    const errors = this.#hosts.flatMap((h) => (h.gaveUp ? [h.gaveUp] : []));
    const [only] = errors;
    if (only === undefined)
      return new EnvironmentError('no-hosts-left', `every Docker host stopped answering; ${notBuilt}`, { hint: again });
    if (errors.length === 1)
      return new EnvironmentError(only.code, only.message, { cause: only, hint: `${only.hint ?? again}; ${notBuilt}` });
    const messages = errors.map((e) => e.message).join('; ');
    return new EnvironmentError(
      'engine-did-not-come-back',
      `every Docker host stopped answering and none came back: ${messages}; ${notBuilt}`,
      {
        cause: only,
        hint: again,
      },
    );
  }

  #finish(): void {
    this.#waits.abort();
    this.#end?.();
  }
}
