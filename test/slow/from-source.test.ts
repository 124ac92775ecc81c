import { cp, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT, currentImages, makeTempDir, packFixture, publishedWheels, runInImage, runWheelfarm } from '../docker/helpers.ts';

/**
 * The shipped recipes whose libraries are built from pinned source (recipes/libraries/), for real:
 * each builds (its libraries first, once), its recipe test exercises the native code in the runtime
 * image, auditwheel grafts the libraries built from source and keeps the wheel manylinux_2_31, and
 * the build record names every library with the sha256 of its source.
 */
const cases = [
  // lxml 6.2 needs Cython >= 3.3.2, which the index these machines reach does not have yet: its newest
  // release that builds here. The recipe itself has no upper bound.
  {
    spec: 'lxml==6.1.3',
    project: 'lxml',
    grafted: [/lxml\.libs\/libxml2[^\s]*\.so/, /lxml\.libs\/libxslt[^\s]*\.so/, /lxml\.libs\/libexslt[^\s]*\.so/],
    libraries: ['libxml2', 'libxslt'],
  },
  {
    spec: 'shapely',
    project: 'shapely',
    grafted: [/shapely\.libs\/libgeos_c[^\s]*\.so/, /shapely\.libs\/libgeos-[^\s]*\.so/],
    libraries: ['geos'],
  },
  {
    spec: 'pygit2',
    project: 'pygit2',
    grafted: [/pygit2\.libs\/libgit2[^\s]*\.so/, /pygit2\.libs\/libssl[^\s]*\.so\.3/],
    libraries: ['libgit2', 'openssl'],
  },
];

describe.each(cases)('wheelfarm build $spec on libraries built from source (slow)', ({ spec, project, grafted, libraries }) => {
  it('publishes a tested manylinux_2_31 wheel carrying them (auditwheel show: nothing beyond the policy); the record names each with its source sha256', async () => {
    const index = await makeTempDir('index');
    const run = await runWheelfarm(['build', spec, '--python', '3.13', '--no-deps', '--index', index, '--json']);
    expect(run.exitCode, run.stderr + run.stdout).toBe(0);
    expect(run.events.filter((e) => e.type === 'cell').map((e) => e.outcome)).toEqual(['published']);
    const [wheel] = await publishedWheels(index, project);
    expect(wheel).toMatch(/manylinux_2_31_x86_64\.whl$/);
    const listing = (await execa('python3', ['-m', 'zipfile', '-l', join(index, 'files', project, wheel!)])).stdout;
    for (const pattern of grafted) expect(listing).toMatch(pattern);
    const { build } = await currentImages();
    const show = await runInImage(build, ['auditwheel', 'show', `/index/files/${project}/${wheel}`], { binds: [`${index}:/index:ro`] });
    expect(show.exitCode, show.output).toBe(0);
    expect(show.output.replace(/\s+/g, ' ')).toMatch(/consistent with the following platform tag: "manylinux_2_\d+_x86_64"/);
    const status = await runWheelfarm(['status', project, '--json', '--limit', '1']);
    const [record] = status.events.find((e) => e.type === 'status')!.records as { native: { name: string; sha256: string }[] }[];
    expect(record!.native.map((n) => n.name).sort()).toEqual(libraries);
    for (const n of record!.native) expect(n.sha256).toMatch(/^[0-9a-f]{64}$/);
  });
});

/**
 * GCC 14 from source on Fortran: the fortfix fixture (a C extension calling Fortran, linked with
 * `-lgfortran` by the C compiler) built with the gcc toolchain gets GCC 14's libgfortran linked in
 * statically, and the wheel stays manylinux_2_31 and works in the runtime image (no gfortran runtime).
 */
describe('a Fortran extension on GCC 14 from source (slow)', () => {
  it('builds, links libgfortran statically, passes its test and auditwheel show', async () => {
    const sdist = await packFixture('fortfix', 'fortfix', '0.1.0');
    const recipes = await makeTempDir('recipes');
    await cp(join(REPO_ROOT, 'recipes', 'toolchains'), join(recipes, 'toolchains'), { recursive: true });
    const check =
      'import fortfix; assert fortfix.dot([1, 2, 3], [4, 5, 6]) == 32.0; assert fortfix.fortran_format(32.0) == "32.000"; print("fortran ok")';
    await writeFile(
      join(recipes, 'fortfix.yaml'),
      `source:\n  url: ${pathToFileURL(sdist.path).href}\n  sha256: ${sdist.sha256}\nbuild:\n  toolchains:\n    gcc: { version: "14" }\ntest:\n  command: python -c '${check}'\n`,
    );
    const index = await makeTempDir('index');
    const run = await runWheelfarm(['build', 'fortfix', '--python', '3.13', '--index', index, '--json'], {
      env: { WHEELFARM_RECIPES_DIR: recipes },
    });
    expect(run.exitCode, run.stderr + run.stdout).toBe(0);
    const [wheel] = await publishedWheels(index, 'fortfix');
    const listing = (await execa('python3', ['-m', 'zipfile', '-l', join(index, 'files', 'fortfix', wheel!)])).stdout;
    expect(listing).not.toMatch(/libgfortran/);
    const { build } = await currentImages();
    const show = await runInImage(build, ['auditwheel', 'show', `/index/files/fortfix/${wheel}`], { binds: [`${index}:/index:ro`] });
    expect(show.exitCode, show.output).toBe(0);
    expect(show.output.replace(/\s+/g, ' ')).toMatch(/consistent with the following platform tag: "manylinux_2_\d+_x86_64"/);
  });
});
