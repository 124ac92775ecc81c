import { createHash } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchProjectFiles } from '../../farm/src/upstream/simple-api-client.ts';
import { discoverUpstreamIndex } from '../../farm/src/upstream/upstream-index.ts';
import {
  Cleanup,
  type CommandResult,
  execIn,
  type FarmOnNetwork,
  addressOn,
  runOn,
  serveOnInternalNetwork,
  startContainer,
  TEST_LABELS,
  uniqueName,
} from '../support/consumer-network.ts';
import { cachedUvWheel } from '../support/consumer-uv.ts';
import { describeNeeding } from '../support/needs.ts';
import { type CliRun, currentImages, docker, makeTempDir, REPO_ROOT, runWheelfarm } from './helpers.ts';

/**
 * The proof that an application installs from the farm's index ALONE: `wheelfarm build -r` of the
 * example service's requirements (docs/examples/flask-service) builds the native distributions of
 * its closure in containers and mirrors the pure wheels byte for byte; then real consumers that
 * have nothing but that index install it: pip and uv in a clean runtime container, and the example's
 * multi-stage Dockerfile, whose service then answers with every native package at work.
 *
 * Every consumer is on an internal Docker network (no route out, no proxy variables, no CA of the
 * host's proxy): `wheelfarm serve` is the only index there is. How serve is reached from that network
 * (the network's gateway, else a relay container) is checked, not assumed: test/support/consumer-network.ts.
 * The image build runs there too: the engine's classic builder takes a network for its RUN steps
 * (BuildKit does not take a user-defined one), so the Dockerfile's pip has the farm and nothing else.
 */

const APP = join(REPO_ROOT, 'docs', 'examples', 'flask-service');
/** As a user types it, from the repository root. */
const REQUIREMENTS = 'docs/examples/flask-service/requirements.txt';
const PYTHON = '/opt/python/cp313-cp313/bin/python';

/** The closure of the requirements on CPython 3.13 (Linux): built by the farm ... */
const NATIVE = ['cffi', 'markupsafe', 'psycopg2', 'pyyaml'];
/** ... and mirrored from the upstream index as they are. */
const PURE = [
  'blinker',
  'certifi',
  'charset-normalizer',
  'click',
  'flask',
  'idna',
  'itsdangerous',
  'jinja2',
  'pycparser',
  'requests',
  'urllib3',
  'werkzeug',
];
const FARM_WHEEL = /-cp313-cp313-(?:[\w.]+\.)?manylinux_2_31_x86_64\.whl$/;
const PURE_WHEEL = /-py3-none-any\.whl$/;

/** Prints each native distribution's wheel tags, as its installed WHEEL file says. */
const SHOW_TAGS = `
import importlib.metadata as m
for name in ${JSON.stringify(NATIVE)}:
    tags = [l.split(":", 1)[1].strip() for l in m.distribution(name).read_text("WHEEL").splitlines() if l.startswith("Tag:")]
    print("TAGS", name, " ".join(tags))
`;

const uv = await cachedUvWheel();

function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function shellArg(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

/** The `TAGS name tags` lines of SHOW_TAGS output, by name. */
function installedTags(output: string): Record<string, string> {
  return Object.fromEntries([...output.matchAll(/^TAGS (\S+) (.*)$/gm)].map((m) => [m[1]!, m[2]!]));
}

/** The JSON line smoke.py prints (the service's answer). */
function smokeAnswer(output: string): Record<string, Record<string, unknown>> {
  const line = output.split('\n').find((l) => l.startsWith('{'));
  if (!line) throw new Error(`smoke.py printed no JSON:\n${output}`);
  return JSON.parse(line) as Record<string, Record<string, unknown>>;
}

/** What every consumer must see in the service's answer: each native package doing its native work. */
function expectNativeAnswer(body: Record<string, Record<string, unknown>>, escaped: string): void {
  expect(body.markupsafe).toEqual({ escaped, speedups: true });
  expect(body.yaml).toMatchObject({ libyaml: true, round_trip: true, version: expect.stringMatching(/^\d+\.\d+/) });
  expect(body.cffi).toMatchObject({ abs: 42 });
  expect(body.psycopg2?.libpq).toBeGreaterThanOrEqual(90000);
}

describe('an application installed from the farm index alone (build -r, pip, uv, a service image; no route out)', () => {
  const cleanup = new Cleanup();
  let images: Awaited<ReturnType<typeof currentImages>>;
  let index: string;
  let build: CliRun;
  let farm: FarmOnNetwork;

  /** The consumers need the whole index: say so rather than fail on a missing wheel. */
  function expectIndexBuilt(): void {
    expect(build.exitCode, `wheelfarm build -r failed (see the first test):\n${build.stderr.slice(-2000)}`).toBe(0);
  }

  beforeAll(async () => {
    index = await makeTempDir('app-index');
    build = await runWheelfarm(['build', '-r', REQUIREMENTS, '--python', '3.13', '--index', index, '--json']);
    images = await currentImages();
    farm = await serveOnInternalNetwork(docker, cleanup, {
      wheelfarm: join(REPO_ROOT, 'wheelfarm'),
      cwd: REPO_ROOT,
      index,
      image: images.runtime,
    });
  });

  afterAll(async () => {
    // Containers, the service image, the relay (if any), serve and the network: all of them, even after a failure.
    await cleanup.run();
  });

  it('build -r builds the native distributions in containers and mirrors the pure wheels byte for byte', async () => {
    expect(build.exitCode, build.stderr + build.stdout.slice(-4000)).toBe(0);
    expect(build.events.filter((e) => e.type === 'error')).toEqual([]);
    expect(build.events.at(-1)?.type).toBe('summary');
    // The closure the farm resolved for 3.13, and what it did with each distribution.
    expect(build.events.find((e) => e.type === 'closure')).toMatchObject({ pythons: ['3.13'], build: NATIVE.length, mirror: PURE.length });
    const normalize = (name: unknown): string =>
      String(name)
        .toLowerCase()
        .replace(/[-_.]+/g, '-');
    const mirrored = build.events.filter((e) => e.type === 'mirror').map((e) => [normalize(e.project), e.outcome]);
    expect(mirrored.sort()).toEqual(PURE.map((project) => [project, 'published']));
    const cells = build.events.filter((e) => e.type === 'cell').map((e) => [normalize(String(e.wheel).split('-')[0]), e.outcome]);
    expect(cells.sort()).toEqual(NATIVE.map((project) => [project, 'published']));
    // The closure and nothing else, and only wheels (never an sdist) for consumers.
    expect((await readdir(join(index, 'files'))).sort()).toEqual([...NATIVE, ...PURE].sort());
    for (const project of [...NATIVE, ...PURE]) {
      const files = await readdir(join(index, 'files', project));
      expect(
        files.filter((f) => !f.endsWith('.whl') && !f.endsWith('.whl.metadata')),
        project,
      ).toEqual([]);
    }
    for (const project of NATIVE) {
      const wheels = (await readdir(join(index, 'files', project))).filter((f) => f.endsWith('.whl'));
      expect(wheels, project).toHaveLength(1);
      expect(wheels[0], project).toMatch(FARM_WHEEL);
      // Built here: the farm's build record says it published exactly these bytes.
      const status = await runWheelfarm(['status', project, '--json']);
      const records = (status.events.find((e) => e.type === 'status')?.records ?? []) as {
        state: string;
        wheel?: string;
        wheelSha256?: string;
      }[];
      const bytes = await readFile(join(index, 'files', project, wheels[0]!));
      expect(
        records.filter((r) => r.state === 'published').map((r) => [r.wheel, r.wheelSha256]),
        status.stdout,
      ).toContainEqual([wheels[0], sha256(bytes)]);
    }
    const upstream = await discoverUpstreamIndex({ configured: process.env.WHEELFARM_UPSTREAM_INDEX_URL });
    for (const project of PURE) {
      const wheels = (await readdir(join(index, 'files', project))).filter((f) => f.endsWith('.whl'));
      expect(wheels, project).toHaveLength(1);
      expect(wheels[0], project).toMatch(PURE_WHEEL);
      const listed = (await fetchProjectFiles({ indexUrl: upstream.url, project })).files.find((f) => f.filename === wheels[0]);
      expect(listed?.sha256, `${wheels[0]} on ${upstream.url}`).toBe(sha256(await readFile(join(index, 'files', project, wheels[0]!))));
    }
  });

  describe('pip and uv in a runtime container whose only network is internal', () => {
    let consumer: Docker.Container;
    const run = (script: string): Promise<CommandResult> => execIn(docker, consumer, `set -eo pipefail\n${script}`);

    beforeAll(async () => {
      consumer = await startContainer(docker, cleanup, {
        image: images.runtime,
        name: uniqueName('wheelfarm-test-consumer'),
        network: farm.network.name,
        command: ['sleep', 'infinity'],
        binds: [`${APP}:/app:ro`, ...(uv.missing === undefined ? [`${uv.dir}:/uv:ro`] : [])],
        // Nothing of the host: no proxy variables, no CA bundle.
        env: ['PIP_DISABLE_PIP_VERSION_CHECK=1', 'PYTHONDONTWRITEBYTECODE=1', 'UV_CACHE_DIR=/tmp/uv-cache', 'UV_NO_PROGRESS=1'],
      });
    });

    it('has no route out: only the internal network, no proxy; the upstream is out of reach (TCP and pip)', async () => {
      const info = await consumer.inspect();
      expect(Object.keys(info.NetworkSettings.Networks)).toEqual([farm.network.name]);
      expect((await docker.getNetwork(farm.network.id).inspect()).Internal).toBe(true);
      const upstream = new URL((await discoverUpstreamIndex({ configured: process.env.WHEELFARM_UPSTREAM_INDEX_URL })).url);
      // Its address as the host resolves it: the container has no DNS for the outside either. Not a
      // missing default route: on Docker 20.10 a container on an internal network has one (via the
      // gateway); the engine drops what leaves the subnet. So the proof is a connection that fails.
      const { address } = await lookup(upstream.hostname, { family: 4 });
      const port = upstream.port || (upstream.protocol === 'https:' ? '443' : '80');
      const probe = `
import os, socket, sys
print("PROXY", sorted(k for k in os.environ if k.lower().endswith("_proxy")))
try:
    socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=5)
    print("CONNECT reached")
except OSError as error:
    print("CONNECT failed:", error)
`;
      const result = await run(
        `${PYTHON} -c ${shellArg(probe)} ${address} ${port}\n` +
          `if ${PYTHON} -m pip download --no-cache-dir --no-deps --timeout 5 --retries 0 --index-url ${upstream.origin}${upstream.pathname} -d /tmp/dl six > /tmp/dl.log 2>&1; then echo "PIP_UPSTREAM reached"; else echo "PIP_UPSTREAM failed"; tail -n 2 /tmp/dl.log; fi`,
      );
      expect(result.exitCode, result.output).toBe(0);
      expect(result.output).toContain('PROXY []');
      expect(result.output, `TCP to ${address}:${port} (${upstream.hostname})`).toContain('CONNECT failed');
      expect(result.output).toContain('PIP_UPSTREAM failed');
    });

    it("serve answers there (through the network's gateway or the relay) with the closure's projects", async () => {
      expectIndexBuilt();
      const { exitCode, output } = await run(
        `${PYTHON} -c ${shellArg('import json, re, sys, urllib.request as u; r = u.Request(sys.argv[1], headers={"Accept": "application/vnd.pypi.simple.v1+json"}); print(json.dumps(sorted(re.sub(r"[-_.]+", "-", p["name"]).lower() for p in json.load(u.urlopen(r, timeout=10))["projects"])))')} ${farm.indexUrl}`,
      );
      expect(exitCode, `${output} (${farm.via}; ${farm.gatewayProblem ?? ''})`).toBe(0);
      expect(JSON.parse(output.trim().split('\n').at(-1)!)).toEqual([...NATIVE, ...PURE].sort());
    });

    it('pip installs the requirements from serve alone, binaries only: native wheels the farm built, pure ones mirrored', async () => {
      expectIndexBuilt();
      const install = await run(
        `${PYTHON} -m venv /tmp/pip-venv\n` +
          `/tmp/pip-venv/bin/pip install --no-cache-dir --index-url ${farm.indexUrl} --trusted-host ${farm.address} --only-binary :all: --report /tmp/pip-report.json -r /app/requirements.txt`,
      );
      expect(install.exitCode, install.output).toBe(0);
      const report = JSON.parse((await run('cat /tmp/pip-report.json')).output) as {
        install: { metadata: { name: string }; download_info: { url: string } }[];
      };
      const origin = new URL(farm.indexUrl).origin;
      const taken = Object.fromEntries(
        report.install.map((i) => [i.metadata.name.toLowerCase().replace(/[-_.]+/g, '-'), i.download_info.url]),
      );
      expect(Object.keys(taken).sort()).toEqual([...NATIVE, ...PURE].sort());
      for (const [project, url] of Object.entries(taken)) {
        expect(url.startsWith(`${origin}/`), `${project} from ${url}`).toBe(true);
        expect(url, project).toMatch(NATIVE.includes(project) ? FARM_WHEEL : PURE_WHEEL);
      }
    });

    it('the smoke script passes in pip`s venv: every native package works', async () => {
      expectIndexBuilt();
      const smoke = await run(`cd /app && /tmp/pip-venv/bin/python smoke.py && /tmp/pip-venv/bin/python -c ${shellArg(SHOW_TAGS)}`);
      expect(smoke.exitCode, smoke.output).toBe(0);
      expect(smoke.output).toContain('smoke: ok');
      expectNativeAnswer(smokeAnswer(smoke.output), '&lt;b&gt;wheelfarm&lt;/b&gt; &amp; co');
      for (const [project, tags] of Object.entries(installedTags(smoke.output))) expect(tags, project).toContain('manylinux_2_31_x86_64');
    });

    describeNeeding(uv.missing, 'uv', () => {
      it('uv pip installs the requirements from serve alone, binaries only, and the smoke script passes there', async () => {
        expectIndexBuilt();
        const file = uv.missing === undefined ? uv.file : '';
        const result = await run(
          `${PYTHON} -m venv /tmp/tools && /tmp/tools/bin/pip install -q --no-cache-dir --no-index /uv/${file}\n` +
            `${PYTHON} -m venv /tmp/uv-venv\n` +
            `/tmp/tools/bin/uv pip install --no-cache --python /tmp/uv-venv/bin/python --index-url ${farm.indexUrl} --only-binary :all: -r /app/requirements.txt\n` +
            `cd /app && /tmp/uv-venv/bin/python smoke.py && /tmp/uv-venv/bin/python -c ${shellArg(SHOW_TAGS)}`,
        );
        expect(result.exitCode, result.output).toBe(0);
        expect(result.output).toMatch(/Installed 16 packages/);
        expect(result.output).toContain('smoke: ok');
        expectNativeAnswer(smokeAnswer(result.output), '&lt;b&gt;wheelfarm&lt;/b&gt; &amp; co');
        const tags = installedTags(result.output);
        expect(Object.keys(tags).sort()).toEqual(NATIVE);
        for (const [project, tag] of Object.entries(tags)) expect(tag, project).toContain('manylinux_2_31_x86_64');
      });
    });
  });

  describe('the example service image (docs/examples/flask-service/Dockerfile)', () => {
    const tag = `wheelfarm-test/flask-service:${uniqueName('t').slice(2)}`;
    let buildOutput = '';
    let service: Docker.Container;

    it('builds from serve alone on the internal network (BASE: the runtime image)', async () => {
      expectIndexBuilt();
      const layers: string[] = [];
      // Removed even when the build fails half-way: the final image, then every layer the build made
      // that no tag holds (the builder stage's, which the final image does not keep).
      cleanup.defer(`image ${tag} and its build's layers`, async () => {
        for (const id of [tag, ...layers.reverse()]) {
          try {
            const image = docker.getImage(id);
            if (id !== tag && ((await image.inspect()).RepoTags ?? []).length > 0) continue; // the base image
            await image.remove();
          } catch (error) {
            if (![404, 409].includes((error as { statusCode?: number }).statusCode ?? 0)) throw error;
          }
        }
      });
      const stream = await docker.buildImage(
        { context: APP, src: ['Dockerfile', 'requirements.txt', 'app.py', 'smoke.py'] },
        {
          t: tag,
          buildargs: { BASE: images.runtime, INDEX_URL: farm.indexUrl },
          networkmode: farm.network.name,
          labels: TEST_LABELS,
          nocache: true,
          rm: true,
          forcerm: true,
        },
      );
      const events = await new Promise<{ stream?: string; error?: string }[]>((resolve, reject) =>
        docker.modem.followProgress(stream, (error: Error | null, result: { stream?: string; error?: string }[]) =>
          error ? reject(error) : resolve(result),
        ),
      );
      buildOutput = events.map((e) => e.stream ?? (e.error ? `ERROR: ${e.error}\n` : '')).join('');
      layers.push(...[...buildOutput.matchAll(/---> ([0-9a-f]{12})\b/g)].map((m) => m[1]!));
      expect(
        events.filter((e) => e.error),
        buildOutput.slice(-4000),
      ).toEqual([]);
      expect(buildOutput).toContain(`Looking in indexes: ${farm.indexUrl}`);
      expect(buildOutput).toContain('smoke: ok');
    });

    it('runs, and the service answers with every native package at work', async () => {
      expectIndexBuilt();
      service = await startContainer(docker, cleanup, {
        image: tag,
        name: uniqueName('wheelfarm-test-flask-service'),
        network: farm.network.name,
      });
      const address = await addressOn(service, farm.network.name);
      const client = `
import sys, time, urllib.request
for attempt in range(60):
    try:
        print(urllib.request.urlopen(sys.argv[1], timeout=5).read().decode())
        break
    except OSError as error:
        if attempt == 59:
            raise
        time.sleep(0.5)
`;
      const answer = await runOn(docker, images.runtime, farm.network.name, [
        PYTHON,
        '-c',
        client,
        `http://${address}:8000/?text=%3Cscript%3E`,
      ]);
      expect(answer.exitCode, answer.output + (await service.logs({ stdout: true, stderr: true })).toString()).toBe(0);
      const body = JSON.parse(answer.output.trim()) as Record<string, Record<string, unknown>>;
      expectNativeAnswer(body, '&lt;script&gt;');
      expect(body.versions).toMatchObject({ flask: '3.1.3', requests: '2.34.2' });
    });

    it('has no compiler and runs as a non-root user', async () => {
      expectIndexBuilt();
      expect((await docker.getImage(tag).inspect()).Config.User).toBe('app:app');
      const check = await runOn(docker, tag, 'none', [
        'sh',
        '-c',
        'echo "UID $(id -u)"; for c in gcc cc c++ g++ clang tcc; do if command -v "$c" >/dev/null; then echo "COMPILER $c"; fi; done',
      ]);
      expect(check.exitCode, check.output).toBe(0);
      expect(check.output).not.toMatch(/COMPILER/);
      expect(check.output).not.toMatch(/UID 0\b/);
      // The running service itself: its process 1 is not root either.
      const status = await execIn(docker, service, 'awk \'/^Uid:/ { print "PID1_UID", $2 }\' /proc/1/status');
      expect(status.output).toMatch(/PID1_UID [1-9]\d*/);
    });
  });
});
