import { posix } from 'node:path';
import semver from 'semver';
import { parse as parseToml } from 'smol-toml';
import { parsePep508 } from '../applications/pep508-name.ts';
import type { SdistFiles } from '../archives/read-sdist-files.ts';
import { normalizeName } from '../wheels/names.ts';

/** A toolchain the sdist itself says it needs, and what says so (for people: events, logs, --json). */
export interface DetectedToolchain {
  toolchain: 'rust' | 'fortran';
  /** `build backend maturin`, `build requirement setuptools-rust`, `Fortran sources with a Meson build`... */
  because: string;
  /** Rust: the `rust-version` the root Cargo.toml asks for, as a range (`>=1.95`). */
  version?: string;
}

/** A Cargo manifest the build backend compiles, and the Cargo.lock of its workspace when the sdist has one. */
export interface CargoManifest {
  manifest: string;
  lock: string | undefined;
}

/** What the farm learns from an sdist before building it: toolchains, and what `cargo fetch` must fetch. */
export interface SdistNeeds {
  toolchains: DetectedToolchain[];
  cargo: CargoManifest[];
}

export const NO_NEEDS: SdistNeeds = { toolchains: [], cargo: [] };

/** Changes when sdistNeeds decides differently, so that needs kept from before are read again. */
export const NEEDS_VERSION = 'sdist-needs-v1';

const ROOT_TEXTS = new Set(['pyproject.toml', 'setup.py', 'Cargo.toml', 'meson.build', 'CMakeLists.txt']);

/** The sdist files whose text sdistNeeds reads (all at the top of the source tree). */
export function isNeedsText(member: string): boolean {
  return ROOT_TEXTS.has(member);
}

const FORTRAN_SOURCE = /\.(f|for|f77|f90|f95|f03|f08)$/i;
/** Fortran files in these folders are tests, documentation or examples, not what the build compiles. */
const NOT_BUILT = /(^|\/)(tests?|testing|docs?|examples?|benchmarks?)\//i;

/**
 * What an sdist needs, from its members and top-level texts (pure):
 * - Rust when pyproject.toml's build backend is maturin, its build requirements name maturin or
 *   setuptools-rust, setup.py imports setuptools_rust, or a Cargo.toml is at the root; the manifests
 *   to fetch are the ones the backend builds (maturin's `manifest-path`, setuptools-rust's
 *   `ext-modules` paths or setup.py's `RustExtension(path=...)`, else the root Cargo.toml);
 * - Fortran when Fortran sources outside tests and docs come with a root meson.build or
 *   CMakeLists.txt that enables Fortran.
 * A pyproject.toml that is no TOML counts as absent: the build backend will say what is wrong with it.
 */
export function sdistNeeds(files: SdistFiles): SdistNeeds {
  const pyproject = parseTomlOrUndefined(files.texts.get('pyproject.toml'));
  const members = new Set(files.members);
  const rust = rustReason(pyproject, files, members);
  const toolchains: DetectedToolchain[] = [];
  if (rust) {
    const version = rustVersion(parseTomlOrUndefined(files.texts.get('Cargo.toml')));
    toolchains.push({ toolchain: 'rust', because: rust.because, ...(version ? { version } : {}) });
  }
  const fortran = fortranReason(files);
  if (fortran) toolchains.push({ toolchain: 'fortran', because: fortran });
  const manifests = rust ? rustManifests(rust.backend, pyproject, files.texts.get('setup.py')) : [];
  const cargo = manifests.filter((m) => members.has(m)).map((manifest) => ({ manifest, lock: lockOf(manifest, members) }));
  return { toolchains, cargo };
}

type Toml = Record<string, unknown>;
type RustBackend = 'maturin' | 'setuptools-rust' | 'cargo';

function rustReason(
  pyproject: Toml | undefined,
  files: SdistFiles,
  members: Set<string>,
): { because: string; backend: RustBackend } | undefined {
  const system = table(pyproject?.['build-system']);
  const backend = typeof system['build-backend'] === 'string' ? system['build-backend'] : undefined;
  if (backend === 'maturin') return { because: 'build backend maturin', backend: 'maturin' };
  const requires = Array.isArray(system.requires) ? system.requires.filter((r): r is string => typeof r === 'string') : [];
  for (const name of ['maturin', 'setuptools-rust'] as const) {
    if (requires.some((r) => requirementName(r) === name)) return { because: `build requirement ${name}`, backend: name };
  }
  if (/^\s*(from|import)\s+setuptools_rust\b/m.test(files.texts.get('setup.py') ?? '')) {
    return { because: 'setup.py imports setuptools_rust', backend: 'setuptools-rust' };
  }
  if (members.has('Cargo.toml')) return { because: 'a Cargo.toml at the root of the sdist', backend: 'cargo' };
  return undefined;
}

/** The manifests the backend compiles, relative to the sdist's root. */
function rustManifests(backend: RustBackend, pyproject: Toml | undefined, setupPy: string | undefined): string[] {
  const tool = table(pyproject?.tool);
  if (backend === 'maturin') {
    const path = table(tool.maturin)['manifest-path'];
    return [typeof path === 'string' ? normalize(path) : 'Cargo.toml'];
  }
  if (backend === 'setuptools-rust') {
    const modules = table(tool['setuptools-rust'])['ext-modules'];
    const fromPyproject = Array.isArray(modules) ? modules.map((m) => table(m).path ?? 'Cargo.toml') : [];
    const fromSetupPy = [...(setupPy ?? '').matchAll(/RustExtension\s*\([^)]*?\bpath\s*=\s*["']([^"']+)["']/g)].map((m) => m[1]!);
    const paths = [...fromPyproject, ...fromSetupPy].filter((p): p is string => typeof p === 'string');
    return paths.length > 0 ? [...new Set(paths.map(normalize))] : ['Cargo.toml'];
  }
  return ['Cargo.toml'];
}

/** The nearest Cargo.lock at or above the manifest's folder: the lock of its workspace, if the sdist has one. */
function lockOf(manifest: string, members: Set<string>): string | undefined {
  let dir = posix.dirname(manifest);
  for (;;) {
    const lock = dir === '.' ? 'Cargo.lock' : `${dir}/Cargo.lock`;
    if (members.has(lock)) return lock;
    if (dir === '.') return undefined;
    dir = posix.dirname(dir);
  }
}

/** `rust-version = "1.95"` of the root package or workspace, as `>=1.95.0`. */
function rustVersion(cargo: Toml | undefined): string | undefined {
  const declared = table(cargo?.package)['rust-version'] ?? table(table(cargo?.workspace).package)['rust-version'];
  const version = typeof declared === 'string' ? semver.coerce(declared) : null;
  return version ? `>=${version.version}` : undefined;
}

function fortranReason(files: SdistFiles): string | undefined {
  if (!files.members.some((m) => FORTRAN_SOURCE.test(m) && !NOT_BUILT.test(m))) return undefined;
  if (/\bfortran\b/i.test(files.texts.get('meson.build') ?? '')) return 'Fortran sources with a Meson build';
  if (/\bfortran\b/i.test(files.texts.get('CMakeLists.txt') ?? '')) return 'Fortran sources with a CMake build';
  return undefined;
}

function parseTomlOrUndefined(text: string | undefined): Toml | undefined {
  if (text === undefined) return undefined;
  try {
    return parseToml(text) as Toml;
  } catch {
    return undefined;
  }
}

function table(value: unknown): Record<string, unknown> {
  return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

/** The normalized project name of a PEP 508 requirement (`maturin>=1,<2` -> `maturin`); undefined for garbage. */
function requirementName(requirement: string): string | undefined {
  const parsed = parsePep508(requirement.trim());
  return 'name' in parsed ? normalizeName(parsed.name) : undefined;
}

function normalize(path: string): string {
  return posix.normalize(path).replace(/^\.\//, '');
}
