import { PassThrough } from 'node:stream';
import type { Readable } from 'node:stream';
import type Docker from 'dockerode';
import type { CopiedFile, ExecOptions, FileToCopy, RunningContainer } from './container-runtime.ts';
import { extractFiles, packFiles } from './tar-streams.ts';

/** A started container of the Docker engine: files in and out as tar streams, execs with their exit code. */
export class DockerContainer implements RunningContainer {
  readonly id: string;
  readonly #docker: Docker;
  readonly #container: Docker.Container;
  #removal: Promise<void> | undefined;

  constructor(docker: Docker, container: Docker.Container) {
    this.#docker = docker;
    this.#container = container;
    this.id = container.id;
  }

  async putFiles(targetDir: string, files: FileToCopy[]): Promise<void> {
    await this.#container.putArchive(packFiles(files), { path: targetDir });
  }

  async exec(command: string[], options: ExecOptions = {}): Promise<number> {
    const exec = await this.#container.exec({
      Cmd: command,
      AttachStdout: true,
      AttachStderr: true,
      Env: Object.entries(options.env ?? {}).map(([k, v]) => `${k}=${v}`),
      ...(options.user ? { User: options.user } : {}),
      ...(options.workdir ? { WorkingDir: options.workdir } : {}),
    });
    const stream = await exec.start({ hijack: true, stdin: false });
    const output = new PassThrough();
    output.setEncoding('utf8');
    output.on('data', (chunk: string) => options.onOutput?.(chunk));
    this.#docker.modem.demuxStream(stream, output, output);
    await new Promise<void>((resolve, reject) => {
      stream.on('end', resolve);
      stream.on('close', resolve);
      stream.on('error', reject);
    });
    output.end();
    const info = await exec.inspect();
    return info.ExitCode ?? -1;
  }

  async copyOut(containerDir: string, hostDir: string, accept: (name: string) => boolean): Promise<CopiedFile[]> {
    const archive = await this.#container.getArchive({ path: containerDir });
    return extractFiles(archive as unknown as Readable, hostDir, accept);
  }

  /** Idempotent: a second call waits for the first removal instead of returning early. */
  remove(): Promise<void> {
    this.#removal ??= removeQuietly(this.#container);
    return this.#removal;
  }
}

export async function removeQuietly(container: Docker.Container): Promise<void> {
  try {
    await container.remove({ force: true, v: true });
  } catch (error) {
    const status = (error as { statusCode?: number }).statusCode;
    // 404: already gone; 409: removal already in progress.
    if (status !== 404 && status !== 409) throw error;
  }
}
