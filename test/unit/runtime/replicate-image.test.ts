import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { Server, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EnvironmentError, InterruptedError, WheelfarmError } from '../../../farm/src/errors.ts';
import type { ContainerRuntime, ImageInfo } from '../../../farm/src/runtime/container-runtime.ts';
import { DockerRuntime } from '../../../farm/src/runtime/docker-runtime.ts';
import { replicateImage } from '../../../farm/src/runtime/replicate-image.ts';

const TAG = 'wheelfarm/runtime:0123456789abcdef';

/** An engine in memory: images are archives (strings); load takes the tag from the archive's first line. */
function fakeEngine(name: string, images: Record<string, string> = {}, { loadFails }: { loadFails?: string } = {}) {
  const stored = new Map(Object.entries(images));
  const info = (tag: string): ImageInfo => ({
    id: `sha256:${stored.get(tag)!.length}`,
    tags: [tag],
    created: new Date(0),
    sizeBytes: 100,
    labels: {},
  });
  const calls = { saves: 0, loads: 0 };
  const runtime = {
    description: `${name} (unix:///${name}.sock)`,
    inspectImage: async (tag: string) => (stored.has(tag) ? info(tag) : undefined),
    saveImage: async (tag: string) => {
      calls.saves += 1;
      if (!stored.has(tag)) throw new Error(`no image ${tag}`);
      const archive = `${tag}\n${stored.get(tag)!}`;
      // In small chunks, as an engine streams it.
      return Readable.from(archive.match(/[\s\S]{1,7}/g)!.map((c) => Buffer.from(c)));
    },
    loadImage: async (tar: Readable) => {
      calls.loads += 1;
      const archive = await text(tar);
      if (loadFails) throw new WheelfarmError('docker-operation-failed', `loading an image into ${name} failed: ${loadFails}`);
      const [tag, ...rest] = archive.split('\n');
      stored.set(tag!, rest.join('\n'));
    },
  };
  return { runtime: runtime as unknown as ContainerRuntime, stored, calls };
}

describe('replicateImage', () => {
  it('streams the image from an engine that has it to one that lacks it, then is a no-op', async () => {
    const main = fakeEngine('main', { [TAG]: 'layers'.repeat(50) });
    const second = fakeEngine('second');
    const progress: number[] = [];
    const first = await replicateImage({ from: main.runtime, to: second.runtime, tag: TAG, onProgress: (p) => progress.push(p.bytes) });
    expect(first).toMatchObject({ copied: true, bytes: TAG.length + 1 + 300 });
    expect(second.stored.get(TAG)).toBe('layers'.repeat(50));
    expect(progress.at(-1)).toBe(first.bytes);

    const again = await replicateImage({ from: main.runtime, to: second.runtime, tag: TAG });
    expect(again).toEqual({ copied: false, bytes: 0, seconds: 0 });
    expect(main.calls.saves).toBe(1);
  });

  it('copies once when several cells ask for the same image on the same engine at once', async () => {
    const main = fakeEngine('main', { [TAG]: 'x' });
    const second = fakeEngine('second');
    const results = await Promise.all([1, 2, 3].map(() => replicateImage({ from: main.runtime, to: second.runtime, tag: TAG })));
    expect(results.map((r) => r.copied)).toEqual([true, true, true]);
    expect(main.calls.saves).toBe(1);
    expect(second.calls.loads).toBe(1);
  });

  it('an image neither engine has is an error naming both and the tag', async () => {
    const error = await replicateImage({ from: fakeEngine('main').runtime, to: fakeEngine('second').runtime, tag: TAG }).catch(
      (e: Error) => e,
    );
    expect(error).toBeInstanceOf(EnvironmentError);
    expect((error as Error).message).toBe(
      `copying image ${TAG} from main (unix:///main.sock) to second (unix:///second.sock): main (unix:///main.sock) does not have it either`,
    );
  });

  it('a failed load is an error naming both engines, the tag and what the engine said', async () => {
    const main = fakeEngine('main', { [TAG]: 'x' });
    const second = fakeEngine('second', {}, { loadFails: 'no space left on device' });
    const error = await replicateImage({ from: main.runtime, to: second.runtime, tag: TAG }).catch((e: Error) => e);
    expect(error).toBeInstanceOf(EnvironmentError);
    expect((error as Error).message).toMatch(
      /^copying image wheelfarm\/runtime:0123456789abcdef from main .* to second .* failed: .*no space left on device/,
    );
  });

  it('a load the engine takes without the image appearing is an error, not a success', async () => {
    const main = fakeEngine('main', { [TAG]: 'x' });
    const second = fakeEngine('second');
    (second.runtime as unknown as { loadImage: (tar: Readable) => Promise<void> }).loadImage = async (tar) => void (await text(tar));
    await expect(replicateImage({ from: main.runtime, to: second.runtime, tag: TAG })).rejects.toThrow(
      /still has no image wheelfarm\/runtime/,
    );
  });

  it('an aborted copy is an interruption', async () => {
    const controller = new AbortController();
    controller.abort(new InterruptedError('SIGINT'));
    const main = fakeEngine('main', { [TAG]: 'x' });
    await expect(
      replicateImage({ from: main.runtime, to: fakeEngine('second').runtime, tag: TAG, signal: controller.signal }),
    ).rejects.toBeInstanceOf(InterruptedError);
    expect(main.calls.saves).toBe(0);
  });
});

/** A stand-in for the engine's HTTP API on a unix socket: just the image save and load endpoints. */
describe('DockerRuntime.saveImage / loadImage against an engine API', () => {
  let dir: string;
  let server: Server;
  let runtime: DockerRuntime;
  let loadAnswer: (body: string, res: ServerResponse) => void;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'wheelfarm-engine-api-'));
    server = createServer(async (req, res) => {
      if (req.method === 'POST' && req.url?.startsWith('/images/load')) {
        const body = await text(req).catch(() => undefined);
        if (body === undefined) res.destroy();
        else loadAnswer(body, res);
      } else if (req.method === 'GET' && req.url === `/images/${TAG}/get`) {
        res.writeHead(200, { 'Content-Type': 'application/x-tar' });
        res.end('the archive');
      } else {
        res.writeHead(404, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ message: 'reference does not exist' }));
      }
    });
    server.listen(join(dir, 'engine.sock'));
    await once(server, 'listening');
    runtime = new DockerRuntime({
      docker: new Docker({ socketPath: join(dir, 'engine.sock') }),
      description: 'fake (unix:///engine.sock)',
    });
  });
  afterAll(async () => {
    server.close();
    await rm(dir, { recursive: true, force: true });
  });

  const json = (res: ServerResponse, ...messages: object[]): void => {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(messages.map((m) => `${JSON.stringify(m)}\r\n`).join(''));
  };

  it('save streams the archive', async () => {
    expect(await text(await runtime.saveImage(TAG))).toBe('the archive');
  });

  it('save of a missing image names the engine and the tag', async () => {
    await expect(runtime.saveImage('wheelfarm/none:1')).rejects.toThrow(
      'the engine at fake (unix:///engine.sock) has no image wheelfarm/none:1 to save',
    );
  });

  it('load sends the whole stream and succeeds on the engine`s result line', async () => {
    let received = '';
    loadAnswer = (body, res) => {
      received = body;
      json(res, { stream: `Loaded image: ${TAG}\n` });
    };
    await runtime.loadImage(Readable.from(['part one, ', 'part two']));
    expect(received).toBe('part one, part two');
  });

  it('load fails loudly when the engine reports an error in its 200 JSON stream', async () => {
    loadAnswer = (_body, res) => json(res, { errorDetail: { message: 'unexpected EOF' }, error: 'unexpected EOF' });
    await expect(runtime.loadImage(Readable.from(['not a tar']))).rejects.toThrow(
      'loading an image into fake (unix:///engine.sock) failed: unexpected EOF',
    );
  });

  it('load fails when the engine cuts the answer short', async () => {
    loadAnswer = (_body, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.write('{"stream":"Loading layer');
      setTimeout(() => res.destroy(), 20);
    };
    await expect(runtime.loadImage(Readable.from(['x']))).rejects.toThrow(/loading an image into fake/);
  });

  it('load fails when the archive stream fails, whatever the engine answers', async () => {
    loadAnswer = (_body, res) => json(res, { stream: 'Loaded image: x:y\n' });
    const broken = new Readable({
      read() {
        this.destroy(new Error('the source engine went away'));
      },
    });
    await expect(runtime.loadImage(broken)).rejects.toThrow(/the image archive could not be read: the source engine went away/);
  });
});
