// A second Docker engine that fault trials may crash and restart: scripts/start-second-engine.sh
// with a state dir, bridge and subnet of its own, so that it never disturbs the main engine, nor the
// second engine of another test or benchmark running at the same time. Its data root survives a
// stop, so the farm's images are copied to it once.
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { execa } from 'execa';
import type { HostSettings } from '../../src/config/settings.ts';
import { prepareImageDefinitions } from '../../src/images/ensure-images.ts';
import { runtimeForHost } from '../../src/runtime/docker-hosts.ts';
import { DockerRuntime } from '../../src/runtime/docker-runtime.ts';
import { replicateImage } from '../../src/runtime/replicate-image.ts';

const ROOT = resolve(import.meta.dirname, '..', '..', '..');
const SCRIPT = join(ROOT, 'scripts', 'start-second-engine.sh');

export interface SecondEngineOptions {
  /** State dir (socket, data root, pid file); keep it fixed so images stay between runs. */
  dir: string;
  /** Bridge interface name (at most 15 characters) and its address, e.g. `172.31.252.1/24`: free ones. */
  bridge: string;
  address: string;
}

/** A second engine on this machine, as a `hosts:` entry and a runtime. */
export class SecondEngine {
  readonly options: SecondEngineOptions;
  readonly url: string;
  readonly host: HostSettings;
  readonly runtime: DockerRuntime;

  private constructor(options: SecondEngineOptions, url: string) {
    this.options = options;
    this.url = url;
    this.host = { name: 'engine-2', docker: url, slots: 1 };
    this.runtime = runtimeForHost(this.host);
  }

  /** Starts it (a no-op when it runs) and copies the farm's base, build and runtime images to it. */
  static async start(options: SecondEngineOptions): Promise<SecondEngine> {
    const engine = new SecondEngine(options, await runScript(options, 'start'));
    const { plan } = await prepareImageDefinitions(join(ROOT, 'images'));
    const main = new DockerRuntime();
    for (const tag of [plan.base.tag, plan.build.tag, plan.runtime.tag]) await replicateImage({ from: main, to: engine.runtime, tag });
    return engine;
  }

  /** `kill -9` of its dockerd, as a crash: its API refuses from now on; its containers die with its next start. */
  async crash(): Promise<void> {
    const pid = Number((await readFile(join(this.options.dir, 'dockerd.pid'), 'utf8')).trim());
    if (!Number.isInteger(pid) || pid <= 0) throw new Error(`no dockerd pid in ${this.options.dir}/dockerd.pid`);
    process.kill(pid, 'SIGKILL');
  }

  /** Crashes it and starts it again: what a cell sees of `dockerd` killed and restarted. */
  async restart(): Promise<void> {
    await this.crash();
    await runScript(this.options, 'start');
  }

  /** Starts it again after a crash or a stop. */
  async revive(): Promise<void> {
    await runScript(this.options, 'start');
  }

  /** Stops it (its data root stays, with the images). */
  async stop(): Promise<void> {
    await runScript(this.options, 'stop');
  }
}

/** The script's last line of stdout is the engine's unix:// URL. */
async function runScript({ dir, bridge, address }: SecondEngineOptions, action: 'start' | 'stop'): Promise<string> {
  const run = await execa(SCRIPT, [action, '--dir', dir], {
    env: { WHEELFARM_ENGINE2_BRIDGE: bridge, WHEELFARM_ENGINE2_ADDRESS: address },
    stderr: 'pipe',
    reject: false,
  });
  if (run.exitCode !== 0) throw new Error(`start-second-engine.sh ${action} --dir ${dir} failed (exit ${run.exitCode}):\n${run.stderr}`);
  return run.stdout.trim().split('\n').at(-1) ?? '';
}
