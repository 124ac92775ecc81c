import { createReadStream, createWriteStream } from 'node:fs';
import type { WriteStream } from 'node:fs';
import { mkdir, rm, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { constants, createGunzip, createGzip } from 'node:zlib';
import type { Gzip } from 'node:zlib';

const TAIL_LINES = 40;
/** Compressed output reaches the disk at least this often, so a running build's log can be read. */
const FLUSH_MS = 1000;

/**
 * The log of one build, kept per build identifier and stored compressed:
 * `<home>/logs/<build-id>/<timestamp>.log.gz`, with `latest.log.gz` pointing at the newest. The gzip
 * stream is flushed every second, so `zcat` (or `wheelfarm logs`) shows a build in progress. Keeps
 * the last lines in memory for error messages.
 */
export class BuildLog {
  readonly path: string;
  /** Seconds per finished step, for the build record. */
  readonly steps: Record<string, number> = {};
  readonly #gzip: Gzip;
  readonly #file: WriteStream;
  readonly #done: Promise<void>;
  readonly #tail: string[] = [];
  #partial = '';
  #flushTimer: NodeJS.Timeout | undefined;

  private constructor(path: string) {
    this.path = path;
    this.#gzip = createGzip({ level: 6 });
    this.#file = createWriteStream(path, { flags: 'wx' });
    this.#done = pipeline(this.#gzip, this.#file);
  }

  static async open({ home, buildId, now = new Date() }: { home: string; buildId: string; now?: Date }): Promise<BuildLog> {
    const dir = join(home, 'logs', buildId);
    await mkdir(dir, { recursive: true });
    const name = `${now.toISOString().replace(/[:.]/g, '-')}-${process.pid}.log.gz`;
    const latest = join(dir, 'latest.log.gz');
    await rm(latest, { force: true });
    await symlink(name, latest);
    return new BuildLog(join(dir, name));
  }

  write(text: string): void {
    this.#gzip.write(text);
    this.#flushTimer ??= setTimeout(() => {
      this.#flushTimer = undefined;
      this.#gzip.flush(constants.Z_SYNC_FLUSH);
    }, FLUSH_MS);
    const lines = (this.#partial + text).split('\n');
    this.#partial = lines.pop() ?? '';
    this.#tail.push(...lines);
    if (this.#tail.length > TAIL_LINES) this.#tail.splice(0, this.#tail.length - TAIL_LINES);
  }

  /** A line of the farm's own, marked so it stands out from tool output. */
  note(text: string): void {
    this.write(`\n== wheelfarm: ${text}\n`);
  }

  tail(lines = 20): string[] {
    const all = this.#partial ? [...this.#tail, this.#partial] : this.#tail;
    return lines <= 0 ? [] : all.slice(-lines);
  }

  /** Finishes the file (gzip trailer written); safe to call twice. */
  async close(): Promise<void> {
    clearTimeout(this.#flushTimer);
    this.#flushTimer = undefined;
    if (!this.#gzip.writableEnded) this.#gzip.end();
    await this.#done;
  }
}

/**
 * Copies a build log, decompressed, to `out`. A log still being written (or cut short by a crash)
 * ends without the gzip trailer: what was flushed is shown and `complete` is false.
 */
export async function copyBuildLog(path: string, out: Writable): Promise<{ complete: boolean }> {
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      if (out.write(chunk)) callback();
      else out.once('drain', () => callback());
    },
  });
  try {
    await pipeline(createReadStream(path), createGunzip({ finishFlush: constants.Z_SYNC_FLUSH }), sink);
    return { complete: true };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'Z_BUF_ERROR' || /unexpected end of file/.test((error as Error).message))
      return { complete: false };
    throw error;
  }
}

/** A whole build log as text (tests, small logs). */
export async function readBuildLog(path: string): Promise<string> {
  const chunks: Buffer[] = [];
  await copyBuildLog(
    path,
    new Writable({
      write(chunk: Buffer, _encoding, callback) {
        chunks.push(chunk);
        callback();
      },
    }),
  );
  return Buffer.concat(chunks).toString('utf8');
}
