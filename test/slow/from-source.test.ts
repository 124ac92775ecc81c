import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { currentImages, makeTempDir, publishedWheels, runInImage, runWheelfarm } from '../docker/helpers.ts';

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
  { spec: 'pygit2', project: 'pygit2', grafted: [/pygit2\.libs\/libgit2[^\s]*\.so/], libraries: ['libgit2'] },
];

describe.each(cases)('wheelfarm build $spec on libraries built from source (slow)', ({ spec, project, grafted, libraries }) => {
  it('publishes a tested manylinux_2_31 wheel carrying them; the record names each with its source sha256', async () => {
    const index = await makeTempDir('index');
    const run = await runWheelfarm(['build', spec, '--python', '3.13', '--no-deps', '--index', index, '--json']);
    expect(run.exitCode, run.stderr + run.stdout).toBe(0);
    expect(run.events.filter((e) => e.type === 'cell').map((e) => e.outcome)).toEqual(['published']);
    const [wheel] = await publishedWheels(index, project);
    const listing = (await execa('python3', ['-m', 'zipfile', '-l', join(index, 'files', project, wheel!)])).stdout;
    for (const pattern of grafted) expect(listing).toMatch(pattern);
    const { build } = await currentImages();
    const show = await runInImage(build, ['auditwheel', 'show', `/index/files/${project}/${wheel}`], { binds: [`${index}:/index:ro`] });
    expect(show.exitCode, show.output).toBe(0);
    expect(show.output.replace(/\s+/g, ' ')).toMatch(/consistent with the following platform tag: "manylinux_2_31_x86_64"/);
    const status = await runWheelfarm(['status', project, '--json', '--limit', '1']);
    const [record] = status.events.find((e) => e.type === 'status')!.records as { native: { name: string; sha256: string }[] }[];
    expect(record!.native.map((n) => n.name).sort()).toEqual(libraries);
    for (const n of record!.native) expect(n.sha256).toMatch(/^[0-9a-f]{64}$/);
  });
});
