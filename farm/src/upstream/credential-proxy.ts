import { randomBytes } from 'node:crypto';
import { createServer, STATUS_CODES } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { EnvironmentError } from '../errors.ts';
import { describeNetworkError, discardBody, sendRequest } from './http-request.ts';
import { createIndexLinkRewriter, pageKind } from './rewrite-index-links.ts';
import type { IndexLinkRewriter } from './rewrite-index-links.ts';

export interface CredentialProxyOptions {
  /** The upstream index URL, credentials included (`https://user:token@mirror.example/simple/`). */
  upstreamUrl: string;
  /** The address to listen on: the gateway of the engine's bridge network, where containers reach this machine. */
  host: string;
  /** Default 0: any free port. */
  port?: number;
  /**
   * Told when the upstream refuses the credentials (401, 403) or cannot be reached: pip, at its
   * default verbosity, says only that it found no matching distribution.
   */
  onProblem?: (problem: string) => void;
}

export interface CredentialProxy {
  /** The upstream index through the proxy, for PIP_INDEX_URL: `http://<host>:<port>/<token><upstream path>`. */
  indexUrl: string;
  /** `<host>:<port>`, for PIP_TRUSTED_HOST: pip ignores a plain-http index on a host it does not trust. */
  trustedHost: string;
  /** The address it listens on (for NO_PROXY). */
  host: string;
  close(): Promise<void>;
}

/** A page (HTML or JSON) is read whole to rewrite its links; no index page comes near this. */
const MAX_PAGE_BYTES = 64 * 1024 * 1024;

/** Request headers passed on to the upstream: what pip sends to negotiate, revalidate and resume. */
const FORWARDED_REQUEST_HEADERS = ['accept', 'user-agent', 'cache-control', 'if-none-match', 'if-modified-since', 'range', 'if-range'];

/** Response headers passed back; the rest (cookies, auth challenges, hop-by-hop) stay here. */
const FORWARDED_RESPONSE_HEADERS = [
  'content-type',
  'content-length',
  'content-range',
  'accept-ranges',
  'etag',
  'last-modified',
  'cache-control',
  'expires',
  'age',
  'date',
  'vary',
  'retry-after',
  'content-disposition',
];

/**
 * An authenticating pass-through to an upstream index whose URL carries credentials, so that they
 * never enter a container: containers get the proxy's URL, the proxy adds `Authorization: Basic`
 * from the upstream URL's credentials and sends the request with the farm's own HTTP stack (the
 * proxy environment, the host's CA bundle).
 *
 * - Only GET and HEAD of paths under `/<token>/`, a random path this process makes, forwarded to the
 *   same path of the upstream's origin: not an open proxy (no absolute-URL requests, no CONNECT), and
 *   another container on the machine cannot guess its way in.
 * - Files are streamed both ways, never held whole (wheels can be GBs); simple pages (HTML, PEP 691
 *   JSON) are read whole and their links to the upstream origin (credentials in them or not) and
 *   root-relative links rewritten to go through the proxy. Same-origin redirects are rewritten too.
 * - A 401 or 403 from the upstream reaches pip with a reason that says the upstream refused the
 *   credentials of its URL (pip prints it in the step's log); an upstream that cannot be reached is
 *   a 502 that says why.
 */
export async function startCredentialProxy(options: CredentialProxyOptions): Promise<CredentialProxy> {
  const upstream = new URL(options.upstreamUrl);
  const token = randomBytes(16).toString('hex');
  const server = createServer();
  const port = await listen(server, options.host, options.port ?? 0);
  // Never what keeps the farm process alive; the command's end closes it (Farm.close).
  server.unref();
  const hostInUrl = options.host.includes(':') ? `[${options.host}]` : options.host;
  const proxyBase = `http://${hostInUrl}:${port}/${token}`;
  const route: ProxyRoute = {
    prefix: `/${token}/`,
    upstreamOrigin: upstream.origin,
    credentials: { username: upstream.username, password: upstream.password },
    rewriter: createIndexLinkRewriter({ upstreamOrigin: upstream.origin, proxyBase }),
    onProblem: options.onProblem ?? (() => undefined),
  };
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    forward(req, res, route).catch((error: unknown) => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      const reason = describeNetworkError(error);
      route.onProblem(`could not reach the upstream index ${upstream.origin} for ${req.method} ${upstreamPath(req, route)}: ${reason}`);
      answer(res, 502, 'the upstream index could not be reached', reason);
    });
  });
  return {
    indexUrl: `${proxyBase}${upstream.pathname}`,
    trustedHost: `${hostInUrl}:${port}`,
    host: options.host,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

interface ProxyRoute {
  prefix: string;
  upstreamOrigin: string;
  credentials: { username: string; password: string };
  rewriter: IndexLinkRewriter;
  onProblem: (problem: string) => void;
}

async function forward(req: IncomingMessage, res: ServerResponse, route: ProxyRoute): Promise<void> {
  const method = req.method;
  if (method !== 'GET' && method !== 'HEAD') {
    answer(res, 405, 'only GET and HEAD are forwarded', `${method ?? ''} is not`, { allow: 'GET, HEAD' });
    return;
  }
  const requestTarget = req.url ?? '';
  if (!requestTarget.startsWith('/')) {
    answer(res, 400, 'only paths are forwarded', 'this is not an open proxy: no absolute URLs, no CONNECT');
    return;
  }
  const target = targetOf(requestTarget, route);
  if (!target) {
    answer(res, 404, 'not a path of the upstream index', 'this proxy forwards only the paths under its own base path');
    return;
  }
  const cancel = new AbortController();
  res.on('close', () => {
    if (!res.writableFinished) cancel.abort();
  });
  const upstreamUrl = new URL(target);
  upstreamUrl.username = route.credentials.username;
  upstreamUrl.password = route.credentials.password;
  const response = await sendRequest({
    url: upstreamUrl,
    method,
    headers: forwardedRequestHeaders(req),
    // pip asks for files with `Accept-Encoding: identity`: their bytes must arrive as stored, hashes and all.
    identity: req.headers['accept-encoding'] === 'identity',
    redirect: 'manual',
    signal: cancel.signal,
  });
  const headers = responseHeaders(response);
  const location = response.headers.get('location');
  if (location !== null) headers.location = route.rewriter.rewriteLocation(location, target);
  const reason = refusalReason(response.status);
  if (response.status === 401 || response.status === 403) {
    route.onProblem(
      `the upstream index ${route.upstreamOrigin} refused the credentials of its URL: HTTP ${response.status} for ${method} ${target.pathname}` +
        ' (check the user name and password or token in the upstream index URL)',
    );
  }
  const kind = pageKind(response.headers.get('content-type'));
  if (method === 'HEAD' || response.body === null) {
    await discardBody(response);
    if (kind !== undefined) delete headers['content-length'];
    res.writeHead(response.status, reason, headers).end();
    return;
  }
  if (kind !== undefined) {
    const page = await readPage(response.body as WebReadableStream<Uint8Array>, cancel);
    if (page === undefined) {
      answer(res, 502, 'the upstream index sent a page too large to rewrite', `more than ${MAX_PAGE_BYTES} bytes`);
      return;
    }
    const body = Buffer.from(route.rewriter.rewriteBody(page, response.headers.get('content-type') ?? ''), 'utf8');
    res.writeHead(response.status, reason, { ...headers, 'content-length': String(body.length) }).end(body);
    return;
  }
  res.writeHead(response.status, reason, headers);
  await pipeline(Readable.fromWeb(response.body as WebReadableStream<Uint8Array>), res);
}

/** The path a request asked for, without the proxy's base path (for messages). */
function upstreamPath(req: IncomingMessage, route: ProxyRoute): string {
  return (req.url ?? '').slice(route.prefix.length - 1).split('?')[0]!;
}

/** The upstream URL for a request line's target, or undefined when it is not an origin-form path under the base path. */
function targetOf(requestTarget: string, route: ProxyRoute): URL | undefined {
  if (!requestTarget.startsWith(route.prefix)) return undefined;
  let target: URL;
  try {
    // Concatenated, never resolved: `//other.host/...` stays a path of the upstream's origin.
    target = new URL(`${route.upstreamOrigin}${requestTarget.slice(route.prefix.length - 1)}`);
  } catch {
    return undefined;
  }
  return target.origin === route.upstreamOrigin ? target : undefined;
}

function forwardedRequestHeaders(req: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const name of FORWARDED_REQUEST_HEADERS) {
    const value = req.headers[name];
    if (typeof value === 'string') headers[name] = value;
  }
  return headers;
}

function responseHeaders(response: Response): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const name of FORWARDED_RESPONSE_HEADERS) {
    const value = response.headers.get(name);
    if (value !== null) headers[name] = value;
  }
  // fetch() decoded a compressed transfer: the length was the compressed one.
  const encoding = response.headers.get('content-encoding');
  if (encoding !== null && encoding !== 'identity') delete headers['content-length'];
  return headers;
}

/** The reason phrase pip prints (`401 Client Error: <reason> for url: ...`) when the upstream refuses. */
function refusalReason(status: number): string {
  const standard = STATUS_CODES[status] ?? 'Unknown';
  if (status === 401 || status === 403) return `${standard} (the upstream index refused the credentials of its URL)`;
  return standard;
}

async function readPage(body: WebReadableStream<Uint8Array>, cancel: AbortController): Promise<string | undefined> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.byteLength;
    if (size > MAX_PAGE_BYTES) {
      cancel.abort();
      return undefined;
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** An answer of the proxy's own, with the reason in the status line (what pip prints) and the detail in the body. */
function answer(res: ServerResponse, status: number, reason: string, detail: string, headers: Record<string, string> = {}): void {
  const body = `wheelfarm credential proxy: ${reason}: ${detail}\n`;
  res.writeHead(status, `${STATUS_CODES[status] ?? 'Error'} (${reason})`, {
    ...headers,
    'content-type': 'text/plain; charset=utf-8',
    'content-length': String(Buffer.byteLength(body)),
  });
  res.end(body);
}

async function listen(server: Server, host: string, port: number): Promise<number> {
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host, port }, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new EnvironmentError(
      'credential-proxy-failed',
      `could not start the proxy that lends containers the upstream index's credentials on ${host}: ${code ?? (error as Error).message}`,
      {
        hint:
          code === 'EADDRNOTAVAIL'
            ? `${host}, the gateway of the Docker engine's bridge network, is not an address of this machine (rootless Docker, Docker Desktop and a forwarded socket keep it elsewhere): run the engine here, or use an upstream index URL without credentials`
            : 'check that this machine lets the farm listen on that address, or use an upstream index URL without credentials',
        cause: error,
      },
    );
  }
  return (server.address() as AddressInfo).port;
}
