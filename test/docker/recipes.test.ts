import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { execa } from 'execa';
import { beforeAll, describe, expect, it } from 'vitest';
import { readBuildLog } from '../../farm/src/records/build-log.ts';
import {
  FIXTURES,
  buildWithRecipes,
  caMount,
  currentImages,
  makeTempDir,
  packFixture,
  runInImage,
  wheelfarmContainers,
  publishedWheels,
} from './helpers.ts';

describe('recipes drive the build', () => {
  let runtimeImage: string;
  let yamlver: { path: string; sha256: string };
  beforeAll(async () => {
    runtimeImage = (await currentImages()).runtime;
    yamlver = await packFixture('yamlver', 'yamlver', '0.1.0');
  });

  const yamlverRecipe = (extra = '') => `source:
  url: ${pathToFileURL(yamlver.path).href}
  sha256: ${yamlver.sha256}
build:
  system:
    apt: [libyaml-dev]
test:
  command: python -c "import yamlver; v = yamlver.libyaml_version(); assert v.startswith('0.'), v; print('libyaml', v)"
${extra}`;

  it('system packages come from the recipe image; the linked library is grafted and the recipe test runs', async () => {
    const run = await buildWithRecipes({ yamlver: yamlverRecipe() }, ['yamlver']);
    expect(run.exitCode, run.stderr + run.stdout).toBe(0);
    expect(run.events.find((e) => e.type === 'image' && e.kind === 'recipe')).toBeDefined();
    const [wheel] = await publishedWheels(run.index, 'yamlver');
    const listing = await execa('python3', ['-m', 'zipfile', '-l', join(run.index, 'files', 'yamlver', wheel!)]);
    expect(listing.stdout).toMatch(/yamlver\.libs\/libyaml-0[^\s]*\.so/);
    const log = String(run.events.find((e) => e.type === 'cell')!.log);
    expect(await readBuildLog(log)).toMatch(/running the recipe's test\.command\n(.*\n)*libyaml 0\.\d+\.\d+/);
    // And pip installs it where libyaml is absent.
    const ca = caMount();
    const check = await runInImage(
      runtimeImage,
      [
        'bash',
        '-c',
        '/opt/python/cp313-cp313/bin/python -m venv /tmp/v && /tmp/v/bin/pip install -q --index-url file:///index/simple/ --only-binary :all: yamlver && cd /tmp && /tmp/v/bin/python -c "import yamlver; print(yamlver.libyaml_version())"',
      ],
      { binds: [`${run.index}:/index:ro`, ...ca.binds], env: ca.env },
    );
    expect(check.exitCode, check.output).toBe(0);
  });

  it('extensions are linked without debug sections unless build.debug-info says keep', async () => {
    const { build } = await currentImages();
    /** The DWARF sections of the wheel's own extension module, listed by readelf in the build image. */
    const debugSections = async (index: string) => {
      const [wheel] = await publishedWheels(index, 'yamlver');
      const script = `import subprocess, sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
so = [n for n in z.namelist() if n.endswith('.so') and '.libs/' not in n]
assert len(so) == 1, so
path = z.extract(so[0], '/tmp/x')
out = subprocess.run(['readelf', '-S', '-W', path], check=True, capture_output=True, text=True).stdout
print('sections:', ' '.join(sorted({w for w in out.split() if w.startswith('.debug')})) or 'none')`;
      const result = await runInImage(build, ['/opt/python/cp313-cp313/bin/python', '-c', script, `/index/files/yamlver/${wheel}`], {
        binds: [`${index}:/index:ro`],
      });
      expect(result.exitCode, result.output).toBe(0);
      return /sections: (.*)/.exec(result.output)![1]!;
    };
    const stripped = await buildWithRecipes({ yamlver: yamlverRecipe() }, ['yamlver']);
    expect(stripped.exitCode, stripped.stderr).toBe(0);
    expect(await debugSections(stripped.index)).toBe('none');
    const kept = await buildWithRecipes({ yamlver: yamlverRecipe().replace('build:\n', 'build:\n  debug-info: keep\n') }, ['yamlver']);
    expect(kept.exitCode, kept.stderr).toBe(0);
    expect(await debugSections(kept.index)).toContain('.debug_info');
  });

  it('repair.exclude keeps a library out of the wheel, and then the clean-room test fails: nothing is published', async () => {
    const run = await buildWithRecipes({ yamlver: yamlverRecipe('repair:\n  exclude: [libyaml-0.so.2]\n') }, ['yamlver']);
    expect(run.exitCode).toBe(1);
    const cell = run.events.find((e) => e.type === 'cell')!;
    expect(cell.outcome).toBe('failed');
    expect(run.events.find((e) => e.type === 'step' && e.status === 'failed')).toMatchObject({ step: 'test' });
    expect(String((cell.error as { logTail: string[] }).logTail.join('\n'))).toMatch(/libyaml-0\.so\.2/);
    expect(existsSync(join(run.index, 'files', 'yamlver'))).toBe(false);
    expect(await wheelfarmContainers('yamlver')).toEqual([]);
  });

  it('source patches are applied in order before the build, whatever their file names (they turn a broken sdist into a working one)', async () => {
    const broken = await packFixture('broken', 'brokenext', '0.1.0');
    const recipe = `source:
  url: ${pathToFileURL(broken.path).href}
  sha256: ${broken.sha256}
  patches: [brokenext-fix.diff]
test:
  command: python -c "import brokenext; assert brokenext.patched() == 'patched by the recipe'"
`;
    const run = await buildWithRecipes({ brokenext: recipe }, ['brokenext'], {
      'brokenext-fix.diff': join(FIXTURES, 'recipes', 'brokenext-fix.patch'),
    });
    expect(run.exitCode, run.stderr + run.stdout).toBe(0);
    expect(await publishedWheels(run.index, 'brokenext')).toHaveLength(1);
  });

  it('a git source at a pinned commit builds, with the version the recipe names', async () => {
    const repo = await makeTempDir('git');
    await execa('cp', ['-r', `${join(FIXTURES, 'sdists', 'yamlver')}/.`, repo]);
    const git = (...args: string[]) => execa('git', ['-c', 'user.name=t', '-c', 'user.email=t@t.invalid', ...args], { cwd: repo });
    await git('init', '-q');
    await git('add', '.');
    await git('commit', '-qm', 'fixture');
    const commit = (await git('rev-parse', 'HEAD')).stdout.trim();
    const recipe = `source:\n  git: ${pathToFileURL(repo).href}\n  commit: ${commit}\n  version: "0.1.0"\nbuild:\n  system:\n    apt: [libyaml-dev]\n`;
    const run = await buildWithRecipes({ yamlver: recipe }, ['yamlver']);
    expect(run.exitCode, run.stderr + run.stdout).toBe(0);
    expect(run.events.find((e) => e.type === 'resolved')).toMatchObject({
      version: '0.1.0',
      upstream: expect.stringContaining(commit.slice(0, 12)),
    });
    expect(await publishedWheels(run.index, 'yamlver')).toEqual([expect.stringMatching(/^yamlver-0\.1\.0-cp313-cp313-/)]);
  });

  it('a bad recipe stops the build before anything runs: exit 2, file, line and field named', async () => {
    const run = await buildWithRecipes({ yamlver: 'build:\n  toolchains:\n    go: {}\n' }, ['yamlver']);
    expect(run.exitCode).toBe(2);
    const error = run.events.find((e) => e.type === 'error')!;
    expect(String(error.message)).toMatch(/yamlver\.yaml:3: `build\.toolchains`/);
    expect(String(error.message)).toMatch(/go/);
    expect(run.events.filter((e) => e.type === 'step')).toEqual([]);
  });
});
