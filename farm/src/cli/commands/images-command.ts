import pc from 'picocolors';
import { prepareImageDefinitions } from '../../images/ensure-images.ts';
import { effectivePolicy } from '../../images/image-definitions.ts';
import { IMAGE_REPOSITORY } from '../../images/image-plan.ts';
import { applyImageRefresh, readImageRefresh } from '../../images/refresh-images.ts';
import { LABEL } from '../../runtime/labels.ts';
import { prepareImages } from '../../pipeline/prepare-images.ts';
import { EXIT } from '../exit-codes.ts';
import { formatSeconds } from '../reporter.ts';
import { imageDepsOf } from '../../farm.ts';
import type { CommandEnvironment } from '../run-command.ts';

/** `wheelfarm images build [--refresh]`: build what is missing for the current definitions (and refresh them). */
export async function runImagesBuild(
  { farm, reporter }: CommandEnvironment,
  { refresh = false }: { refresh?: boolean } = {},
): Promise<number> {
  const started = performance.now();
  const { plan } = await prepareImages(farm.runtime, imageDepsOf(farm), { refresh });
  const images = [plan.base, plan.build, plan.runtime];
  reporter.result({ type: 'summary', images: images.map(({ kind, tag }) => ({ kind, tag })) }, [
    `images ready in ${formatSeconds((performance.now() - started) / 1000)}: ${images.map((i) => i.tag).join(', ')}`,
  ]);
  return EXIT.ok;
}

/** `wheelfarm images list`: the images the definitions call for, whether each exists, and older ones. */
export async function runImagesList({ farm, settings, reporter }: CommandEnvironment): Promise<number> {
  const definitions = await prepareImageDefinitions(settings.imagesDir);
  const { loaded } = definitions;
  const refresh = await readImageRefresh(settings.home);
  const plan = applyImageRefresh(definitions.plan, refresh);
  const wanted = [plan.base, plan.build, plan.runtime];
  const rows = [];
  for (const image of wanted) {
    const info = await farm.runtime.inspectImage(image.tag);
    rows.push({
      kind: image.kind,
      tag: image.tag,
      current: true,
      present: !!info,
      created: info?.created.toISOString(),
      sizeBytes: info?.sizeBytes,
    });
  }
  const wantedTags = new Set(wanted.map((w) => w.tag));
  for (const info of await farm.runtime.listImages(`${LABEL.managed}=1`)) {
    for (const tag of info.tags.filter((t) => t.startsWith(`${IMAGE_REPOSITORY}/`) && !wantedTags.has(t))) {
      rows.push({
        kind: info.labels[LABEL.imageKind] ?? tag.split(/[/:]/)[1] ?? '?',
        tag,
        current: false,
        present: true,
        created: info.created.toISOString(),
        sizeBytes: info.sizeBytes,
      });
    }
  }
  const text = [
    `definitions: ${loaded.file} (policy ${effectivePolicy(loaded.definitions)}, CPython ${loaded.definitions.pythons.map((p) => p.version).join(', ')})`,
    ...(refresh && plan !== definitions.plan
      ? [`refreshed with the distribution's updates at ${refresh.refreshedAt} (./wheelfarm images build --refresh)`]
      : []),
    ...rows.map((r) =>
      [
        r.kind.padEnd(8),
        r.tag.padEnd(36),
        r.present ? pc.green('present'.padEnd(8)) : pc.yellow('missing'.padEnd(8)),
        r.current ? 'current' : pc.dim('outdated'),
        r.sizeBytes ? pc.dim(`${(r.sizeBytes / 1024 ** 2).toFixed(0)} MB`) : '',
        r.created ? pc.dim(r.created.slice(0, 19).replace('T', ' ')) : '',
      ].join('  '),
    ),
    ...(rows.some((r) => !r.present) ? [pc.dim('build the missing ones with: ./wheelfarm images build')] : []),
  ];
  reporter.result({ type: 'images', images: rows }, text);
  return EXIT.ok;
}
