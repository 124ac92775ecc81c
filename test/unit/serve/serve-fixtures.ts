import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { request as httpRequest, type Agent } from 'node:http';
import type { IncomingHttpHeaders, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { LocalDirPublisher } from '../../../farm/src/index/local-dir-publisher.ts';
import { makePureWheel } from '../../fixtures/wheels/make-zip.ts';
import type { PureWheelOptions } from '../../fixtures/wheels/make-zip.ts';

/** Publishes a real pure wheel with LocalDirPublisher into `root`; returns its filename. */
export async function publishWheel(work: string, root: string, options: PureWheelOptions): Promise<string> {
  const dir = mkdtempSync(join(work, 'build-'));
  const built = makePureWheel(dir, options);
  const sha256 = createHash('sha256').update(readFileSync(built.path)).digest('hex');
  await new LocalDirPublisher({ root }).publish({ path: built.path, filename: built.filename, sha256, project: options.name });
  return built.filename;
}

export async function listenLocal(server: Server): Promise<string> {
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

export async function closeServer(server: Server): Promise<void> {
  const closed = new Promise<void>((done) => server.close(() => done()));
  server.closeAllConnections();
  await closed;
}

export interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** A request with the path sent exactly as given (fetch would resolve `..` before sending it). */
export function raw(
  base: string,
  path: string,
  { method = 'GET', headers = {}, agent }: { method?: string; headers?: Record<string, string>; agent?: Agent } = {},
): Promise<RawResponse> {
  const url = new URL(base);
  return new Promise((done, fail) => {
    const req = httpRequest({ host: url.hostname, port: url.port, path, method, headers, ...(agent ? { agent } : {}) }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => done({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', fail);
    });
    req.on('error', fail);
    req.end();
  });
}
