import { createLogUpdate } from 'log-update';
import pc from 'picocolors';
import type { FarmEvent } from '../pipeline/events.ts';
import type { Reporter } from './reporter.ts';
import { describeEvent, formatSeconds } from './reporter.ts';

const REDRAW_MS = 1000;

/**
 * For a person at a terminal during long work: finished cells and other news scroll by as usual,
 * and below them a live block shows the cells running now (step and time) and how many are queued.
 * Used only when stderr is a TTY; pipes and CI logs get the plain line-per-event reporter.
 */
export function createLiveReporter(err: NodeJS.WriteStream = process.stderr): Reporter {
  const live = createLogUpdate(err);
  const started = Date.now();
  const running = new Map<string, { step: string; since: number }>();
  let planned = 0;
  const done = { published: 0, unchanged: 0, skipped: 0, failed: 0 };
  let timer: NodeJS.Timeout | undefined;
  /** The newest line of an image build in progress (a cold image build takes minutes). */
  let imageLine: string | undefined;

  const render = (): void => {
    const finished = done.published + done.unchanged + done.skipped + done.failed;
    if (imageLine !== undefined) {
      live(pc.dim(`${imageLine.slice(0, (err.columns ?? 100) - 1)}  ${formatSeconds((Date.now() - started) / 1000)}`));
      return;
    }
    if (planned === 0 && running.size === 0) return;
    const counts = Object.entries(done)
      .filter(([, n]) => n > 0)
      .map(([what, n]) => `${n} ${what}`)
      .join(', ');
    const queued = Math.max(0, planned - finished - running.size);
    const rows = Math.max(3, (err.rows ?? 24) - 4);
    const cells = [...running.entries()]
      .slice(0, rows)
      .map(([id, { step, since }]) => `  ${pc.cyan('▶')} ${id}  ${step}  ${pc.dim(formatSeconds((Date.now() - since) / 1000))}`);
    const more = running.size > rows ? [pc.dim(`  ... and ${running.size - rows} more`)] : [];
    live(
      [
        `${pc.bold(`${finished}/${planned} done`)}${counts ? `: ${counts}` : ''} · ${running.size} running · ${queued} queued · ${formatSeconds((Date.now() - started) / 1000)}`,
        ...cells,
        ...more,
      ].join('\n'),
    );
  };
  const persist = (text: string): void => {
    live.clear();
    err.write(`${text}\n`);
    render();
  };

  return {
    event(event: FarmEvent) {
      timer ??= setInterval(render, REDRAW_MS).unref();
      switch (event.type) {
        case 'planned':
          planned += event.buildIds.length;
          break;
        case 'step':
          if (event.status === 'started') running.set(event.buildId, { step: event.step, since: Date.now() });
          break;
        case 'retry':
          running.delete(event.buildId);
          break;
        case 'cell':
          running.delete(event.buildId);
          done[event.outcome] += 1;
          break;
        case 'image-progress':
          imageLine = `  image ${event.kind}: ${event.line}`;
          break;
        case 'image':
          imageLine = undefined;
          break;
        default:
          break;
      }
      // Step lines would only repeat what the live block shows.
      const text = event.type === 'step' || event.type === 'image-progress' ? undefined : describeEvent(event);
      if (text) persist(text);
      else render();
    },
    result(_payload, text) {
      clearInterval(timer);
      timer = undefined;
      live.clear();
      for (const line of text) err.write(`${line}\n`);
    },
  };
}
