import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { EnvironmentError, WheelfarmError } from '../errors.ts';
import type { FarmContext } from '../farm-context.ts';
import type { PreparedDefinitions } from '../images/ensure-images.ts';
import { ensureRecipeImage, planRecipeImage, readRecipeTemplate } from '../images/recipe-image.ts';
import { resolveRust } from '../images/rust-toolchain.ts';
import { resolveToolchains } from '../images/toolchains.ts';
import type { Recipe } from '../recipes/recipe.ts';

/**
 * prepare (recipe): the image a recipe's cells build in. The build image itself when the recipe
 * needs nothing more; else the recipe image for its packages and toolchains, built once and then
 * reused by every recipe with the same needs.
 */
export async function prepareRecipeImage(
  context: FarmContext,
  { prepared, buildImage, recipe }: { prepared: PreparedDefinitions; buildImage: string; recipe: Recipe },
): Promise<string> {
  const manager = 'upstream' in prepared.loaded.definitions.base ? 'dnf' : 'apt';
  const where = recipe.file ?? `the recipe of ${recipe.name}`;
  const toolchains = resolveToolchains(recipe.build, manager, where);
  const rust = toolchains.rust ? await resolveRust(context.settings.rust, toolchains.rust.version, where) : undefined;
  const plan = planRecipeImage({
    template: await readRecipeTemplate(context.settings.imagesDir),
    buildImage,
    manager,
    toolchains,
    rust,
    userName: prepared.loaded.definitions.user.name,
  });
  if (!plan) return buildImage;
  if (await context.runtime.inspectImage(plan.tag)) {
    context.emit({ type: 'image', kind: 'recipe', tag: plan.tag, status: 'present' });
    return plan.tag;
  }
  const logDir = join(context.settings.home, 'logs', 'images');
  await mkdir(logDir, { recursive: true });
  const log = join(logDir, `recipe-${plan.tag.split(':')[1]}.log`);
  const out = createWriteStream(log, { flags: 'a' });
  context.emit({ type: 'image', kind: 'recipe', tag: plan.tag, status: 'building', log });
  const started = performance.now();
  try {
    await mkdir(join(context.settings.home, 'tmp'), { recursive: true });
    await ensureRecipeImage({
      runtime: context.runtime,
      plan,
      buildImage,
      hostCaPath: context.hostCaPath,
      buildArgs: context.proxyEnv,
      workDir: join(context.settings.home, 'tmp'),
      onOutput: (text) => {
        out.write(text);
        for (const line of text.split('\n')) if (/^Step \d+\/\d+ :/.test(line)) context.emit({ type: 'image-progress', kind: 'recipe', line });
      },
      signal: context.signal,
    });
  } catch (error) {
    if (!(error instanceof WheelfarmError)) throw error;
    throw new EnvironmentError('image-build-failed', `building the recipe image ${plan.tag} for ${where} failed: ${error.message}`, {
      cause: error,
      hint: `${error.hint ? `${error.hint}\n` : ''}check build.system and build.toolchains in ${where}; full log: ${log}`,
    });
  } finally {
    await new Promise((resolve) => out.end(resolve));
  }
  context.emit({ type: 'image', kind: 'recipe', tag: plan.tag, status: 'built', seconds: (performance.now() - started) / 1000 });
  return plan.tag;
}
