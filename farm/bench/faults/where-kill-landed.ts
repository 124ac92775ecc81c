// Where a `kill -9` of `wheelfarm build` landed, read from what the killed run had written when it
// died (its JSON events: stdout is a pipe, written synchronously, so the last event is the last
// thing it announced) and from what the index held right after. A kill aimed at a phase of the cell
// that lands elsewhere (the run had ended, the cell was past that phase or not yet in it) proves
// nothing about the fault: the trial is a miss.
import type { IndexCheck } from './check-index.ts';
import type { FarmExit } from './farm-process.ts';

/** What a kill trial aims at: the cell's build (its set-up and the steps before publishing), or its publish step. */
export type KillAim = 'kill-build' | 'kill-publish';

export interface KillLanding {
  /** Where it landed, e.g. `build step`, `publish: wheel stored, not listed`, `after the end (exit 0)`. */
  hit: string;
  /** Why the kill missed the phase it aimed at; undefined when it landed there. */
  missed: string | undefined;
}

type Phase = 'building' | 'publishing' | 'elsewhere';

const AIMS: Record<KillAim, { phase: Phase; what: string }> = {
  'kill-build': { phase: 'building', what: 'the cell before its publish step' },
  'kill-publish': { phase: 'publishing', what: 'the publish step' },
};

/**
 * Where the kill of the run that ended as `killed` landed, for `fault`: the step it was in (or
 * between) by its events, and within a publish what the index `crashed` held right after. It
 * landed when the run died of the SIGKILL (it was still running) in the phase aimed at.
 */
export function whereKillLanded({
  fault,
  killed,
  crashed,
  project,
}: {
  fault: KillAim;
  killed: FarmExit;
  crashed: IndexCheck;
  project: string;
}): KillLanding {
  const { phase, hit } = phaseOf(killed, crashed, project);
  const aim = AIMS[fault];
  return { hit, missed: phase === aim.phase ? undefined : `aimed at ${aim.what}, the kill landed ${hit}` };
}

function phaseOf(killed: FarmExit, crashed: IndexCheck, project: string): { phase: Phase; hit: string } {
  if (killed.signal !== 'SIGKILL') return { phase: 'elsewhere', hit: `after the end (exit ${killed.exitCode ?? killed.signal})` };
  const last = killed.events.filter((e) => e.type === 'step').at(-1);
  if (killed.events.some((e) => e.type === 'cell')) return { phase: 'elsewhere', hit: 'after the cell ended, before the exit' };
  if (!killed.events.some((e) => e.type === 'planned')) return { phase: 'elsewhere', hit: 'before the cell was planned' };
  if (!last) return { phase: 'building', hit: 'before the first step' };
  if (last.status === 'failed') return { phase: 'elsewhere', hit: `after the ${String(last.step)} step failed` };
  if (last.step !== 'publish') {
    return { phase: 'building', hit: last.status === 'done' ? `after the ${String(last.step)} step` : `${String(last.step)} step` };
  }
  if (last.status === 'done') return { phase: 'elsewhere', hit: 'publish: done, before the record' };
  return { phase: 'publishing', hit: describePublish(crashed, project) };
}

/** How far a publish killed in the middle had got, by what the index held right after. */
function describePublish(crashed: IndexCheck, project: string): string {
  if (crashed.served.some((w) => w.project === project)) {
    return crashed.unlinked.length > 0 ? 'publish: project page written, not the root page' : 'publish: pages written';
  }
  if (crashed.unlinked.length > 0) return 'publish: wheel listed, not linked yet';
  if (crashed.unlistedWheels.length > 0) return 'publish: wheel stored, not listed';
  if (crashed.tempFiles.length > 0) return 'publish: temp files only';
  return 'publish: nothing written yet';
}
