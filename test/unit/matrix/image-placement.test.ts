// Image placement with fake engines (no Docker): present images are reported as the images' own
// preparation reports them, missing ones are built once per host and images, on the host itself.
import { describe, expect, it } from 'vitest';
import { ImagePlacement } from '../../../farm/src/matrix/image-placement.ts';
import type { FarmEvent } from '../../../farm/src/pipeline/events.ts';
import type { BuildHost } from '../../../farm/src/runtime/build-host.ts';
import type { ContainerRuntime, ImageInfo } from '../../../farm/src/runtime/container-runtime.ts';

function host(name: string, images: string[]): BuildHost {
  const info = (tag: string): ImageInfo => ({ id: tag, tags: [tag], created: new Date(0), sizeBytes: 1, labels: {} });
  const runtime = { inspectImage: async (tag: string) => (images.includes(tag) ? info(tag) : undefined) } as Pick<
    ContainerRuntime,
    'inspectImage'
  >;
  return {
    name,
    slots: 1,
    runtime: runtime as ContainerRuntime,
    limits: { memoryBytes: 1, cpus: undefined, pids: 1, stepTimeoutSeconds: 1 },
  };
}

describe('ImagePlacement', () => {
  it('images a host has are reported present and not built', async () => {
    const events: FarmEvent[] = [];
    const local = host('local', ['b:1', 'r:1']);
    const placement = new ImagePlacement({
      hosts: [local],
      isLive: () => true,
      emit: (e) => events.push(e),
      signal: new AbortController().signal,
    });
    const built: string[] = [];
    const images = [
      { kind: 'build' as const, tag: 'b:1' },
      { kind: 'runtime' as const, tag: 'r:1' },
    ];
    await placement.place(local, images, async (on) => void built.push(on.name));
    await placement.place(local, images, async (on) => void built.push(on.name));
    expect(built).toEqual([]);
    expect(events).toEqual([
      { type: 'image', kind: 'build', tag: 'b:1', status: 'present' },
      { type: 'image', kind: 'runtime', tag: 'r:1', status: 'present' },
    ]);
  });

  it('an image no host has is built on the host that needs it, once for every cell asking at once', async () => {
    const local = host('local', []);
    const placement = new ImagePlacement({
      hosts: [local],
      isLive: () => true,
      emit: () => undefined,
      signal: new AbortController().signal,
    });
    const built: string[] = [];
    const images = [{ kind: 'recipe' as const, tag: 'x:1' }];
    const build = async (on: BuildHost) => void built.push(on.name);
    await Promise.all([placement.place(local, images, build), placement.place(local, images, build)]);
    expect(built).toEqual(['local']);
    placement.forget('local');
    await placement.place(local, images, build);
    expect(built).toEqual(['local', 'local']);
  });
});
