import PQueue from 'p-queue';
import { UserInputError } from '../errors.ts';
import type { FarmContext } from '../farm-context.ts';
import { effectivePolicy, pythonTag } from '../images/image-definitions.ts';
import { pythonDir } from '../images/render-dockerfile.ts';
import { formatBuildId } from '../wheels/build-id.ts';
import { selectPythons } from '../wheels/select-pythons.ts';
import type { CellResult } from './build-cell.ts';
import { buildCell } from './build-cell.ts';
import type { CellPlan } from './cell-plan.ts';
import type { PackageSpec } from './parse-package-spec.ts';
import { prepareImages } from './prepare-images.ts';
import { fetchSource, resolveSource } from './resolve-source.ts';

/**
 * `wheelfarm build NAME[==VERSION]`: resolve -> fetch -> prepare images -> one cell per selected
 * Python, `jobs` at a time.
 */
export async function buildPackage(
  context: FarmContext,
  { spec, pythons, jobs }: { spec: PackageSpec; pythons?: string[]; jobs: number },
): Promise<CellResult[]> {
  const sdist = await resolveSource(context, spec);
  const sdistPath = await fetchSource(context, sdist);
  const { plan: images, prepared } = await prepareImages(context);
  const { definitions } = prepared.loaded;
  const available = new Map(definitions.pythons.map((p) => [p.version.split('.').slice(0, 2).join('.'), p]));
  const requested = pythons ?? [...available.keys()];
  const unknown = requested.filter((p) => !available.has(p));
  if (unknown.length > 0) {
    throw new UserInputError('python-not-in-image', `the build image has no Python ${unknown.join(', ')}`, {
      hint: `choose from ${[...available.keys()].join(', ')}, or add a CPython to ${prepared.loaded.file}`,
    });
  }
  const selection = selectPythons({ requested, ...(sdist.requiresPython ? { requiresPython: sdist.requiresPython } : {}) });
  const upstream = await context.upstreamIndex();
  const plans: CellPlan[] = selection.selected.map((python) => {
    const source = available.get(python)!;
    const cell = { name: sdist.name, version: sdist.version, python: pythonTag(source), platform: effectivePolicy(definitions) };
    return {
      cell,
      buildId: formatBuildId(cell),
      pythonDir: pythonDir(source),
      sdist: { filename: sdist.filename, path: sdistPath, ...(sdist.requiresPython ? { requiresPython: sdist.requiresPython } : {}) },
      images: { build: images.build.tag, runtime: images.runtime.tag },
      user: definitions.user,
      upstreamIndexUrl: upstream.url,
    };
  });
  context.emit({ type: 'planned', buildIds: plans.map((p) => p.buildId), skipped: selection.skipped });
  const queue = new PQueue({ concurrency: jobs });
  // allSettled: on Ctrl-C every cell must finish removing its containers before we report.
  const settled = await Promise.allSettled(plans.map((plan) => queue.add(() => buildCell(context, plan)) as Promise<CellResult>));
  const rejected = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (rejected) throw rejected.reason;
  return settled.map((s) => (s as PromiseFulfilledResult<CellResult>).value);
}
