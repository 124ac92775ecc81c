import pc from 'picocolors';
import { prepareImageDefinitions } from '../../images/ensure-images.ts';
import type { PreparedDefinitions } from '../../images/ensure-images.ts';
import type { FromSourceImagePlan } from '../../images/from-source-image.ts';
import { recipeImagePlan } from '../../pipeline/prepare-recipe-image.ts';
import { loadAllRecipes } from '../../recipes/load-all-recipes.ts';
import type { ImageInfo } from '../../runtime/container-runtime.ts';
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
    rows.push({ kind: image.kind, tag: image.tag, current: true, present: !!info, ...infoColumns(info) });
  }
  const recipeImages = await currentRecipeImages(settings, { ...definitions, plan });
  for (const image of recipeImages.fromSource) {
    const info = await farm.runtime.inspectImage(image.tag);
    const { name, version, sources } = image.definition;
    const sha256 = info?.labels[LABEL.sourceSha256] ?? sources[0]!.sha256;
    rows.push({
      tag: image.tag,
      source: { name, version, sha256 },
      kind: image.kind,
      current: true,
      present: !!info,
      ...infoColumns(info),
    });
  }
  const wantedTags = new Set([...wanted.map((w) => w.tag), ...recipeImages.fromSource.map((p) => p.tag)]);
  for (const info of await farm.runtime.listImages(`${LABEL.managed}=1`)) {
    for (const tag of info.tags.filter((t) => t.startsWith(`${IMAGE_REPOSITORY}/`) && !wantedTags.has(t))) {
      rows.push({
        ...fromSourceRow(tag, info.labels),
        kind: info.labels[LABEL.imageKind] ?? tag.split(/[/:]/)[1] ?? '?',
        current: recipeImages.recipes.has(tag),
        present: true,
        ...infoColumns(info),
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
        r.kind.padEnd(9),
        r.tag.padEnd(44),
        r.present ? pc.green('present'.padEnd(8)) : pc.yellow('missing'.padEnd(8)),
        r.current ? 'current' : pc.dim('outdated'),
        r.sizeBytes ? pc.dim(`${(r.sizeBytes / 1024 ** 2).toFixed(0)} MB`) : '',
        r.created ? pc.dim(r.created.slice(0, 19).replace('T', ' ')) : '',
        'source' in r && r.source ? pc.dim(`${r.source.name} ${r.source.version}, source sha256 ${r.source.sha256 ?? '?'}`) : '',
      ].join('  '),
    ),
    ...(rows.some((r) => !r.present) ? [pc.dim('build the missing ones with: ./wheelfarm images build')] : []),
  ];
  reporter.result({ type: 'images', images: rows }, text);
  return EXIT.ok;
}

function infoColumns(info: ImageInfo | undefined): { created: string | undefined; sizeBytes: number | undefined } {
  return { created: info?.created.toISOString(), sizeBytes: info?.sizeBytes };
}

/** For a library or toolchain image: what it holds (`geos 3.13.1`) and the sha256 of the source it was built from. */
function fromSourceRow(tag: string, labels: Record<string, string>) {
  const [name, version] = (labels[LABEL.fromSource] ?? '').split(' ');
  if (!name || !version) return { tag };
  return { tag, source: { name, version, sha256: labels[LABEL.sourceSha256] } };
}

/**
 * The recipe images today's recipes build in, and the library and toolchain images under them
 * (those not built yet listed as missing). A recipe that cannot be planned here (its Rust toolchain
 * is missing, say) is left out: `recipes lint` and builds name its problem.
 */
async function currentRecipeImages(
  settings: CommandEnvironment['settings'],
  prepared: PreparedDefinitions,
): Promise<{ recipes: Set<string>; fromSource: FromSourceImagePlan[] }> {
  const { recipes } = await loadAllRecipes(settings.recipesDir);
  const tags = new Set<string>();
  const fromSource = new Map<string, FromSourceImagePlan>();
  for (const recipe of recipes) {
    const plan = await recipeImagePlan(settings, { prepared, buildImage: prepared.plan.build.tag, recipe }).catch(() => undefined);
    if (plan) tags.add(plan.tag);
    for (const image of plan?.fromSource ?? []) fromSource.set(image.tag, image);
  }
  return { recipes: tags, fromSource: [...fromSource.values()] };
}
