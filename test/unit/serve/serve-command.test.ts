import { Agent, createServer } from 'node:http';
import type { Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runServe } from '../../../farm/src/cli/commands/serve-command.ts';
import { EXIT } from '../../../farm/src/cli/exit-codes.ts';
import type { ServeEnvironment } from '../../../farm/src/cli/commands/serve-command.ts';
import { UserInputError } from '../../../farm/src/errors.ts';
import { closeServer, listenLocal, publishWheel, raw } from './serve-fixtures.ts';

let work: string;
let root: string;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'wheelfarm-serve-cmd-'));
  root = join(work, 'index');
  await publishWheel(work, root, { name: 'tiny', version: '1.0' });
}, 30_000);
afterAll(() => rmSync(work, { recursive: true, force: true }));

interface Results {
  payloads: { type: string; [key: string]: unknown }[];
  text: string[];
}

/** What runServe uses: the index directory, a reporter that keeps what it is given, the stopping signal. */
function environment(signal: AbortSignal, indexDir: string, results: Results, onResult?: () => void): ServeEnvironment {
  return {
    signal,
    settings: { indexDir },
    reporter: {
      event: () => {},
      result: (payload: Results['payloads'][number], text: string[]) => {
        results.payloads.push(payload);
        results.text.push(...text);
        onResult?.();
      },
    },
  };
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (error: unknown) => error,
  );
}

describe('runServe', () => {
  it('serves the index given by --index until the signal, then closes and returns EXIT.ok', async () => {
    const controller = new AbortController();
    const results: Results = { payloads: [], text: [] };
    let announced!: () => void;
    const ready = new Promise<void>((done) => (announced = done));
    const running = runServe(
      environment(controller.signal, join(work, 'elsewhere'), results, () => announced()),
      {
        host: '127.0.0.1',
        port: '0',
        index: root,
      },
    );
    await ready;
    const payload = results.payloads[0] as { type: string; url: string; root: string };
    expect(payload.type).toBe('serving');
    expect(payload.root).toBe(root);
    expect(payload.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/simple\/$/);
    expect(results.text[0]).toBe(`serving ${root} at ${payload.url} (pip install --index-url ${payload.url} NAME)`);
    const origin = new URL(payload.url).origin;
    const page = await raw(origin, '/simple/tiny/');
    expect(page.status).toBe(200);
    expect(page.body.toString()).toContain('tiny-1.0-py3-none-any.whl');

    controller.abort();
    expect(await running).toBe(EXIT.ok);
    const agent = new Agent({ keepAlive: false });
    await expect(raw(origin, '/simple/', { agent })).rejects.toThrow(/ECONNREFUSED/);
    agent.destroy();
  });

  it('defaults to the index directory of the settings and notes an empty index', async () => {
    const controller = new AbortController();
    const results: Results = { payloads: [], text: [] };
    const empty = join(work, 'empty');
    const running = runServe(
      environment(controller.signal, empty, results, () => controller.abort()),
      { port: 0 },
    );
    expect(await running).toBe(EXIT.ok);
    expect(results.payloads[0]).toMatchObject({ type: 'serving', root: empty });
    expect(results.text.join('\n')).toContain('has no simple/index.html yet');
  });

  it('rejects a bad --port with a clear message', async () => {
    for (const port of ['abc', '-1', '65536', '1.5', '', '80x']) {
      const error = await rejection(runServe(environment(new AbortController().signal, root, { payloads: [], text: [] }), { port }));
      expect(error).toBeInstanceOf(UserInputError);
      expect(error).toMatchObject({ code: 'bad-port', message: expect.stringContaining('0 to 65535') });
    }
  });

  it('reports a port in use as port-in-use with a hint to choose --port', async () => {
    const blocker: Server = createServer();
    await listenLocal(blocker);
    try {
      const port = (blocker.address() as AddressInfo).port;
      const error = await rejection(
        runServe(environment(new AbortController().signal, root, { payloads: [], text: [] }), { host: '127.0.0.1', port: String(port) }),
      );
      expect(error).toBeInstanceOf(UserInputError);
      expect(error).toMatchObject({
        code: 'port-in-use',
        message: `port ${port} on 127.0.0.1 is already in use`,
        hint: expect.stringContaining('--port'),
      });
    } finally {
      await closeServer(blocker);
    }
  });
});
