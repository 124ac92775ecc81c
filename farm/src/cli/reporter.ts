import pc from 'picocolors';
import type { FarmEvent } from '../pipeline/events.ts';

export interface Reporter {
  event(event: FarmEvent): void;
  /** A final message of the command's own (summary, error). */
  result(payload: { type: string; [key: string]: unknown }, text: string[]): void;
}

/** `--json`: one JSON object per line on stdout, for machines. */
export function createJsonReporter(out: NodeJS.WritableStream = process.stdout): Reporter {
  const write = (payload: object) => out.write(`${JSON.stringify({ time: new Date().toISOString(), ...payload })}\n`);
  return { event: write, result: (payload) => write(payload) };
}

/** For people at a terminal: each step announced and timed, cibuildwheel-style; progress on stderr. */
export function createTerminalReporter(err: NodeJS.WritableStream = process.stderr): Reporter {
  const line = (text: string) => err.write(`${text}\n`);
  return {
    event(event) {
      const text = describeEvent(event);
      if (text) line(text);
    },
    result(_payload, text) {
      for (const t of text) line(t);
    },
  };
}

export function describeEvent(event: FarmEvent): string | undefined {
  switch (event.type) {
    case 'resolved':
      return `${pc.bold(event.project)} ${event.version}: ${event.sdist} from ${event.upstream}`;
    case 'fetched':
      return pc.dim(event.cached ? `  sdist: in the cache (${event.path})` : `  sdist: downloaded and verified (${event.path})`);
    case 'toolchain-detected':
      return `  ${event.project} ${event.version}: ${TOOLCHAIN_NAMES[event.toolchain]} toolchain detected from the sdist (${event.because})`;
    case 'image':
      if (event.status === 'present') return pc.dim(`  image ${event.kind}: ${event.tag} (up to date)`);
      if (event.status === 'building') return `  image ${event.kind}: building ${event.tag} (log: ${event.log})`;
      return `  image ${event.kind}: built ${event.tag} in ${formatSeconds(event.seconds)}`;
    case 'image-progress':
      return pc.dim(`    ${event.kind}: ${event.line.slice(0, 110)}`);
    case 'planned':
      return [
        ...event.skipped.map((s) => pc.yellow(`  skipping Python ${s.python}: ${s.reason}`)),
        // A matrix can plan a thousand cells: name them only when there are few.
        `  ${event.buildIds.length} cell(s) to build${event.buildIds.length > 0 && event.buildIds.length <= 8 ? `: ${event.buildIds.join(', ')}` : ''}`,
      ].join('\n');
    case 'step':
      if (event.status === 'started') return `${pc.cyan('▶')} ${event.buildId}: ${event.step}`;
      if (event.status === 'done') return `${pc.green('✓')} ${event.buildId}: ${event.step} ${pc.dim(formatSeconds(event.seconds))}`;
      return `${pc.red('✗')} ${event.buildId}: ${event.step} failed after ${formatSeconds(event.seconds)}`;
    case 'cell':
      if (event.outcome === 'skipped') return `${pc.dim('•')} ${event.buildId}: ${event.reason} (${event.wheel})`;
      if (event.outcome === 'failed') {
        const tail = event.error?.logTail?.length ? `\n${event.error.logTail.map((l) => pc.dim(`    | ${l}`)).join('\n')}` : '';
        const message = (event.error?.message ?? 'failed').replace(`${event.buildId}: `, '');
        return `${pc.red('✗')} ${event.buildId}: ${message}${tail}\n    log: ${event.log}`;
      }
      return `${pc.green('✓')} ${event.buildId}: ${event.outcome} ${event.wheel} ${pc.dim(`(${formatSeconds(event.seconds)})`)}`;
    case 'closure':
      return `${pc.bold(event.application)}: closure for Python ${event.pythons.join(', ')}: ${event.build} to build from source, ${event.mirror} pure wheel(s) to mirror ${pc.dim(`(record: ${event.record})`)}`;
    case 'mirror':
      if (event.outcome === 'failed') return `${pc.red('✗')} mirror ${event.filename}: ${event.error?.message ?? 'failed'}`;
      return `${pc.green('✓')} mirror ${event.filename}: ${event.outcome} ${pc.dim(`(${formatSeconds(event.seconds)})`)}`;
    case 'abandoned':
      return pc.dim(
        `  marked ${event.builds} build(s) of dead farm runs abandoned${event.repairedProjects === undefined ? '' : `; rebuilt the index pages of ${event.repairedProjects} project(s) after them`}`,
      );
    case 'settled':
      return pc.dim(`  wrote the index pages that an earlier publish left unwritten: ${event.projects.join(', ')}`);
    case 'swept':
      return pc.dim(`  removed what dead farm runs left behind: ${event.containers} container(s), ${event.volumes} volume(s)`);
    case 'host':
      if (event.status === 'image-copied')
        return pc.dim(`  host ${event.host}: copied ${event.tag} from ${event.from} in ${formatSeconds(event.seconds)}`);
      if (event.status === 'back')
        return `${pc.green('✓')} host ${event.host} answers again after ${formatSeconds(event.seconds)}: back in the run`;
      return `${pc.red('✗')} host ${event.host} lost: ${event.reason}; waiting up to ${formatSeconds(event.waitSeconds)} for it (its cells run again, there or on another host)`;
    case 'retry':
      return `${pc.yellow('↻')} ${event.buildId}: runs again from the start (${event.reason.replace(`${event.buildId}: `, '')})`;
    default:
      return undefined;
  }
}

const TOOLCHAIN_NAMES = { rust: 'Rust', fortran: 'Fortran' } as const;

export function formatSeconds(seconds: number): string {
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  return `${Math.floor(seconds / 60)} min ${Math.round(seconds % 60)} s`;
}
