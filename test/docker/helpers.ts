import { createHash } from 'node:crypto';
import { chmod, copyFile, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PassThrough } from 'node:stream';
import Docker from 'dockerode';
import { execa } from 'execa';
import { prepareImageDefinitions } from '../../farm/src/images/ensure-images.ts';
import { isProcessAlive } from '../../farm/src/process/process-owner.ts';
import { cachedUvWheel } from '../support/consumer-uv.ts';

export const REPO_ROOT = resolve(import.meta.dirname, '..', '..');
export const docker = new Docker();

export interface CliRun {
  exitCode: number;
  stdout: string;
  stderr: string;
  /** With --json: the parsed lines of stdout. */
  events: Array<Record<string, unknown> & { type: string }>;
}

/** Run `./wheelfarm ...` as a user would, from the repository root. */
export async function runWheelfarm(args: string[], { env }: { env?: Record<string, string> } = {}): Promise<CliRun> {
  const result = await execa(`${REPO_ROOT}/wheelfarm`, args, { cwd: REPO_ROOT, reject: false, all: false, ...(env ? { env } : {}) });
  const stdout = String(result.stdout);
  const events = args.includes('--json')
    ? stdout
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as CliRun['events'][number])
    : [];
  return { exitCode: result.exitCode ?? -1, stdout, stderr: String(result.stderr), events };
}

export async function makeTempDir(prefix: string): Promise<string> {
  // In the run's own directory (test-homes.ts), which goes at its end: never another run's folders.
  const dir = await mkdtemp(join(process.env.WHEELFARM_TEST_HOMES ?? tmpdir(), `wheelfarm-test-${prefix}-`));
  // mkdtemp makes 0700 folders; containers read them as the non-root build user.
  await chmod(dir, 0o755);
  return dir;
}

/**
 * Work volumes of cells of `project` (wheelfarm-work-<build id>-...) still on the engine that no
 * running farm process owns: what a build left behind (see wheelfarmContainers).
 */
export async function workVolumes(project: string): Promise<string[]> {
  const { Volumes } = await docker.listVolumes({ filters: { label: ['wheelfarm=1'] } });
  return (Volumes ?? [])
    .filter((v) => v.Name.startsWith(`wheelfarm-work-${project}-`) && !ownedByLiveProcess(v.Labels ?? {}))
    .map((v) => v.Name);
}

/** Carries the owner label of a farm process still running on this machine (another test, a benchmark). */
function ownedByLiveProcess(labels: Record<string, string>): boolean {
  const [host, pid] = (labels['wheelfarm.owner'] ?? '').split(':');
  return host === hostname() && pid !== undefined && isProcessAlive(Number(pid));
}

/** The image tags the current definitions call for. */
export async function currentImages(): Promise<{ base: string; build: string; runtime: string }> {
  const { plan } = await prepareImageDefinitions(join(REPO_ROOT, 'images'));
  return { base: plan.base.tag, build: plan.build.tag, runtime: plan.runtime.tag };
}

/**
 * Containers the farm made (label wheelfarm=1) that no running farm process owns: what a build
 * left behind. With `project`, only those whose build identifier belongs to it. Containers of farm
 * processes still running (another test, a benchmark on the same machine) are not leftovers.
 */
export async function wheelfarmContainers(project?: string): Promise<Docker.ContainerInfo[]> {
  const all = await docker.listContainers({ all: true, filters: { label: ['wheelfarm=1'] } });
  return all.filter((c) => {
    if (project !== undefined && !(c.Labels['wheelfarm.build-id'] ?? '').startsWith(`${project}-`)) return false;
    return !ownedByLiveProcess(c.Labels);
  });
}

/**
 * Run a command in a throw-away container, for assertions (never labelled `wheelfarm=1`, so it
 * does not count as a farm container). Returns the exit code and the combined output.
 */
export async function runInImage(
  image: string,
  command: string[],
  { binds = [], user, env = [], hostNetwork = false }: { binds?: string[]; user?: string; env?: string[]; hostNetwork?: boolean } = {},
): Promise<{ exitCode: number; output: string }> {
  const out = new PassThrough();
  let output = '';
  out.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const [result, container] = (await docker.run(image, command, out, {
    Labels: { 'wheelfarm-test': '1' },
    Env: env,
    ...(user ? { User: user } : {}),
    // Host networking: the container reaches servers the test started on this machine's loopback.
    HostConfig: { Binds: binds, ...(hostNetwork ? { NetworkMode: 'host' } : {}) },
  })) as [{ StatusCode: number }, Docker.Container];
  await container.remove({ force: true });
  return { exitCode: result.StatusCode, output };
}

/** Environment that lets pip in a test container reach the upstream index through the host's proxy CA. */
export function caMount(): { binds: string[]; env: string[] } {
  const ca = process.env.SSL_CERT_FILE ?? '/etc/ssl/certs/ca-certificates.crt';
  return {
    binds: [`${ca}:/tmp/host-ca.crt:ro`],
    env: ['PIP_CERT=/tmp/host-ca.crt', 'SSL_CERT_FILE=/tmp/host-ca.crt', 'PIP_DISABLE_PIP_VERSION_CHECK=1'],
  };
}

export const FIXTURES = join(REPO_ROOT, 'test', 'fixtures');

/** A real sdist (`name-version.tar.gz`, one top-level folder) of a fixture tree; returns its path and sha256. */
export async function packFixture(fixture: string, name: string, version: string): Promise<{ path: string; sha256: string }> {
  const dir = await makeTempDir('sdist');
  const path = join(dir, `${name}-${version}.tar.gz`);
  await execa('tar', ['-czf', path, '--transform', `s,^\\.,${name}-${version},`, '-C', join(FIXTURES, 'sdists', fixture), '.']);
  return {
    path,
    sha256: createHash('sha256')
      .update(await readFile(path))
      .digest('hex'),
  };
}

/** Run `./wheelfarm build` with a recipes folder of the test's own. */
export async function buildWithRecipes(recipes: Record<string, string>, args: string[], files: Record<string, string> = {}) {
  const dir = await makeTempDir('recipes');
  for (const [name, text] of Object.entries(recipes)) await writeFile(join(dir, `${name}.yaml`), text);
  for (const [name, source] of Object.entries(files)) await copyFile(source, join(dir, name));
  const index = await makeTempDir('index');
  const run = await runWheelfarm(['build', ...args, '--python', '3.13', '--index', index, '--json'], {
    env: { WHEELFARM_RECIPES_DIR: dir },
  });
  return { ...run, index, recipesDir: dir };
}

/** The wheels an index directory holds for a project, sorted (`.metadata` files beside them left out). */
export async function publishedWheels(index: string, project: string): Promise<string[]> {
  return (await readdir(join(index, 'files', project))).filter((name) => name.endsWith('.whl')).sort();
}
/** uv's wheel folder (the tests' shared cache, consumer-uv.ts): uv is a tool of the tests, installed offline in containers. */
async function uvWheelDir(): Promise<string> {
  const uv = await cachedUvWheel();
  if (uv.missing !== undefined) throw new Error(uv.missing);
  return uv.dir;
}

/**
 * The consumer's side of every index test: in a clean runtime container (host networking, so the
 * server on loopback is reachable), `pip install -v --only-binary :all:` into one venv and `uv pip
 * install` into another, from `indexUrl` only; then `check` (Python source) runs in each venv. Each
 * installer also prints the wheel's `Build:` line and which file it took, and pip whether it read
 * the PEP 658 `.metadata` file.
 */
export async function installWithPipAndUv(
  indexUrl: string,
  project: string,
  check: string,
): Promise<{
  exitCode: number;
  output: string;
  pip: { file: string | undefined; build: string; usedMetadata: boolean };
  uv: { build: string };
}> {
  const ca = caMount();
  const uv = await uvWheelDir();
  const showBuild = `import importlib.metadata as m; w = m.distribution(${JSON.stringify(project)}).read_text("WHEEL"); print("BUILD=" + ([l.split(":", 1)[1].strip() for l in w.splitlines() if l.startswith("Build:")] or ["none"])[0])`;
  const script = [
    'set -eo pipefail',
    'py=/opt/python/cp313-cp313/bin/python',
    '$py -m venv /tmp/p',
    `/tmp/p/bin/pip install -v --no-cache-dir --index-url ${indexUrl} --only-binary :all: ${project} > /tmp/pip.log 2>&1 || { cat /tmp/pip.log; exit 1; }`,
    `grep -E "\\.whl\\.metadata|^\\s*Downloading|Successfully installed" /tmp/pip.log | sed 's/^/pip: /'`,
    `cd /tmp && /tmp/p/bin/python -c ${shellArg(check)} | sed 's/^/pip check: /'`,
    `/tmp/p/bin/python -c ${shellArg(showBuild)} | sed 's/^/pip /'`,
    '$py -m venv /tmp/tools && /tmp/tools/bin/pip install -q --no-cache-dir --no-index --find-links /uv uv',
    '$py -m venv /tmp/u',
    `/tmp/tools/bin/uv pip install --no-cache --python /tmp/u/bin/python --index-url ${indexUrl} --only-binary :all: ${project}`,
    `/tmp/u/bin/python -c ${shellArg(check)} | sed 's/^/uv check: /'`,
    `/tmp/u/bin/python -c ${shellArg(showBuild)} | sed 's/^/uv /'`,
  ].join('\n');
  const { exitCode, output } = await runInImage((await currentImages()).runtime, ['bash', '-c', script], {
    binds: [...ca.binds, `${uv}:/uv:ro`],
    env: ca.env,
    hostNetwork: true,
  });
  const downloaded = /pip:\s+Downloading \S*?([^/\s]+\.whl)\b(?!\.metadata)/.exec(output)?.[1];
  return {
    exitCode,
    output,
    pip: { file: downloaded, build: /pip BUILD=(\S+)/.exec(output)?.[1] ?? '?', usedMetadata: /\.whl\.metadata/.test(output) },
    uv: { build: /uv BUILD=(\S+)/.exec(output)?.[1] ?? '?' },
  };
}

function shellArg(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

/** `wheelfarm serve --port 0` on an index folder; resolves once it says where it listens. */
export async function startServe(index: string): Promise<{ url: string; stop: () => Promise<number> }> {
  const server = execa(`${REPO_ROOT}/wheelfarm`, ['serve', '--index', index, '--port', '0', '--json'], { cwd: REPO_ROOT, reject: false });
  const url = await new Promise<string>((resolvePromise, reject) => {
    server.stdout!.on('data', (chunk: Buffer) => {
      const match = /"url":"([^"]+)"/.exec(chunk.toString());
      if (match) resolvePromise(match[1]!);
    });
    void server.then(() => reject(new Error('wheelfarm serve ended before it was serving')));
  });
  return {
    url,
    stop: async () => {
      server.kill('SIGINT');
      return (await server).exitCode ?? -1;
    },
  };
}
