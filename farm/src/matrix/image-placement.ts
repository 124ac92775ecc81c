import type { ImageKind } from '../images/image-build-log.ts';
import type { EmitEvent } from '../pipeline/events.ts';
import { Memo } from '../pipeline/memo.ts';
import type { BuildHost } from '../runtime/build-host.ts';
import { replicateImage } from '../runtime/replicate-image.ts';

/**
 * Makes images present on the hosts of a run: nothing if a host has them; else a copy from a live
 * host that has them (streamed save/load, no registry); else they are built once, on the first live
 * host, and copied from there. Once per (host, images), until a host comes back from being lost
 * (a wiped engine may have lost them).
 */
export class ImagePlacement {
  readonly #hosts: BuildHost[];
  readonly #isLive: (host: string) => boolean;
  readonly #emit: EmitEvent;
  readonly #signal: AbortSignal;
  readonly #placed = new Memo<void>();

  constructor({
    hosts,
    isLive,
    emit,
    signal,
  }: { hosts: BuildHost[]; isLive: (host: string) => boolean; emit: EmitEvent; signal: AbortSignal }) {
    this.#hosts = hosts;
    this.#isLive = isLive;
    this.#emit = emit;
    this.#signal = signal;
  }

  /** `build` makes the images on the host it is given (the images' own preparation: present ones are kept). */
  place(host: BuildHost, images: { kind: ImageKind; tag: string }[], build: (on: BuildHost) => Promise<void>): Promise<void> {
    const tags = images.map((i) => i.tag);
    return this.#placed.get(`${host.name}\0${tags.join(',')}`, async () => {
      for (const { kind, tag } of images) {
        if (await host.runtime.inspectImage(tag)) {
          // As the images' own preparation says it: the run's output shows what it builds in.
          this.#emit({ type: 'image', kind, tag, status: 'present' });
          continue;
        }
        let from = await this.#holderOf(tag, host);
        if (!from) {
          const builder = this.#hosts.find((h) => this.#isLive(h.name)) ?? host;
          if (builder === host) return build(host);
          await this.place(builder, images, build);
          from = builder;
        }
        const copied = await replicateImage({ from: from.runtime, to: host.runtime, tag, signal: this.#signal });
        this.#emit({ type: 'host', host: host.name, status: 'image-copied', tag, from: from.name, seconds: copied.seconds });
      }
    });
  }

  /** What was placed on `host` is looked at again next time. */
  forget(host: string): void {
    this.#placed.forget((key) => key.startsWith(`${host}\0`));
  }

  async #holderOf(tag: string, except: BuildHost): Promise<BuildHost | undefined> {
    for (const other of this.#hosts) {
      if (other === except || !this.#isLive(other.name)) continue;
      try {
        if (await other.runtime.inspectImage(tag)) return other;
      } catch {
        // An engine that does not answer is no source; its own cells find out soon enough.
      }
    }
    return undefined;
  }
}
