import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { WheelfarmError } from '../errors.ts';
import type { LibraryBuild, LibraryDefinition } from '../recipes/libraries/library-definition.ts';
import type { DefinitionKind } from '../recipes/libraries/load-libraries.ts';
import { IMAGE_REPOSITORY } from './image-plan.ts';
import { hashImageInputs, shortHash } from './input-hash.ts';
import { findUnfilledPlaceholders, renderTemplate } from './render-template.ts';
import type { PackageManager } from './toolchains.ts';

/** One library or toolchain image: built from its definition's source into `prefix`, on the base image. */
export interface FromSourceImagePlan {
  kind: DefinitionKind;
  definition: LibraryDefinition;
  /** `wheelfarm/library-geos:3.13.1-<16 hex>`: the version to read, the input hash to rebuild by. */
  tag: string;
  inputsHash: string;
  /** `/opt/wheelfarm/libraries/geos-3.13.1`: where it is installed here and in every recipe image. */
  prefix: string;
  dockerfile: string;
  buildScript: string;
  /** The file name the source goes by in the build context (`source/<name>`), whichever URL served it. */
  sourceName: string;
}

/** Tools every build from source gets, beside the definition's own `system` packages. */
const BUILD_TOOLS: Record<PackageManager, string[]> = {
  apt: ['bzip2', 'ca-certificates', 'file', 'g++', 'gcc', 'libc6-dev', 'make', 'pkg-config', 'xz-utils'],
  dnf: ['bzip2', 'file', 'gcc', 'gcc-c++', 'make', 'pkgconfig', 'xz'],
};

/** What each build system needs installed, beside the compilers. */
const BUILD_SYSTEM_TOOLS: Record<LibraryBuild['kind'], Record<PackageManager, string[]>> = {
  autotools: { apt: [], dnf: [] },
  cmake: { apt: ['cmake'], dnf: ['cmake'] },
  meson: { apt: ['meson', 'ninja-build'], dnf: ['meson', 'ninja-build'] },
  script: { apt: [], dnf: [] },
};

export function fromSourcePrefix(kind: DefinitionKind, definition: Pick<LibraryDefinition, 'name' | 'version'>): string {
  return `/opt/wheelfarm/${kind === 'library' ? 'libraries' : 'toolchains'}/${definition.name}-${definition.version}`;
}

export async function readFromSourceTemplate(imagesDir: string): Promise<string> {
  return readFile(join(imagesDir, 'from-source', 'Dockerfile.tmpl'), 'utf8');
}

/**
 * The image of one definition, given the plans of the libraries it depends on (planned before it).
 * Its tag hashes the rendered Dockerfile (which names the base and the dependencies' images) and the
 * build script (which names the sources' sha256 and every build step). Pure.
 */
export function planFromSourceImage({
  template,
  kind,
  definition,
  baseImage,
  manager,
  dependencies,
}: {
  template: string;
  kind: DefinitionKind;
  definition: LibraryDefinition;
  baseImage: string;
  manager: PackageManager;
  dependencies: FromSourceImagePlan[];
}): FromSourceImagePlan {
  const prefix = fromSourcePrefix(kind, definition);
  const sourceName = `${definition.name}-${definition.version}-source`;
  const packages = new Set([...BUILD_TOOLS[manager], ...BUILD_SYSTEM_TOOLS[definition.build.kind][manager], ...definition.system[manager]]);
  const dockerfile = renderTemplate(template, {
    flags: new Set([manager]),
    values: { [`${manager}.packages`]: [...packages].sort().join(' ') },
    lists: { dependencies: dependencies.map((dependency) => ({ image: dependency.tag, prefix: dependency.prefix })) },
  });
  const unfilled = findUnfilledPlaceholders(dockerfile);
  if (unfilled.length > 0) {
    throw new WheelfarmError('bad-image-template', `images/from-source/Dockerfile.tmpl has unknown placeholders: ${unfilled.join(', ')}`);
  }
  const buildScript = renderBuildScript({ kind, definition, prefix, sourceName, dependencyPrefixes: dependencies.map((d) => d.prefix) });
  const inputsHash = hashImageInputs({ kind, texts: { Dockerfile: dockerfile, 'build.sh': buildScript, baseImage } });
  const tag = `${IMAGE_REPOSITORY}/${kind}-${definition.name}:${definition.version}-${shortHash(inputsHash)}`;
  return { kind, definition, tag, inputsHash, prefix, dockerfile, buildScript, sourceName };
}

/**
 * The shell script that builds a definition: the prefix, source and job count exported, the
 * dependencies' paths (searchPaths), the source unpacked (one top directory stripped) and entered,
 * then the build system's commands.
 */
export function renderBuildScript({
  kind,
  definition,
  prefix,
  sourceName,
  dependencyPrefixes,
}: {
  kind: DefinitionKind;
  definition: LibraryDefinition;
  prefix: string;
  sourceName: string;
  dependencyPrefixes: string[];
}): string {
  const shas = [...new Set(definition.sources.map((source) => source.sha256))].join(', ');
  const env = searchPaths(dependencyPrefixes);
  return [
    '#!/bin/sh',
    `# wheelfarm: ${kind} ${definition.name} ${definition.version}, source sha256 ${shas}`,
    'set -eu',
    `export PREFIX=${prefix}`,
    `export SOURCE=/tmp/wheelfarm/source/${sourceName}`,
    'export SRC=/tmp/wheelfarm/src',
    'export JOBS="$(nproc)"',
    ...Object.entries(env).map(([name, value]) => `export ${name}="${value}${name === 'PATH' ? ':$PATH' : ''}"`),
    'mkdir -p "$SRC"',
    'tar -xf "$SOURCE" -C "$SRC" --strip-components=1',
    'cd "$SRC"',
    buildCommands(definition.build),
  ].join('\n');
}

function buildCommands(build: LibraryBuild): string {
  switch (build.kind) {
    case 'autotools':
      return lines(`./configure --prefix="$PREFIX" --libdir="$PREFIX/lib"${quoted(build.configureArgs)}`, 'make -j"$JOBS"', 'make install');
    case 'cmake':
      return lines(
        `cmake -S . -B wheelfarm-build -DCMAKE_INSTALL_PREFIX="$PREFIX" -DCMAKE_INSTALL_LIBDIR=lib${quoted(build.args)}`,
        'cmake --build wheelfarm-build -j "$JOBS"',
        'cmake --install wheelfarm-build',
      );
    case 'meson':
      return lines(
        `meson setup wheelfarm-build --prefix="$PREFIX" --libdir=lib${quoted(build.args)}`,
        'ninja -C wheelfarm-build -j "$JOBS"',
        'ninja -C wheelfarm-build install',
      );
    case 'script':
      return build.script.endsWith('\n') ? build.script : `${build.script}\n`;
  }
}

function lines(...commands: string[]): string {
  return `${commands.join('\n')}\n`;
}

/** ` 'a' 'b'`: each argument single-quoted for sh. */
function quoted(args: string[]): string {
  return args.map((arg) => ` '${arg.replaceAll("'", "'\\''")}'`).join('');
}

/**
 * Where compilers, pkg-config, CMake and the dynamic linker look for libraries installed under
 * `prefixes`, as environment variables (PATH without the `:$PATH` the caller adds). Each prefix
 * installs its libraries into `lib` (the build systems are told so).
 */
export function searchPaths(prefixes: string[]): Record<string, string> {
  if (prefixes.length === 0) return {};
  const each = (suffix: string) => prefixes.map((prefix) => `${prefix}${suffix}`).join(':');
  return {
    PKG_CONFIG_PATH: prefixes.flatMap((prefix) => [`${prefix}/lib/pkgconfig`, `${prefix}/share/pkgconfig`]).join(':'),
    CMAKE_PREFIX_PATH: each(''),
    CPATH: each('/include'),
    LIBRARY_PATH: each('/lib'),
    LD_LIBRARY_PATH: each('/lib'),
    PATH: each('/bin'),
  };
}
