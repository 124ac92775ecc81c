// The index-down fault: `wheelfarm build` of the netfix cell publishing to a real S3 index
// (faulty-s3.ts) whose endpoint fails under it, in one of several ways (the variants). Faults it
// can ride out must cost it nothing but time; a lasting one must stop it with the documented exit
// status and an error that names the index, leaving nothing half-published; once the endpoint is
// back, the next run must publish.
import { setTimeout as sleep } from 'node:timers/promises';
import { EXIT } from '../../src/cli/exit-codes.ts';
import { s3ErrorFault } from '../../../test/support/fault-proxy.ts';
import type { FaultProxy, FaultRule } from '../../../test/support/fault-proxy.ts';
import { findLeftovers } from './check-leftovers.ts';
import { FarmProcess } from './farm-process.ts';
import type { FarmExit } from './farm-process.ts';
import { addOrphans, checkFailedRun, checkRecovery, describeExit, expectPublishedOnce, seedIndex } from './fault-trials.ts';
import type { NetfixFarm, TrialOutcome } from './fault-trials.ts';
import type { FaultyS3 } from './faulty-s3.ts';
import { whyIndexFaultMissed } from './why-index-fault-missed.ts';

const WHEEL = /\/files\/netfix\/[^/]+\.whl$/;
const PROJECT_PAGE = /\/simple\/netfix\/index\.html$/;

interface IndexFault {
  /** What the proxy plays instead of forwarding (FaultProxy.inject), for the whole run. */
  rules: FaultRule[];
  /**
   * The endpoint goes down for good (the proxy refuses connections): from the start, or once the
   * proxy holds a PUT of a path that matches (a hang, so the run is caught in the middle of it).
   */
  down?: 'from the start' | RegExp;
}

/** The variants, in the order trials cycle through them. */
export const INDEX_DOWN_VARIANTS = {
  '503 + Retry-After on the first 2 PUTs': { rules: [{ method: 'PUT', times: 2, fault: s3ErrorFault(503, 'SlowDown', '1') }] },
  '500 on a PUT of each kind': {
    rules: [WHEEL, /\.whl\.metadata$/, /\/\.wheelfarm\/projects\/netfix\.json$/, /\/simple\//].map((path) => ({
      method: 'PUT',
      path,
      times: 1,
      fault: s3ErrorFault(500, 'InternalError'),
    })),
  },
  'hang on the wheel PUT': { rules: [{ method: 'PUT', path: WHEEL, times: 1, fault: { hang: true } }] },
  'down from the start': { rules: [], down: 'from the start' },
  'down at the wheel PUT': { rules: [{ method: 'PUT', path: WHEEL, fault: { hang: true } }], down: WHEEL },
  'down at the project page PUT': { rules: [{ method: 'PUT', path: PROJECT_PAGE, fault: { hang: true } }], down: PROJECT_PAGE },
} satisfies Record<string, IndexFault>;

export type IndexDownVariant = keyof typeof INDEX_DOWN_VARIANTS;

/**
 * One run of the cell into a fresh prefix of `s3` (seeded with another project's wheel) while the
 * proxy plays `variant`. A transient fault: the run succeeds, and the index is checked strictly
 * (pages, manifests, pip download straight from the server, one published record). A lasting one:
 * the run fails with exit status 4 and an error naming the index; the index still serves what it
 * served and nothing wrong; then the endpoint comes back and the next run must publish, checked
 * the same strict way. No container or volume of either run may be left. Returns the runs' exits too.
 */
export async function runIndexDownTrial(
  farm: NetfixFarm,
  { s3, variant, prefix, dir }: { s3: FaultyS3; variant: IndexDownVariant; prefix: string; dir: string },
): Promise<TrialOutcome & { exits: FarmExit[] }> {
  const started = performance.now();
  const outcome: TrialOutcome = { fault: 'index-down', seconds: 0, hit: variant, detail: '', corrupt: [], orphans: [], debris: [] };
  const fault: IndexFault = INDEX_DOWN_VARIANTS[variant];
  const index = s3.index(prefix, dir);
  const before = await seedIndex(index, farm.dir);
  s3.proxy.seen.splice(0);
  for (const rule of fault.rules) s3.proxy.inject(rule);
  if (fault.down === 'from the start') await s3.proxy.refuseConnections();
  const run = new FarmProcess(farm.buildArgs(index.target), { env: farm.env });
  const wentDown = fault.down instanceof RegExp ? await goDownAt(s3.proxy, fault.down, run) : fault.down !== undefined;
  const exit = await run.done;
  outcome.missed = whyIndexFaultMissed({ down: fault.down, exit, seen: s3.proxy.seen, wentDown });
  await s3.heal();
  const pids = [run.pid];
  const exits = [exit];
  outcome.detail = describeFaults(s3.proxy, exit);
  if (fault.down) {
    const names = (error: { message: string }) =>
      error.message.includes(`s3://${s3.bucket}/${prefix}`) && error.message.includes(s3.proxy.url);
    await checkFailedRun({ exit, index, before, status: EXIT.transient, explains: names, outcome });
    const next = new FarmProcess(farm.buildArgs(index.target), { env: farm.env });
    pids.push(next.pid);
    exits.push(await next.done);
    expectPublishedOnce((await checkRecovery(farm, { index, pip: true, exit: exits[1]!, outcome })).records, outcome);
  } else {
    expectPublishedOnce(
      (await checkRecovery(farm, { index, pip: true, exit, outcome, which: 'the run under the fault' })).records,
      outcome,
    );
  }
  addOrphans(outcome, 'after the runs', await findLeftovers({ runtime: farm.runtime, pids }));
  outcome.seconds = (performance.now() - started) / 1000;
  return { ...outcome, exits };
}

/**
 * Refuses connections once the proxy holds a request whose path matches (the rules hang it), unless
 * the run ends first. Whether it went down while the run still ran.
 */
async function goDownAt(proxy: FaultProxy, path: RegExp, run: FarmProcess): Promise<boolean> {
  let ended = false;
  void run.done.then(() => (ended = true));
  while (!ended && !proxy.seen.some((seen) => seen.action === 'hang' && path.test(seen.path))) await sleep(20);
  if (ended) return false;
  await proxy.refuseConnections();
  return true;
}

/** What the proxy played, e.g. `PUT .../netfix-0.1.0-py3-none-any.whl: 503 x2`, and how the run ended. */
function describeFaults(proxy: FaultProxy, exit: FarmExit): string {
  const played = new Map<string, number>();
  for (const seen of proxy.seen.filter((each) => each.action !== 'forwarded')) {
    const what = `${seen.method} .../${seen.path.split('/').slice(-2).join('/')}: ${seen.action === 'status' ? String(seen.status) : seen.action}`;
    played.set(what, (played.get(what) ?? 0) + 1);
  }
  const faults = [...played].map(([what, n]) => `${what} x${n}`).join(', ') || 'connections refused';
  return `${faults}; ${describeExit(exit)}`;
}
