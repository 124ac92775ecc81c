import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { execa } from 'execa';
import type { ContainerRuntime } from '../runtime/container-runtime.ts';
import { LABEL } from '../runtime/labels.ts';
import { IMAGE_REPOSITORY } from './image-plan.ts';
import { hashImageInputs, shortHash } from './input-hash.ts';
import { findUnfilledPlaceholders, renderTemplate } from './render-template.ts';
import type { FromSourceImagePlan } from './from-source-image.ts';
import { searchPaths } from './from-source-image.ts';
import type { RustProvision } from './rust-toolchain.ts';
import type { PackageManager, ResolvedToolchains } from './toolchains.ts';
import { WheelfarmError } from '../errors.ts';

export interface RecipeImagePlan {
  tag: string;
  inputsHash: string;
  dockerfile: string;
  rust: RustProvision | undefined;
  /** Toolchains, then libraries (dependencies first), built from source: their images, built before this one. */
  fromSource: FromSourceImagePlan[];
}

/**
 * The recipe image for one set of needs, or undefined when the build image already has all of it.
 * Its tag hashes what goes into it (build image, packages, toolchains), not the recipe's name, so
 * recipes with the same needs share one image. Pure.
 */
export function planRecipeImage({
  template,
  buildImage,
  manager,
  toolchains,
  rust,
  userName,
  fromSource = [],
}: {
  template: string;
  buildImage: string;
  manager: PackageManager;
  toolchains: ResolvedToolchains;
  rust: RustProvision | undefined;
  userName: string;
  fromSource?: FromSourceImagePlan[];
}): RecipeImagePlan | undefined {
  if (toolchains.packages.length === 0 && !toolchains.rust && fromSource.length === 0) return undefined;
  const flags = new Set<string>();
  if (toolchains.packages.length > 0) flags.add(manager);
  if (rust) flags.add('rust').add(`rust-${rust.kind}`);
  if (toolchains.java) flags.add('java');
  const built = fromSourceValues(fromSource, flags);
  const dockerfile = renderTemplate(template, {
    flags,
    values: {
      [`${manager}.packages`]: toolchains.packages.join(' '),
      'rust.toolchain': rust?.kind === 'rustup' ? rust.toolchain : '',
      'java.home': toolchains.java?.home ?? '',
      'user.name': userName,
      ...built.values,
    },
    lists: built.lists,
  });
  const unfilled = findUnfilledPlaceholders(dockerfile);
  if (unfilled.length > 0)
    throw new WheelfarmError('bad-image-template', `the recipe image template has unknown placeholders: ${unfilled.join(', ')}`);
  const rustIdentity = rust === undefined ? '' : rust.kind === 'host' ? `host ${rust.versionText}` : `rustup ${rust.toolchain}`;
  const inputsHash = hashImageInputs({ kind: 'recipe', texts: { Dockerfile: dockerfile, buildImage, rust: rustIdentity } });
  return { tag: `${IMAGE_REPOSITORY}/recipe:${shortHash(inputsHash)}`, inputsHash, dockerfile, rust, fromSource };
}

/**
 * The template's values for what is built from source (setting its flags): each prefix copied in,
 * the directories the dynamic linker searches, the libraries' search paths, GCC's prefix.
 */
function fromSourceValues(
  fromSource: FromSourceImagePlan[],
  flags: Set<string>,
): { values: Record<string, string>; lists: Record<string, Record<string, string>[]> } {
  if (fromSource.length === 0) return { values: {}, lists: {} };
  flags.add('from-source');
  const libraries = fromSource.filter((plan) => plan.kind === 'library').map((plan) => plan.prefix);
  const gcc = fromSource.find((plan) => plan.kind === 'toolchain' && plan.definition.name === 'gcc');
  const values: Record<string, string> = {
    'ld.paths': fromSource.map((plan) => (plan.kind === 'library' ? `${plan.prefix}/lib` : `${plan.prefix}/lib64`)).join(' '),
  };
  if (libraries.length > 0) {
    flags.add('libraries');
    const env = searchPaths(libraries);
    delete env.LD_LIBRARY_PATH; // ldconfig's configuration does it, for every process
    values['libraries.env'] = Object.entries(env)
      .map(([name, value]) => `${name}=${value}${name === 'PATH' ? ':$PATH' : ''}`)
      .join(' ');
  }
  if (gcc) {
    flags.add('gcc');
    values['gcc.prefix'] = gcc.prefix;
  }
  return { values, lists: { 'from-source': fromSource.map((plan) => ({ image: plan.tag, prefix: plan.prefix })) } };
}

export async function readRecipeTemplate(imagesDir: string): Promise<string> {
  return readFile(join(imagesDir, 'recipe', 'Dockerfile.tmpl'), 'utf8');
}

/** Build the recipe image if it does not exist yet; returns whether it was built. */
export async function ensureRecipeImage({
  runtime,
  plan,
  buildImage,
  hostCaPath,
  buildArgs,
  workDir,
  onOutput,
  signal,
}: {
  runtime: ContainerRuntime;
  plan: RecipeImagePlan;
  buildImage: string;
  hostCaPath: string | undefined;
  buildArgs: Record<string, string>;
  workDir: string;
  onOutput: (text: string) => void;
  signal?: AbortSignal;
}): Promise<boolean> {
  if (await runtime.inspectImage(plan.tag)) return false;
  const dir = await mkdtemp(join(workDir, 'recipe-context-'));
  try {
    await writeFile(join(dir, 'Dockerfile'), plan.dockerfile);
    if (hostCaPath) await copyFile(hostCaPath, join(dir, 'host-ca.crt'));
    else await writeFile(join(dir, 'host-ca.crt'), '');
    await runtime.buildImage({
      context: packContext(dir, plan.rust),
      tag: plan.tag,
      target: 'recipe',
      buildArgs: {
        ...buildArgs,
        BUILD_IMAGE: buildImage,
        ...(plan.rust?.kind === 'rustup' ? { RUSTUP_INIT_URL: plan.rust.initUrl } : {}),
      },
      labels: { [LABEL.managed]: '1', [LABEL.imageKind]: 'recipe', [LABEL.imageInputs]: plan.inputsHash },
      onOutput,
      ...(signal ? { signal } : {}),
    });
    return true;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * The build context as a tar stream made by GNU tar: the Dockerfile and CA bundle, plus the host's
 * Rust toolchain (without its documentation) under `rust-toolchain/`, streamed, never in memory.
 */
function packContext(dir: string, rust: RustProvision | undefined): Readable {
  const args = ['-c', '-f', '-', '-C', dir, 'Dockerfile', 'host-ca.crt'];
  if (rust?.kind === 'host') args.push('-C', rust.dir, '--exclude=./share', '--transform=s,^\\./,rust-toolchain/,S', '.');
  const tar = execa('tar', args, { buffer: false, stdout: 'pipe' });
  tar.catch(() => undefined);
  return tar.stdout!;
}
