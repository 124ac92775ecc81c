import { createWriteStream } from 'node:fs';
import type { WriteStream } from 'node:fs';
import { mkdir, rm, symlink } from 'node:fs/promises';
import { join } from 'node:path';

const TAIL_LINES = 40;

/**
 * The log of one build, kept per build identifier: `<home>/logs/<build-id>/<timestamp>.log`,
 * with `latest.log` pointing at the newest. Keeps the last lines in memory for error messages.
 */
export class BuildLog {
  readonly path: string;
  readonly #out: WriteStream;
  readonly #tail: string[] = [];
  /** Seconds per finished step, for the build record. */
  readonly steps: Record<string, number> = {};
  #partial = '';

  private constructor(path: string) {
    this.path = path;
    this.#out = createWriteStream(path, { flags: 'a' });
  }

  static async open({ home, buildId, now = new Date() }: { home: string; buildId: string; now?: Date }): Promise<BuildLog> {
    const dir = join(home, 'logs', buildId);
    await mkdir(dir, { recursive: true });
    const name = `${now.toISOString().replace(/[:.]/g, '-')}.log`;
    const latest = join(dir, 'latest.log');
    await rm(latest, { force: true });
    await symlink(name, latest);
    return new BuildLog(join(dir, name));
  }

  write(text: string): void {
    this.#out.write(text);
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

  async close(): Promise<void> {
    await new Promise((resolve) => this.#out.end(resolve));
  }
}
