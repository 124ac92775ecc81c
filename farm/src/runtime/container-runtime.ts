import type { Readable } from 'node:stream';

/**
 * The container engine port. The pipeline and the image builder talk only to this; the
 * dockerode adapter (docker-runtime.ts) is the one implementation today.
 */
export interface ContainerSpec {
  image: string;
  /** Always set: `wheelfarm.*` labels (see labels.ts) let the sweeper find leftovers. */
  labels: Record<string, string>;
  env?: Record<string, string>;
  /** Run as this user; default: the image's (non-root in wheelfarm images). */
  user?: string;
  workdir?: string;
  /** Memory limit in bytes (swap included: no swap beyond it). */
  memoryBytes?: number;
  /** CPU limit in cores (fractions allowed); undefined: no limit. */
  cpus?: number;
  /** Most processes and threads at once (fork bombs end here). */
  pidsLimit?: number;
  /** `none`: no network at all, only loopback. Default: the engine's default network. */
  network?: 'default' | 'none';
  /**
   * The root filesystem read-only; what a build writes goes to `volumes` and `tmpfs`. Files can be
   * copied in (putFiles) only under a volume then.
   */
  readOnlyRoot?: boolean;
  /** Paths mounted as tmpfs, with mount options (\`size=512m,uid=1000,...\`). */
  tmpfs?: Record<string, string>;
  /**
   * Named volumes of the engine to mount (created on first use, kept across containers): the
   * compiler and download caches, the cell's work volume. A new volume takes the owner of the
   * image's directory. Nothing of the host is ever bind-mounted.
   */
  volumes?: { name: string; target: string }[];
}

/** A volume the farm made for one cell (its /work), labelled like its containers. */
export interface VolumeSummary {
  name: string;
  labels: Record<string, string>;
}

export interface FileToCopy {
  /** Path inside the target directory. */
  name: string;
  /** Host file to stream in, or literal content. */
  source: { path: string } | { content: string };
  mode?: number;
  uid?: number;
  gid?: number;
}

export interface CopiedFile {
  name: string;
  path: string;
  sha256: string;
  size: number;
}

export interface ExecOptions {
  env?: Record<string, string>;
  user?: string;
  workdir?: string;
  /** Receives the command's stdout and stderr as they come. */
  onOutput?: (chunk: string) => void;
}

export interface RunningContainer {
  readonly id: string;
  putFiles(targetDir: string, files: FileToCopy[]): Promise<void>;
  /** Runs a command; resolves to its exit code. */
  exec(command: string[], options?: ExecOptions): Promise<number>;
  /** Copies the regular files under `containerDir` whose names `accept` takes into `hostDir`. */
  copyOut(containerDir: string, hostDir: string, accept: (name: string) => boolean): Promise<CopiedFile[]>;
  /** Stops and removes the container. Safe to call twice. */
  remove(): Promise<void>;
}

export interface ImageInfo {
  id: string;
  tags: string[];
  created: Date;
  sizeBytes: number;
  labels: Record<string, string>;
}

export interface BuildImageOptions {
  context: Readable;
  tag: string;
  target?: string;
  buildArgs?: Record<string, string>;
  labels?: Record<string, string>;
  onOutput?: (line: string) => void;
  signal?: AbortSignal;
}

export interface ContainerSummary {
  id: string;
  labels: Record<string, string>;
  state: string;
}

export interface ContainerRuntime {
  readonly description: string;
  /**
   * The engine runs on this machine (a unix socket, or TCP or SSH to a loopback address): its
   * containers can reach a server this process listens on at bridgeGateway(). A remote engine's cannot.
   */
  readonly local: boolean;
  ping(): Promise<void>;
  /** The gateway address of the engine's `bridge` network: where containers on the default network reach the engine's machine. */
  bridgeGateway(): Promise<string>;
  startContainer(spec: ContainerSpec): Promise<RunningContainer>;
  inspectImage(reference: string): Promise<ImageInfo | undefined>;
  listImages(label: string): Promise<ImageInfo[]>;
  buildImage(options: BuildImageOptions): Promise<void>;
  importImage(options: { rootfs: Readable; tag: string; signal?: AbortSignal }): Promise<void>;
  pullImage(options: { reference: string; onOutput?: (line: string) => void }): Promise<void>;
  tagImage(options: { source: string; tag: string }): Promise<void>;
  /**
   * The image as a `docker save` archive, streamed (images are hundreds of MB). With loadImage,
   * how images move between engines: no registry is assumed (see replicate-image.ts).
   */
  saveImage(tag: string): Promise<Readable>;
  /** `docker load` of such an archive; rejects when the engine reports an error, not only on HTTP errors. */
  loadImage(tar: Readable, options?: { signal?: AbortSignal }): Promise<void>;
  listContainers(labelFilter: string[]): Promise<ContainerSummary[]>;
  removeContainer(id: string): Promise<void>;
  /** Creates a named volume with labels (the sweeper finds a dead run's volumes by them). */
  createVolume(options: { name: string; labels: Record<string, string> }): Promise<void>;
  /** Removes a volume; one already gone is fine. */
  removeVolume(name: string): Promise<void>;
  listVolumes(labelFilter: string[]): Promise<VolumeSummary[]>;
}
