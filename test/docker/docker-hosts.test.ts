import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { HostSettings } from '../../farm/src/config/settings.ts';
import { WheelfarmError } from '../../farm/src/errors.ts';
import { CONTAINER_CA_PATH, findHostCaBundle, proxyEnv, trustEnv } from '../../farm/src/runtime/host-trust.ts';
import { containerLabels } from '../../farm/src/runtime/labels.ts';
import type { RunningContainer } from '../../farm/src/runtime/container-runtime.ts';
import { dockerForHost, runtimeForHost } from '../../farm/src/runtime/docker-hosts.ts';
import { DockerRuntime } from '../../farm/src/runtime/docker-runtime.ts';
import { replicateImage } from '../../farm/src/runtime/replicate-image.ts';
import { discoverUpstreamIndex } from '../../farm/src/upstream/upstream-index.ts';
import { REPO_ROOT, currentImages, docker } from './helpers.ts';

/**
 * Several engines: a second dockerd on this machine (scripts/start-second-engine.sh, its own socket,
 * data root and bridge) stands in for a remote host. Images reach it only by save/load.
 */
const SCRIPT = join(REPO_ROOT, 'scripts', 'start-second-engine.sh');
const main = new DockerRuntime();
let stateDir: string;
let host: HostSettings;
let second: DockerRuntime;
let runtimeImage: string;

beforeAll(async () => {
  runtimeImage = (await currentImages()).runtime;
  // A fixed state dir, so that an engine left by an interrupted run is stopped here (it would hold
  // the bridge); emptied, so that the second engine starts with no images at all.
  stateDir = join(tmpdir(), 'wheelfarm-engine2-test');
  await execa(SCRIPT, ['stop', '--dir', stateDir], { stderr: 'inherit' });
  await rm(stateDir, { recursive: true, force: true });
  const started = await execa(SCRIPT, ['start', '--dir', stateDir], { stderr: 'inherit' });
  const url = started.stdout.trim().split('\n').at(-1)!;
  expect(url).toBe(`unix://${stateDir}/docker.sock`);
  host = { name: 'engine-2', docker: url, slots: 1 };
  second = runtimeForHost(host);
  await second.ping();
}, 120_000);

afterAll(async () => {
  if (!stateDir) return;
  await execa(SCRIPT, ['stop', '--dir', stateDir], { stderr: 'inherit' });
  await rm(stateDir, { recursive: true, force: true });
}, 120_000);

/** Runs a command in a started container, returning its exit code and output. */
async function run(container: RunningContainer, command: string[]): Promise<{ exitCode: number; output: string }> {
  let output = '';
  const exitCode = await container.exec(command, { onOutput: (chunk) => (output += chunk) });
  return { exitCode, output };
}

describe('a second engine', () => {
  it('is a separate engine, described by its host name and socket', async () => {
    expect(second.description).toBe(`engine-2 (unix://${stateDir}/docker.sock)`);
    const [mainInfo, secondInfo] = await Promise.all([docker.info(), dockerForHost(host).info()]);
    // (Not the engine ID: dockerd 20.10 derives it from /etc/docker/key.json, which both engines read.)
    expect(secondInfo.DockerRootDir).toBe(join(stateDir, 'data'));
    expect(mainInfo.DockerRootDir).not.toBe(secondInfo.DockerRootDir);
    expect(await second.inspectImage(runtimeImage)).toBeUndefined();
  });

  it('gets the runtime image from the main engine by save/load, once', async () => {
    let reports = 0;
    const copy = await replicateImage({ from: main, to: second, tag: runtimeImage, onProgress: () => (reports += 1) });
    expect(copy.copied).toBe(true);
    expect(copy.bytes).toBeGreaterThan(100 * 1024 ** 2);
    expect(reports).toBeGreaterThan(0);
    console.log(`replicated ${runtimeImage}: ${(copy.bytes / 1024 ** 2).toFixed(0)} MiB in ${copy.seconds.toFixed(1)} s`);

    const [there, here] = await Promise.all([second.inspectImage(runtimeImage), main.inspectImage(runtimeImage)]);
    expect(there?.id).toBe(here?.id);
    expect(there?.tags).toContain(runtimeImage);

    expect(await replicateImage({ from: main, to: second, tag: runtimeImage })).toEqual({ copied: false, bytes: 0, seconds: 0 });
  });

  it('runs a container of that image, through the same port as the main engine', async () => {
    const container = await second.startContainer({
      image: runtimeImage,
      labels: containerLabels({ buildId: `engine2-test-${process.pid}`, step: 'probe' }),
    });
    try {
      expect(await run(container, ['/opt/python/cp313-cp313/bin/python', '-c', 'print(42)'])).toEqual({ exitCode: 0, output: '42\n' });
      // It lives on the second engine only.
      expect((await second.listContainers(['wheelfarm=1'])).map((c) => c.id)).toContain(container.id);
      await expect(docker.getContainer(container.id).inspect()).rejects.toMatchObject({ statusCode: 404 });
    } finally {
      await container.remove();
    }
    expect(await second.listContainers(['wheelfarm=1'])).toEqual([]);
  });

  it('gives its containers the network the main engine`s have: pip downloads from the upstream index', async () => {
    const index = await discoverUpstreamIndex();
    const ca = findHostCaBundle('auto');
    const container = await second.startContainer({
      image: runtimeImage,
      labels: containerLabels({ buildId: `engine2-test-${process.pid}`, step: 'network' }),
      // As the pipeline does: env, and the CA copied in (a remote host cannot bind-mount ours).
      env: { ...proxyEnv(), ...trustEnv(ca), PIP_INDEX_URL: index.url, PIP_DISABLE_PIP_VERSION_CHECK: '1', PIP_NO_INPUT: '1' },
    });
    try {
      // On the second engine's own bridge (the script's default 172.31.250.1/24), NATed out.
      const inspected = await dockerForHost(host).getContainer(container.id).inspect();
      expect(inspected.NetworkSettings.Networks.bridge?.IPAddress).toMatch(/^172\.31\.250\.\d+$/);
      if (ca) await container.putFiles('/', [{ name: CONTAINER_CA_PATH.slice(1), source: { path: ca }, mode: 0o644 }]);
      const { exitCode, output } = await run(container, [
        'bash',
        '-c',
        '/opt/python/cp313-cp313/bin/python -m pip download -q --no-deps --only-binary :all: -d /tmp/d six && ls /tmp/d',
      ]);
      expect(output).toMatch(/six-[\d.]+-py2\.py3-none-any\.whl/);
      expect(exitCode).toBe(0);
    } finally {
      await container.remove();
    }
  });

  it('refuses a broken archive loudly, naming the engine', async () => {
    const error = await second.loadImage(Readable.from([Buffer.alloc(64 * 1024, 'x')])).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WheelfarmError);
    expect((error as Error).message).toMatch(/^loading an image into engine-2 \(unix:\/\/.*\) failed: /);
  });

  it('an image the source lacks is an error naming both engines and the tag', async () => {
    await expect(replicateImage({ from: main, to: second, tag: 'wheelfarm/runtime:0000000000000000' })).rejects.toThrow(
      `copying image wheelfarm/runtime:0000000000000000 from ${main.description} to ${second.description}: ${main.description} does not have it either`,
    );
  });
});

/**
 * The matrix across two hosts (the main engine and the second one), one slot each: images reach
 * the second host by save/load, cells run on both, and when the second engine stops in the middle
 * of a build its cell finishes on the main engine: every wheel published once, no record wrong.
 * Runs last: it stops the second engine.
 */
describe('a matrix build across two hosts, one of them lost in the middle', () => {
  it('finishes every cell on the host that is left; nothing published twice; the records agree', async () => {
    const { writeFile, mkdir, readdir } = await import('node:fs/promises');
    const { makeTempDir, wheelfarmContainers } = await import('./helpers.ts');
    const dir = await makeTempDir('two-hosts');
    await mkdir(join(dir, 'recipes'));
    await writeFile(join(dir, 'recipes', 'markupsafe.yaml'), 'latest: 2\n');
    const config = join(dir, 'wheelfarm.yaml');
    await writeFile(
      config,
      [
        `home: ${join(dir, 'home')}`,
        `index:\n  dir: ${join(dir, 'index')}`,
        `recipes:\n  dir: ${join(dir, 'recipes')}`,
        'hosts:',
        '  - name: main',
        '    docker: unix:///var/run/docker.sock',
        '    slots: 1',
        '  - name: second',
        `    docker: ${host.docker}`,
        '    slots: 1',
        '',
      ].join('\n'),
    );
    // The settings file names the farm's home; WHEELFARM_HOME, which every test file has (own-home.ts), would win.
    vi.stubEnv('WHEELFARM_HOME', undefined);
    const farm = execa(join(REPO_ROOT, 'wheelfarm'), ['--config', config, 'matrix', 'build', '--json'], { cwd: REPO_ROOT, reject: false });
    const events: Record<string, any>[] = [];
    let stopped: Promise<unknown> | undefined;
    farm.stdout!.on('data', (chunk: Buffer) => {
      for (const line of chunk
        .toString()
        .split('\n')
        .filter((l) => l.startsWith('{'))) {
        const event = JSON.parse(line) as Record<string, any>;
        events.push(event);
        // The second host is busy building: stop its engine under it.
        if (!stopped && event.type === 'step' && event.host === 'second' && event.step === 'build' && event.status === 'started') {
          stopped = execa(SCRIPT, ['stop', '--dir', stateDir], { stderr: 'inherit' });
        }
      }
    });
    const result = await farm;
    await stopped;
    expect(stopped, 'the second host never started a build').toBeDefined();
    const summary = events.find((e) => e.type === 'summary')!;
    expect(result.exitCode, JSON.stringify(summary)).toBe(0);
    expect(summary.lostHosts).toEqual([{ name: 'second', reason: expect.any(String) }]);
    expect(summary.counts).toMatchObject({ published: 4, failed: 0 });
    expect(events.some((e) => e.type === 'host' && e.status === 'image-copied' && e.host === 'second')).toBe(true);
    const cellsOn = (name: string) => events.filter((e) => e.type === 'cell' && e.host === name).length;
    expect(cellsOn('main')).toBe(4);

    // Every cell once in the index.
    const wheels = (await readdir(join(dir, 'index', 'files', 'markupsafe'))).filter((f) => f.endsWith('.whl'));
    expect(wheels).toHaveLength(4);
    // The records: one published build per cell; the lost attempt is a failure, none is left running.
    const status = await execa(join(REPO_ROOT, 'wheelfarm'), ['--config', config, 'status', '--json'], { cwd: REPO_ROOT });
    const records = (JSON.parse(status.stdout.trim().split('\n').pop()!) as { records: { buildId: string; state: string }[] }).records;
    const published = records.filter((r) => r.state === 'published').map((r) => r.buildId);
    expect(new Set(published).size).toBe(4);
    expect(published).toHaveLength(4);
    expect(records.filter((r) => r.state === 'running')).toEqual([]);
    expect(records.filter((r) => r.state === 'failed')).toHaveLength(1);
    expect(await wheelfarmContainers('markupsafe')).toEqual([]);
  });
});
