import { networkInterfaces } from 'node:os';
import type { Readable } from 'node:stream';
import Docker from 'dockerode';
import { EnvironmentError, WheelfarmError, interruption } from '../errors.ts';
import type {
  BuildImageOptions,
  ContainerRuntime,
  ContainerSpec,
  ContainerSummary,
  ImageInfo,
  RunningContainer,
  VolumeSummary,
} from './container-runtime.ts';
import { findBridgeGateway } from './bridge-gateway.ts';
import type { BridgeNetwork } from './bridge-gateway.ts';
import { DockerContainer, removeQuietly } from './docker-container.ts';

/**
 * The Docker engine, through its API (dockerode). Without options: the engine DOCKER_HOST names,
 * like the docker CLI's; docker-hosts.ts makes one per host of the `hosts` setting.
 */
export class DockerRuntime implements ContainerRuntime {
  readonly description: string;
  readonly local: boolean;
  readonly #docker: Docker;

  /** `description` names the engine in messages (default: DOCKER_HOST, else the default socket). */
  constructor({ docker = new Docker(), description }: { docker?: Docker; description?: string } = {}) {
    this.#docker = docker;
    this.description = description ?? process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock';
    this.local = isLocalEngine(docker.modem as { socketPath?: unknown; host?: unknown });
  }

  async ping(): Promise<void> {
    try {
      await this.#docker.ping();
    } catch (error) {
      throw new EnvironmentError('docker-unreachable', `the Docker engine at ${this.description} does not answer`, {
        cause: error,
        hint: 'start it (./wheelfarm does so on Debian as root via scripts/setup.sh), or set DOCKER_HOST',
      });
    }
  }

  async bridgeGateway(): Promise<string> {
    let network: BridgeNetwork;
    try {
      network = (await this.#docker.getNetwork('bridge').inspect()) as BridgeNetwork;
    } catch (error) {
      throw new EnvironmentError(
        'no-bridge-network',
        `the Docker engine at ${this.description} has no \`bridge\` network to ask for its gateway`,
        {
          cause: error,
          hint: 'containers reach the farm through the gateway of the default bridge network: run the engine with it (no `"bridge": "none"` in daemon.json)',
        },
      );
    }
    return findBridgeGateway(network, { engine: this.description, interfaces: this.local ? networkInterfaces() : undefined });
  }

  async startContainer(spec: ContainerSpec): Promise<RunningContainer> {
    const container = await this.#docker.createContainer({
      Image: spec.image,
      // Kept alive so each step runs as its own exec, with its own exit code and timing.
      Cmd: ['sleep', 'infinity'],
      Labels: spec.labels,
      Env: Object.entries(spec.env ?? {}).map(([k, v]) => `${k}=${v}`),
      ...(spec.user ? { User: spec.user } : {}),
      ...(spec.workdir ? { WorkingDir: spec.workdir } : {}),
      HostConfig: {
        ...(spec.memoryBytes ? { Memory: spec.memoryBytes, MemorySwap: spec.memoryBytes } : {}),
        ...(spec.cpus ? { NanoCpus: Math.round(spec.cpus * 1e9) } : {}),
        PidsLimit: spec.pidsLimit ?? 4096,
        // A build needs no capability: it runs as a plain user and writes only its own files.
        CapDrop: ['ALL'],
        SecurityOpt: ['no-new-privileges'],
        ...(spec.network === 'none' ? { NetworkMode: 'none' } : {}),
        ...(spec.readOnlyRoot ? { ReadonlyRootfs: true } : {}),
        ...(spec.tmpfs ? { Tmpfs: spec.tmpfs } : {}),
        ...(spec.volumes?.length
          ? { Mounts: spec.volumes.map((v) => ({ Type: 'volume' as const, Source: v.name, Target: v.target })) }
          : {}),
      },
    });
    const running = new DockerContainer(this.#docker, container);
    try {
      await container.start();
    } catch (error) {
      await running.remove();
      throw error;
    }
    return running;
  }

  async inspectImage(reference: string): Promise<ImageInfo | undefined> {
    try {
      const info = await this.#docker.getImage(reference).inspect();
      return {
        id: info.Id,
        tags: info.RepoTags ?? [],
        created: new Date(info.Created),
        sizeBytes: info.Size,
        labels: info.Config?.Labels ?? {},
      };
    } catch (error) {
      if ((error as { statusCode?: number }).statusCode === 404) return undefined;
      throw error;
    }
  }

  async listImages(label: string): Promise<ImageInfo[]> {
    const images = await this.#docker.listImages({ filters: { label: [label] } });
    return images.map((image) => ({
      id: image.Id,
      tags: image.RepoTags ?? [],
      created: new Date(image.Created * 1000),
      sizeBytes: image.Size,
      labels: image.Labels ?? {},
    }));
  }

  async buildImage({ context, tag, target, buildArgs, labels, onOutput, signal }: BuildImageOptions): Promise<void> {
    const stream = await this.#docker.buildImage(context, {
      t: tag,
      ...(target ? { target } : {}),
      buildargs: buildArgs ?? {},
      labels: labels ?? {},
      rm: true,
      forcerm: true,
      ...(signal ? { abortSignal: signal } : {}),
    });
    await this.#follow(stream as unknown as Readable, onOutput, `building image ${tag}`);
  }

  async importImage({ rootfs, tag, signal }: { rootfs: Readable; tag: string; signal?: AbortSignal }): Promise<void> {
    const [repo, version] = splitTag(tag);
    const stream = await this.#docker.importImage(rootfs, { repo, tag: version, ...(signal ? { abortSignal: signal } : {}) });
    await this.#follow(stream as unknown as Readable, undefined, `importing image ${tag}`);
  }

  async pullImage({ reference, onOutput }: { reference: string; onOutput?: (line: string) => void }): Promise<void> {
    const stream = await this.#docker.pull(reference);
    await this.#follow(stream as unknown as Readable, onOutput, `pulling ${reference}`);
  }

  /** `docker save` of one image, as the engine streams it (hundreds of MB: never buffered). */
  async saveImage(tag: string): Promise<Readable> {
    try {
      return (await this.#docker.getImage(tag).get()) as unknown as Readable;
    } catch (error) {
      if ((error as { statusCode?: number }).statusCode === 404) {
        throw new EnvironmentError('image-not-found', `the engine at ${this.description} has no image ${tag} to save`, {
          cause: error,
          hint: 'build it there first (`./wheelfarm images build`), or copy it from an engine that has it',
        });
      }
      throw new WheelfarmError(
        'docker-operation-failed',
        `saving image ${tag} on ${this.description} failed: ${(error as Error).message}`,
        {
          cause: error,
        },
      );
    }
  }

  /**
   * `docker load` from a stream. The engine answers 200 and reports a bad archive as an `error`
   * message in its JSON stream, so that stream is read to its end; a source stream that fails,
   * or a connection cut before the end, fails the load too.
   */
  async loadImage(tar: Readable, { signal }: { signal?: AbortSignal } = {}): Promise<void> {
    let sourceError: Error | undefined;
    const onSourceError = (error: Error): void => {
      sourceError ??= error;
    };
    tar.on('error', onSourceError);
    const what = `loading an image into ${this.description}`;
    try {
      // quiet: no per-layer progress bars; the engine writes its one result line (or error) at the end.
      const stream = await this.#docker.loadImage(tar, { quiet: true, ...(signal ? { abortSignal: signal } : {}) });
      await this.#follow(stream as unknown as Readable, undefined, what);
    } catch (error) {
      if (signal?.aborted) throw interruption(signal);
      if (sourceError) throw sourceFailed(what, sourceError);
      if (error instanceof WheelfarmError) throw error;
      throw new WheelfarmError('docker-operation-failed', `${what} failed: ${(error as Error).message}`, { cause: error });
    } finally {
      tar.off('error', onSourceError);
    }
    if (sourceError) throw sourceFailed(what, sourceError);
  }

  async tagImage({ source, tag }: { source: string; tag: string }): Promise<void> {
    const [repo, version] = splitTag(tag);
    await this.#docker.getImage(source).tag({ repo, tag: version });
  }

  async listContainers(labelFilter: string[]): Promise<ContainerSummary[]> {
    const containers = await this.#docker.listContainers({ all: true, filters: { label: labelFilter } });
    return containers.map((c) => ({ id: c.Id, labels: c.Labels, state: c.State }));
  }

  async removeContainer(id: string): Promise<void> {
    await removeQuietly(this.#docker.getContainer(id));
  }

  async createVolume({ name, labels }: { name: string; labels: Record<string, string> }): Promise<void> {
    await this.#docker.createVolume({ Name: name, Labels: labels });
  }

  async removeVolume(name: string): Promise<void> {
    try {
      await this.#docker.getVolume(name).remove({ force: true });
    } catch (error) {
      if ((error as { statusCode?: number }).statusCode !== 404) throw error;
    }
  }

  async listVolumes(labelFilter: string[]): Promise<VolumeSummary[]> {
    const { Volumes } = await this.#docker.listVolumes({ filters: { label: labelFilter } });
    return (Volumes ?? []).map((v) => ({ name: v.Name, labels: v.Labels ?? {} }));
  }

  /** Follows a JSON-message stream (build, pull, import, load); rejects on the engine's `error`. */
  async #follow(stream: Readable, onOutput: ((line: string) => void) | undefined, what: string): Promise<void> {
    const tail: string[] = [];
    await followJsonMessages(stream, (event) => {
      const text = event.stream ?? (event.status ? `${event.status}\n` : '');
      if (text) {
        onOutput?.(text);
        tail.push(...text.split('\n').filter(Boolean));
        tail.splice(0, Math.max(0, tail.length - 40));
      }
    }).catch((error: unknown) => {
      throw new WheelfarmError('docker-operation-failed', `${what} failed: ${(error as Error).message}`, {
        cause: error,
        hint: tail.length > 0 ? `last output:\n${tail.slice(-20).join('\n')}` : undefined,
      });
    });
  }
}

interface JsonMessage {
  stream?: string;
  status?: string;
  error?: string;
  errorDetail?: { message?: string };
}

/**
 * Reads the engine's newline-separated JSON messages to the end of the stream. Rejects when one
 * is an `error` (the engine answers 200 and reports failures in the stream; docker-modem's
 * followProgress does not look at them), or when the stream is cut off before its end.
 */
function followJsonMessages(stream: Readable, onMessage: (message: JsonMessage) => void): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let pending = '';
    let failure: Error | undefined;
    const take = (line: string): void => {
      const text = line.trim();
      if (!text) return;
      let message: JsonMessage;
      try {
        message = JSON.parse(text) as JsonMessage;
      } catch {
        failure ??= new Error(`the engine sent a line that is not JSON: ${text.slice(0, 200)}`);
        return;
      }
      if (message.error !== undefined || message.errorDetail?.message !== undefined) {
        failure ??= new Error(message.errorDetail?.message ?? message.error);
      }
      onMessage(message);
    };
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      pending += chunk;
      for (let newline = pending.indexOf('\n'); newline >= 0; newline = pending.indexOf('\n')) {
        take(pending.slice(0, newline));
        pending = pending.slice(newline + 1);
      }
    });
    stream.on('end', () => {
      take(pending);
      if (failure) reject(failure);
      else resolve();
    });
    stream.on('error', (error) => reject(failure ?? error));
    stream.on('close', () => {
      if (!stream.readableEnded) reject(failure ?? new Error('the engine closed the connection before the operation finished'));
    });
  });
}

function sourceFailed(what: string, error: Error): WheelfarmError {
  return new WheelfarmError('docker-operation-failed', `${what} failed: the image archive could not be read: ${error.message}`, {
    cause: error,
  });
}

/**
 * docker-modem keeps a TCP or SSH engine as `host`, a unix socket as `socketPath` (a path, or a
 * function that finds the default socket when DOCKER_HOST is not set).
 */
function isLocalEngine(modem: { socketPath?: unknown; host?: unknown }): boolean {
  if (typeof modem.host === 'string' && modem.host !== '') return /^(localhost|127(\.\d{1,3}){3}|::1|\[::1\])$/i.test(modem.host);
  return modem.socketPath !== undefined && modem.socketPath !== null;
}

function splitTag(tag: string): [string, string] {
  const at = tag.lastIndexOf(':');
  return at > tag.lastIndexOf('/') ? [tag.slice(0, at), tag.slice(at + 1)] : [tag, 'latest'];
}
