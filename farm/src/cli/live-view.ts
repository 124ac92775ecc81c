import { createLogUpdate } from 'log-update';
import pc from 'picocolors';
import type { FarmEvent } from '../pipeline/events.ts';
import type { Reporter } from './reporter.ts';
import { describeEvent, formatSeconds } from './reporter.ts';

const REDRAW_MS = 1000;

/** What the live block shows: the cells running now, how many were planned and finished, an image build's newest line. */
interface LiveState {
  started: number;
  running: Map<string, { step: string; since: number }>;
  planned: number;
  done: { published: number; unchanged: number; skipped: number; failed: number };
  /** The newest line of an image build in progress (a cold image build takes minutes). */
  imageLine: string | undefined;
}

/**
 * For a person at a terminal during long work: finished cells and other news scroll by as usual,
 * and below them a live block shows the cells running now (step and time) and how many are queued.
 * Used only when stderr is a TTY; pipes and CI logs get the plain line-per-event reporter.
 */
export function createLiveReporter(err: NodeJS.WriteStream = process.stderr): Reporter {
  const live = createLogUpdate(err);
  const state: LiveState = {
    started: Date.now(),
    running: new Map(),
    planned: 0,
    done: { published: 0, unchanged: 0, skipped: 0, failed: 0 },
    imageLine: undefined,
  };
  let timer: NodeJS.Timeout | undefined;
  const render = (): void => {
    const text = liveBlock(state, err);
    if (text !== undefined) live(text);
  };
  return {
    event(event: FarmEvent) {
      timer ??= setInterval(render, REDRAW_MS).unref();
      applyEvent(state, event);
      // Step lines would only repeat what the live block shows.
      const text = event.type === 'step' || event.type === 'image-progress' ? undefined : describeEvent(event);
      if (text) {
        live.clear();
        err.write(`${text}\n`);
      }
      render();
    },
    result(_payload, text) {
      clearInterval(timer);
      timer = undefined;
      live.clear();
      for (const line of text) err.write(`${line}\n`);
    },
  };
}

function applyEvent(state: LiveState, event: FarmEvent): void {
  switch (event.type) {
    case 'planned':
      state.planned += event.buildIds.length;
      break;
    case 'step':
      if (event.status === 'started') state.running.set(event.buildId, { step: event.step, since: Date.now() });
      break;
    case 'retry':
      state.running.delete(event.buildId);
      break;
    case 'cell':
      state.running.delete(event.buildId);
      state.done[event.outcome] += 1;
      break;
    case 'image-progress':
      state.imageLine = `  image ${event.kind}: ${event.line}`;
      break;
    case 'image':
      state.imageLine = undefined;
      break;
    default:
      break;
  }
}

/** The live block's text, or undefined when there is nothing to show yet. */
function liveBlock(state: LiveState, err: NodeJS.WriteStream): string | undefined {
  const { done, running } = state;
  const elapsed = formatSeconds((Date.now() - state.started) / 1000);
  if (state.imageLine !== undefined) return pc.dim(`${state.imageLine.slice(0, (err.columns ?? 100) - 1)}  ${elapsed}`);
  if (state.planned === 0 && running.size === 0) return undefined;
  const finished = done.published + done.unchanged + done.skipped + done.failed;
  const counts = Object.entries(done)
    .filter(([, n]) => n > 0)
    .map(([what, n]) => `${n} ${what}`)
    .join(', ');
  const queued = Math.max(0, state.planned - finished - running.size);
  const rows = Math.max(3, (err.rows ?? 24) - 4);
  const cells = [...running.entries()]
    .slice(0, rows)
    .map(([id, { step, since }]) => `  ${pc.cyan('▶')} ${id}  ${step}  ${pc.dim(formatSeconds((Date.now() - since) / 1000))}`);
  const more = running.size > rows ? [pc.dim(`  ... and ${running.size - rows} more`)] : [];
  const headline = `${pc.bold(`${finished}/${state.planned} done`)}${counts ? `: ${counts}` : ''} · ${running.size} running · ${queued} queued · ${elapsed}`;
  return [headline, ...cells, ...more].join('\n');
}
