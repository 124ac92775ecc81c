import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { buildWithRecipes, caMount, currentImages, packFixture, runInImage, wheelfarmContainers, publishedWheels } from './helpers.ts';

/**
 * One tiny real package per toolchain (test/fixtures/sdists/*fix, see TOOLCHAIN-FIXTURES.md):
 * built through `wheelfarm build` with a recipe that declares the toolchain, repaired, tested in the
 * runtime image (which has no compiler, no gfortran runtime and no JVM), and installed from the
 * index by pip there.
 */
const cases = [
  {
    name: 'fortfix',
    toolchains: 'fortran: {}',
    check:
      'import fortfix; assert fortfix.dot([1, 2, 3], [4, 5, 6]) == 32.0; assert fortfix.fortran_format(32.0) == "32.000"; print("fortran ok")',
    grafted: [/fortfix\.libs\/libgfortran[^\s]*\.so/, /fortfix\.libs\/libquadmath[^\s]*\.so/],
  },
  {
    name: 'rustfix',
    toolchains: 'rust: { version: ">=1.78" }',
    env: 'env:\n    MATURIN_PEP517_ARGS: "--locked"\n    MATURIN_NO_INSTALL_RUST: "1"\n',
    check: 'import rustfix; assert rustfix.fib(10) == 55; assert rustfix.fib(93) == 12200160415121876738; print("rust ok")',
    grafted: [],
  },
  {
    name: 'javafix',
    toolchains: 'java: { version: ">=11", tools: [] }',
    check:
      'import javafix; from javafix import _native; assert _native.answer() == 42; assert javafix.jar_classes() == ["Hello"]; assert javafix.class_magic("Hello") == 0xCAFEBABE; print("java ok")',
    grafted: [],
  },
];

describe.each(cases)('the $name fixture builds with its toolchain from the recipe', ({ name, toolchains, env, check, grafted }) => {
  it('is built, repaired, tested in the runtime image and installable by pip', async () => {
    const sdist = await packFixture(name, name, '0.1.0');
    const recipe = `source:
  url: ${pathToFileURL(sdist.path).href}
  sha256: ${sdist.sha256}
build:
  toolchains:
    ${toolchains}
  ${env ?? ''}
test:
  command: python -c '${check}'
`;
    const run = await buildWithRecipes({ [name]: recipe }, [name]);
    expect(run.exitCode, run.stderr + run.stdout).toBe(0);
    expect(run.events.find((e) => e.type === 'cell')).toMatchObject({ outcome: 'published' });
    const [wheel] = await publishedWheels(run.index, name);
    expect(wheel).toMatch(new RegExp(`^${name}-0\\.1\\.0-cp313-cp313-.*manylinux_2_31_x86_64.*\\.whl$`));
    const listing = (await execa('python3', ['-m', 'zipfile', '-l', join(run.index, 'files', name, wheel!)])).stdout;
    for (const pattern of grafted) expect(listing).toMatch(pattern);

    const ca = caMount();
    const installed = await runInImage(
      (await currentImages()).runtime,
      [
        'bash',
        '-c',
        `/opt/python/cp313-cp313/bin/python -m venv /tmp/v && /tmp/v/bin/pip install -q --index-url file:///index/simple/ --only-binary :all: ${name} && cd /tmp && /tmp/v/bin/python -c '${check}'`,
      ],
      { binds: [`${run.index}:/index:ro`, ...ca.binds], env: ca.env },
    );
    expect(installed.exitCode, installed.output).toBe(0);
    expect(await wheelfarmContainers(name)).toEqual([]);
  });
});
