import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { EnvironmentError, WheelfarmError } from '../errors.ts';
import type { ImagePython } from '../images/image-definitions.ts';
import type { ContainerDeps } from '../pipeline/cell-deps.ts';
import type { EmitEvent } from '../pipeline/events.ts';
import type { BuildUser } from '../pipeline/with-container.ts';
import { WORK, withContainer, withWorkVolume } from '../pipeline/with-container.ts';
import { BuildLog } from '../records/build-log.ts';
import { containerLabels } from '../runtime/labels.ts';
import type { UpstreamForContainers } from '../upstream/upstream-for-containers.ts';
import { RESOLVE_PY } from './resolver-script.ts';

/** What running the resolver uses: a host's engine, what containers get of this machine, the upstream. */
export interface ResolverDeps extends ContainerDeps {
  upstream: Pick<UpstreamForContainers, 'env' | 'watch'>;
  home: string;
  emit: EmitEvent;
}

export interface ResolverJob {
  /** A name for the log: `closure-<application>`. */
  logName: string;
  /** The build image: every target CPython, pip, and compilers for sdists whose metadata must be built. */
  image: string;
  user: BuildUser;
  pythons: ImagePython[];
  /** Files put in the container's work folder (requirements, constraints), by name. */
  files: Record<string, string>;
  /** The job resolver-script.ts reads; paths in it are relative to the work folder. */
  job: Record<string, unknown>;
}

/**
 * Runs the resolver once per target Python, all in one contained container of the build image (the
 * upstream reached as cells reach it: credentials stay on this machine, behind the credential
 * proxy). Returns each Python's answer in `pythons` order; the container's output goes to the log
 * `<home>/logs/<logName>/`.
 */
export async function runResolver(deps: ResolverDeps, job: ResolverJob): Promise<unknown[]> {
  const log = await BuildLog.open({ home: deps.home, buildId: job.logName });
  const staging = join(deps.home, 'staging', `${job.logName}-${process.pid}`);
  await mkdir(staging, { recursive: true });
  try {
    const labels = containerLabels({ buildId: job.logName, step: 'resolve' });
    const env = await deps.upstream.env(deps.host.runtime);
    return await withWorkVolume(deps.host.runtime, job.logName, (work) =>
      withContainer(deps, { image: job.image, labels, env, user: job.user, work, limits: NO_RECIPE_LIMITS }, async (container) => {
        const files = Object.entries({ ...job.files, 'resolve.py': RESOLVE_PY, 'job.json': jsonWithPaths(job.job) });
        const owned = { uid: job.user.uid, gid: job.user.gid, mode: 0o644 };
        await container.putFiles(
          WORK,
          files.map(([name, content]) => ({ name: `in/${name}`, source: { content }, ...owned })),
        );
        const script = resolveScript(job.pythons);
        log.note(`resolving for Python ${job.pythons.map((p) => p.minor).join(', ')} in ${job.image}`);
        const exitCode = await container.exec(['bash', '-c', script], { onOutput: (chunk) => log.write(chunk) });
        if (exitCode !== 0) throw resolverFailed(log, `the resolver container ended with status ${exitCode}`);
        const copied = await container.copyOut(`${WORK}/out`, staging, (name) => name.endsWith('.json'));
        const byName = new Map(copied.map((c) => [c.name, c.path]));
        return Promise.all(job.pythons.map(async (p) => JSON.parse(await readFile(byName.get(`${p.minor}.json`)!, 'utf8')) as unknown));
      }),
    );
  } catch (error) {
    if (error instanceof WheelfarmError) throw error;
    throw resolverFailed(log, (error as Error).message, error);
  } finally {
    await log.close();
  }
}

/** The resolver's container takes the host's limits (no recipe narrows them). */
const NO_RECIPE_LIMITS = { memory: undefined, cpus: undefined, timeout: undefined };

function resolveScript(pythons: ImagePython[]): string {
  const runs = pythons.map(
    (p) =>
      `echo "== Python ${p.minor}"\n/opt/python/${p.dir}/bin/python ${WORK}/in/resolve.py ${WORK}/in/job.json ${WORK}/out/${p.minor}.json`,
  );
  return `set -euo pipefail\nmkdir -p ${WORK}/out ${WORK}/tmp\ncd ${WORK}/in\n${runs.join('\n')}\n`;
}

/** The job, its file names made absolute in the container. */
function jsonWithPaths(job: Record<string, unknown>): string {
  const absolute = Object.fromEntries(
    Object.entries(job).map(([key, value]) => [key, typeof value === 'string' && value.endsWith('.txt') ? `${WORK}/in/${value}` : value]),
  );
  return JSON.stringify(absolute);
}

function resolverFailed(log: BuildLog, reason: string, cause?: unknown): EnvironmentError {
  return new EnvironmentError('resolver-failed', `the resolver could not run: ${reason}`, {
    hint: `read its log: ${log.path}\n${log.tail(8).join('\n')}`,
    ...(cause ? { cause } : {}),
  });
}
