// How long `wheelfarm matrix plan` takes when every cell is built: R recipes x V versions x the
// build image's Pythons, against a local PEP 691 upstream (served here) and a directory index
// holding every wheel, with a build record per cell. Run by scripts/bench-plan.sh:
//   node farm/bench/plan-matrix.ts [RECIPES] [VERSIONS] [RUNS]
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { execa } from 'execa';
import { prepareImageDefinitions } from '../src/images/ensure-images.ts';
import { effectivePolicy, pythonTag } from '../src/images/image-definitions.ts';
import { LocalDirPublisher } from '../src/index/local-dir-publisher.ts';
import { indexIdentity } from '../src/index/parse-index-target.ts';
import { recipeHash } from '../src/pipeline/build-inputs.ts';
import { SqliteBuildRecords } from '../src/records/sqlite-build-records.ts';
import { loadRecipe } from '../src/recipes/load-recipe.ts';
import { formatBuildId } from '../src/wheels/build-id.ts';

const WHEEL_SCRIPT = `
import sys, zipfile, base64, hashlib
import json
for path, name, version in json.load(sys.stdin):
    dist = f"{name}-{version}.dist-info"
    files = {f"{name}/__init__.py": "", f"{dist}/METADATA": f"Metadata-Version: 2.1\\nName: {name}\\nVersion: {version}\\n", f"{dist}/WHEEL": "Wheel-Version: 1.0\\nRoot-Is-Purelib: false\\n"}
    rec = "".join(f"{p},sha256={base64.urlsafe_b64encode(hashlib.sha256(c.encode()).digest()).rstrip(b'=').decode()},{len(c)}\\n" for p, c in files.items())
    with zipfile.ZipFile(path, "w") as z:
        for p, c in files.items(): z.writestr(p, c)
        z.writestr(f"{dist}/RECORD", rec + f"{dist}/RECORD,,\\n")
`;

const [recipeCount = 50, versionCount = 5, runs = 5] = process.argv.slice(2).map(Number);
const ROOT = resolve(import.meta.dirname, '..', '..');
const work = await mkdtemp(join(tmpdir(), 'wheelfarm-bench-plan-'));
const sha = (bytes: string | Buffer) => createHash('sha256').update(bytes).digest('hex');
const names = Array.from({ length: recipeCount }, (_, i) => `benchpkg${i}`);
const versions = Array.from({ length: versionCount }, (_, i) => `1.${i}.0`);

// A tiny real sdist per release: the first plan reads each one for its needs (toolchains), later
// plans find those needs kept by the sdist's sha256 and fetch nothing.
const sdists = new Map<string, Buffer>();
for (const name of names) {
  for (const v of versions) {
    const tree = join(work, 'sdist-trees', `${name}-${v}`);
    await mkdir(tree, { recursive: true });
    await writeFile(join(tree, 'pyproject.toml'), '[build-system]\nrequires = ["setuptools"]\nbuild-backend = "setuptools.build_meta"\n');
    sdists.set(
      `${name}-${v}.tar.gz`,
      Buffer.from((await execa('tar', ['-cz', '-C', join(tree, '..'), `${name}-${v}`], { encoding: 'buffer' })).stdout),
    );
  }
}
const sdistSha = (name: string, v: string) => sha(sdists.get(`${name}-${v}.tar.gz`)!);

// The upstream: one PEP 691 page per project, an sdist per version.
const server = createServer((request, response) => {
  const file = /^\/files\/([^/]+)$/.exec(request.url ?? '')?.[1];
  if (file && sdists.has(file)) return void response.writeHead(200).end(sdists.get(file));
  const name = /^\/simple\/([^/]+)\/$/.exec(request.url ?? '')?.[1];
  if (!name || !names.includes(name)) return void response.writeHead(404).end();
  const files = versions.map((v) => ({
    filename: `${name}-${v}.tar.gz`,
    url: `/files/${name}-${v}.tar.gz`,
    hashes: { sha256: sdistSha(name, v) },
    'requires-python': '>=3.9',
  }));
  response
    .writeHead(200, { 'content-type': 'application/vnd.pypi.simple.v1+json' })
    .end(JSON.stringify({ meta: { 'api-version': '1.1' }, name, files }));
});
await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
const upstream = `http://127.0.0.1:${(server.address() as AddressInfo).port}/simple/`;

const recipesDir = join(work, 'recipes');
const indexDir = join(work, 'index');
const home = join(work, 'home');
await mkdir(recipesDir, { recursive: true });
for (const name of names) await writeFile(join(recipesDir, `${name}.yaml`), `latest: ${versionCount}\n`);
const config = join(work, 'wheelfarm.yaml');
await writeFile(config, `home: ${home}\nupstream:\n  index-url: ${upstream}\nindex:\n  dir: ${indexDir}\nrecipes:\n  dir: ${recipesDir}\n`);

// Every cell built: its wheel in the index and a record with today's inputs.
const { loaded, plan } = await prepareImageDefinitions(join(ROOT, 'images'));
const platform = effectivePolicy(loaded.definitions);
const pythons = loaded.definitions.pythons.map(pythonTag);
const index = new LocalDirPublisher({ root: indexDir });
const records = new SqliteBuildRecords({ path: join(home, 'records.db') });
const wheelDir = join(work, 'wheels');
await mkdir(wheelDir);
const seeded = performance.now();
const cells = names.flatMap((name) =>
  versions.flatMap((version) =>
    pythons.map((python) => ({ name, version, python, filename: `${name}-${version}-${python}-${python}-${platform}.whl` })),
  ),
);
await execa('python3', ['-c', WHEEL_SCRIPT], { input: JSON.stringify(cells.map((c) => [join(wheelDir, c.filename), c.name, c.version])) });
for (const name of names) {
  const hash = await recipeHash(await loadRecipe({ recipesDir, name }));
  for (const version of versions) {
    for (const python of pythons) {
      const filename = `${name}-${version}-${python}-${python}-${platform}.whl`;
      const path = join(wheelDir, filename);
      const wheelSha = createHash('sha256')
        .update(await import('node:fs/promises').then((fs) => fs.readFile(path)))
        .digest('hex');
      await index.publish({ path, filename, sha256: wheelSha, project: name });
      const cell = { name, version, python, platform };
      const id = await records.begin({
        buildId: formatBuildId(cell),
        cell,
        index: indexIdentity({ kind: 'dir', path: indexDir }),
        inputs: { source: `sha256:${sdistSha(name, version)}`, recipe: hash, image: plan.build.tag },
        buildTag: undefined,
        log: undefined,
      });
      await records.finish(id, { state: 'published', steps: { build: 10 }, wheel: filename, wheelSha256: wheelSha });
    }
  }
}
await records.close();
console.error(
  `seeded ${names.length * versions.length * pythons.length} built cells in ${((performance.now() - seeded) / 1000).toFixed(1)} s`,
);

const times: number[] = [];
const peaks: number[] = [];
for (let run = 0; run < runs; run += 1) {
  const started = performance.now();
  // GNU time reports the peak resident memory of the farm's process (the launcher execs node).
  const result = await execa(
    '/usr/bin/time',
    ['-f', 'peak-rss-kb=%M', join(ROOT, 'wheelfarm'), '--config', config, 'matrix', 'plan', '--json'],
    { cwd: ROOT, reject: false },
  );
  const peakMb = Number(/peak-rss-kb=(\d+)/.exec(result.stderr)?.[1] ?? 0) / 1024;
  peaks.push(peakMb);
  const seconds = (performance.now() - started) / 1000;
  const summary = JSON.parse(result.stdout.trim().split('\n').pop()!) as {
    counts: Record<string, number>;
    toBuild: number;
    seconds: number;
  };
  if (result.exitCode !== 0 || summary.counts.built !== names.length * versions.length * pythons.length || summary.toBuild !== 0) {
    throw new Error(`unexpected plan (exit ${result.exitCode}): ${JSON.stringify(summary.counts)}\n${result.stderr}`);
  }
  times.push(seconds);
  console.log(
    `run ${run + 1}: ${seconds.toFixed(2)} s wall for the whole command (planning itself ${summary.seconds.toFixed(2)} s), ${summary.counts.built} cells built, 0 to build, peak RSS ${peakMb.toFixed(0)} MB`,
  );
}
times.sort((a, b) => a - b);
console.log(
  `matrix plan, ${recipeCount} recipes x ${versionCount} versions x ${pythons.length} Pythons = ${recipeCount * versionCount * pythons.length} cells, all built: median ${times[Math.floor(times.length / 2)]!.toFixed(2)} s wall (min ${times[0]!.toFixed(2)} s), peak RSS ${Math.max(...peaks).toFixed(0)} MB`,
);
server.close();
await rm(work, { recursive: true, force: true });
