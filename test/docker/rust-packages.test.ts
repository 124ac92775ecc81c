import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { readBuildLog } from '../../farm/src/records/build-log.ts';
import { buildWithRecipes, makeTempDir, packFixture, publishedWheels, runWheelfarm } from './helpers.ts';

/**
 * Rust packages built with no toolchain written anywhere: the farm reads in the sdist that it needs
 * Rust, says so, and the requires step fetches the crates of what the build backend compiles (so the
 * build, with no network, finds them all).
 */
describe('Rust toolchains detected from the sdist', () => {
  it('orjson (crates vendored by source replacement) builds with the shipped recipe, which only tests it', async () => {
    const index = await makeTempDir('index');
    const run = await runWheelfarm(['build', 'orjson==3.13.0', '--python', '3.13', '--index', index, '--json']);
    expect(run.exitCode, run.stderr + run.stdout).toBe(0);
    expect(run.events.find((e) => e.type === 'toolchain-detected')).toMatchObject({
      project: 'orjson',
      version: '3.13.0',
      toolchain: 'rust',
      because: 'build backend maturin',
    });
    const cell = run.events.find((e) => e.type === 'cell');
    expect(cell).toMatchObject({ outcome: 'published' });
    expect(await publishedWheels(index, 'orjson')).toEqual(['orjson-3.13.0-cp313-cp313-manylinux_2_31_x86_64.whl']);
    const log = await readBuildLog(cell!.log as string);
    expect(log).toContain('rust toolchain detected from the sdist (build backend maturin)');
    // From the sdist's root, so its .cargo/config.toml puts include/cargo in place of the crates registry.
    expect(log).toContain('cargo: fetching the crates of Cargo.toml, locked by Cargo.lock');
    expect(log).not.toMatch(/fetching the crates of include\/cargo/);
    expect(log).toContain('orjson 3.13.0 ok');
  });

  it('a maturin build of one workspace member: only that workspace is fetched, not a tool under docs/', async () => {
    const run = await buildRustws(`test:
  command: python -c 'import rustws; assert rustws.add(2, 3) == 5; print("rustws ok")'
`);
    expect(run.exitCode, run.stderr + run.stdout).toBe(0);
    expect(run.events.find((e) => e.type === 'toolchain-detected')).toMatchObject({ project: 'rustws', toolchain: 'rust' });
    const cell = run.events.find((e) => e.type === 'cell');
    expect(cell).toMatchObject({ outcome: 'published' });
    const log = await readBuildLog(cell!.log as string);
    expect(log).toContain('cargo: fetching the crates of src/rust/Cargo.toml, locked by Cargo.lock');
    expect(log).not.toContain('docs/vectors');
    expect(log).not.toContain('wheelfarm-fixture-no-such-crate');
    expect(log).toContain('rustws ok');
  });

  it('a recipe that writes `build.toolchains` says all of it: `{}` gives the maturin build no Rust', async () => {
    const run = await buildRustws('build:\n  toolchains: {}\n  env: { MATURIN_NO_INSTALL_RUST: "1" }\n');
    expect(run.exitCode).not.toBe(0);
    expect(run.events.filter((e) => e.type === 'toolchain-detected')).toEqual([]);
    expect(run.events.find((e) => e.type === 'cell')).toMatchObject({ outcome: 'failed' });
  });
});

/** `wheelfarm build rustws` of the fixture's sdist, with a recipe of its sdist and `rest`. */
async function buildRustws(rest: string) {
  const sdist = await packFixture('rustws', 'rustws', '0.1.0');
  const recipe = `source:\n  url: ${pathToFileURL(sdist.path).href}\n  sha256: ${sdist.sha256}\n${rest}`;
  return buildWithRecipes({ rustws: recipe }, ['rustws']);
}
