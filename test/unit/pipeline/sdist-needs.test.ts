import { createHash } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSdistFiles } from '../../../farm/src/archives/read-sdist-files.ts';
import { cargoFetchCommands } from '../../../farm/src/pipeline/cell-scripts.ts';
import { SdistFetcher } from '../../../farm/src/pipeline/sdist-fetcher.ts';
import { ContentCache } from '../../../farm/src/upstream/content-cache.ts';
import { isNeedsText, sdistNeeds } from '../../../farm/src/pipeline/sdist-needs.ts';
import { tempDir, writeTar } from '../archives/archive-fixtures.ts';

/** An sdist's files as sdistNeeds sees them: member paths below the top folder, some with text. */
function files(entries: Record<string, string | null>) {
  const texts = new Map(Object.entries(entries).filter((e): e is [string, string] => e[1] !== null));
  return { members: Object.keys(entries), texts };
}

const MATURIN = '[build-system]\nrequires = ["maturin>=1,<2"]\nbuild-backend = "maturin"\n';

describe('sdistNeeds: the toolchains an sdist calls for', () => {
  it('maturin as the build backend: Rust, the root manifest, its lock and its rust-version (orjson)', () => {
    const needs = sdistNeeds(
      files({
        'pyproject.toml': MATURIN,
        'Cargo.toml': '[package]\nname = "orjson"\nrust-version = "1.95"\n',
        'Cargo.lock': null,
        '.cargo/config.toml': null,
        // Vendored crates (source replacement) are no manifests to fetch.
        'include/cargo/itoap-1.0.1/Cargo.toml': null,
        'src/lib.rs': null,
      }),
    );
    expect(needs).toEqual({
      toolchains: [{ toolchain: 'rust', because: 'build backend maturin', version: '>=1.95.0' }],
      cargo: [{ manifest: 'Cargo.toml', lock: 'Cargo.lock' }],
    });
  });

  it("maturin's manifest-path: that workspace member, the workspace's lock above it; not a tool under docs/ (cryptography)", () => {
    const needs = sdistNeeds(
      files({
        'pyproject.toml': `${MATURIN}[tool.maturin]\nmanifest-path = "./src/rust/Cargo.toml"\n`,
        'Cargo.toml': '[workspace]\nmembers = ["src/rust/"]\n[workspace.package]\nrust-version = "1.83.0"\n',
        'Cargo.lock': null,
        'src/rust/Cargo.toml': null,
        'docs/development/custom-vectors/verify/Cargo.toml': null,
      }),
    );
    expect(needs.toolchains).toEqual([{ toolchain: 'rust', because: 'build backend maturin', version: '>=1.83.0' }]);
    expect(needs.cargo).toEqual([{ manifest: 'src/rust/Cargo.toml', lock: 'Cargo.lock' }]);
  });

  it('setuptools-rust: the ext-modules paths of pyproject.toml, or the RustExtension paths of setup.py', () => {
    const pyproject = `[build-system]\nrequires = ["setuptools", "setuptools_rust>=1.5"]\nbuild-backend = "setuptools.build_meta"\n
[[tool.setuptools-rust.ext-modules]]\ntarget = "pkg._native"\npath = "native/Cargo.toml"\n`;
    const fromPyproject = sdistNeeds(files({ 'pyproject.toml': pyproject, 'native/Cargo.toml': null, 'native/Cargo.lock': null }));
    expect(fromPyproject).toEqual({
      toolchains: [{ toolchain: 'rust', because: 'build requirement setuptools-rust' }],
      cargo: [{ manifest: 'native/Cargo.toml', lock: 'native/Cargo.lock' }],
    });
    const setupPy =
      'from setuptools import setup\nfrom setuptools_rust import RustExtension\nsetup(rust_extensions=[RustExtension("pkg._rust", path="src/rust/Cargo.toml")])\n';
    const fromSetupPy = sdistNeeds(files({ 'setup.py': setupPy, 'src/rust/Cargo.toml': null }));
    expect(fromSetupPy).toEqual({
      toolchains: [{ toolchain: 'rust', because: 'setup.py imports setuptools_rust' }],
      cargo: [{ manifest: 'src/rust/Cargo.toml', lock: undefined }],
    });
  });

  it('a Cargo.toml at the root alone says Rust; a manifest the sdist lacks is not fetched', () => {
    expect(sdistNeeds(files({ 'setup.py': 'setup()', 'Cargo.toml': '[package]\nname = "x"\n' }))).toEqual({
      toolchains: [{ toolchain: 'rust', because: 'a Cargo.toml at the root of the sdist' }],
      cargo: [{ manifest: 'Cargo.toml', lock: undefined }],
    });
    const missing = sdistNeeds(files({ 'pyproject.toml': `${MATURIN}[tool.maturin]\nmanifest-path = "rust/Cargo.toml"\n` }));
    expect(missing.toolchains.map((t) => t.toolchain)).toEqual(['rust']);
    expect(missing.cargo).toEqual([]);
  });

  it('Fortran: sources with a Meson or CMake build that enables Fortran; not test sources, not without such a build', () => {
    const meson = "project('pkg', 'c', 'fortran')\n";
    expect(sdistNeeds(files({ 'meson.build': meson, 'src/dot.f90': null })).toolchains).toEqual([
      { toolchain: 'fortran', because: 'Fortran sources with a Meson build' },
    ]);
    expect(sdistNeeds(files({ 'CMakeLists.txt': 'enable_language(Fortran)\n', 'slicot/MB01PD.f': null })).toolchains).toEqual([
      { toolchain: 'fortran', because: 'Fortran sources with a CMake build' },
    ]);
    // numpy: f2py's test sources and a C/C++ Meson build.
    const numpy = files({ 'meson.build': "project('NumPy', 'c', 'cpp', 'cython')\n", 'numpy/f2py/tests/src/kind/foo.f90': null });
    expect(sdistNeeds(numpy).toolchains).toEqual([]);
    expect(sdistNeeds(files({ 'meson.build': "project('x', 'c')\n", 'src/a.f': null })).toolchains).toEqual([]);
  });

  it('a plain C package, and a pyproject.toml that is no TOML, call for nothing', () => {
    const setuptools = '[build-system]\nrequires = ["setuptools"]\nbuild-backend = "setuptools.build_meta"\n';
    expect(sdistNeeds(files({ 'pyproject.toml': setuptools, 'src/speedups.c': null }))).toEqual({ toolchains: [], cargo: [] });
    expect(sdistNeeds(files({ 'pyproject.toml': '[build-system\nrequires = maturin' }))).toEqual({ toolchains: [], cargo: [] });
  });
});

describe('readSdistFiles: an sdist read as a stream', () => {
  let dir: { dir: string; remove: () => Promise<void> };
  beforeAll(async () => {
    dir = await tempDir();
  });
  afterAll(async () => {
    await dir.remove();
  });

  it('lists the members below the top folder and keeps the text of the wanted top-level files only', async () => {
    const path = writeTar(join(dir.dir, 'pkg-1.0.tar.gz'), [
      { name: 'pkg-1.0', type: 'directory' },
      { name: 'pkg-1.0/pyproject.toml', content: MATURIN },
      { name: 'pkg-1.0/Cargo.toml', content: '[package]\nname = "pkg"\n' },
      { name: 'pkg-1.0/vendor/dep/Cargo.toml', content: '[package]\nname = "dep"\n' },
      { name: 'pkg-1.0/src/lib.rs', content: 'fn main() {}' },
    ]);
    const read = await readSdistFiles(path, isNeedsText);
    expect(read?.members).toEqual(['pyproject.toml', 'Cargo.toml', 'vendor/dep/Cargo.toml', 'src/lib.rs']);
    expect([...(read?.texts.keys() ?? [])]).toEqual(['pyproject.toml', 'Cargo.toml']);
    expect(sdistNeeds(read!).cargo).toEqual([{ manifest: 'Cargo.toml', lock: undefined }]);
  });

  it("SdistFetcher.needs reads an sdist once ever: later runs find its needs kept by the sdist's sha256", async () => {
    const path = writeTar(join(dir.dir, 'rusty-1.0.tar.gz'), [
      { name: 'rusty-1.0/pyproject.toml', content: MATURIN },
      { name: 'rusty-1.0/Cargo.toml', content: '[package]\nname = "rusty"\n' },
    ]);
    const sha256 = createHash('sha256')
      .update(await readFile(path))
      .digest('hex');
    const source = {
      name: 'rusty',
      version: '1.0',
      filename: 'rusty-1.0.tar.gz',
      origin: { kind: 'download' as const, url: pathToFileURL(path).href, sha256 },
      from: 'test',
    };
    const home = join(dir.dir, 'home');
    const fetcher = () =>
      new SdistFetcher({
        home,
        sdists: new ContentCache({ root: join(home, 'cache', 'sdists') }),
        emit: () => undefined,
        signal: new AbortController().signal,
      });
    const expected = {
      toolchains: [{ toolchain: 'rust', because: 'build backend maturin' }],
      cargo: [{ manifest: 'Cargo.toml', lock: undefined }],
    };
    expect(await fetcher().needs(source)).toEqual(expected);
    // Gone from the sdist cache and from its URL: the kept needs answer without a fetch.
    await rm(join(home, 'cache', 'sdists'), { recursive: true });
    await rm(path);
    expect(await fetcher().needs(source)).toEqual(expected);
    await expect(fetcher().fetch(source)).rejects.toThrow();
  });
});

describe('cargoFetchCommands: the requires step fetches the chosen manifests from the sdist root', () => {
  it('with a lock: --locked, and a lock out of date is brought up to date; without one: cargo writes it', () => {
    const script = cargoFetchCommands([
      { manifest: 'src/rust/Cargo.toml', lock: 'Cargo.lock' },
      { manifest: 'other/Cargo.toml', lock: undefined },
    ]);
    expect(script).toContain('cargo fetch --locked --manifest-path src/rust/Cargo.toml');
    expect(script).toContain("grep -q -- '--locked was passed'");
    expect(script).toContain('cargo fetch --manifest-path other/Cargo.toml');
    expect(script).not.toContain('find ');
    expect(cargoFetchCommands([])).toContain('no crates fetched');
  });
});
