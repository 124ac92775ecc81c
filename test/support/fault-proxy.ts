import { once } from 'node:events';
import { createServer, request as httpRequest } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/**
 * A real HTTP proxy for tests, put in front of a real server (moto, devpi-server, pypiserver): it
 * forwards every request as it came (Host header included, so the server builds its URLs for the
 * proxy), except those a rule picks, which it answers with a fault instead:
 *
 *   { status: 503, retryAfter: '1' }      an error answer (after reading the request)
 *   { hang: true }                        reads the request and never answers (the client times out)
 *   { reset: true }                       cuts the connection in the middle of the body: the request's
 *                                         (half of it reaches the server first), or for a request
 *                                         without a body the response's (headers and half the body sent)
 *
 * `refuseConnections()` closes the listening socket, so connecting is refused as with a server that is
 * down; `acceptConnections()` listens again on the same port. Every request is recorded in `seen`.
 */
export type Fault = { status: number; retryAfter?: string; body?: string; contentType?: string } | { hang: true } | { reset: true };

/** An S3 error answer, as S3 sends one (code and message in XML), so the SDK parses it as the server's own. */
export function s3ErrorFault(status: number, code: string, retryAfter?: string): Fault {
  return {
    status,
    contentType: 'application/xml',
    body: `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>injected ${code}</Message></Error>`,
    ...(retryAfter ? { retryAfter } : {}),
  };
}

export interface FaultRule {
  /** Upper-case method; any when absent. */
  method?: string;
  /** Matched against the decoded path without the query: a string must be equal, a RegExp match. Any when absent. */
  path?: string | RegExp;
  /** For the next N matching requests; until removed when absent. */
  times?: number;
  fault: Fault;
}

export interface SeenRequest {
  method: string;
  /** Decoded, without the query. */
  path: string;
  /** `forwarded`, or the fault the proxy played instead. */
  action: 'forwarded' | 'status' | 'hang' | 'reset';
  /** The status the client got (forwarded or injected); undefined when it got none. */
  status: number | undefined;
  startedAt: number;
  /** When the exchange ended, answered or cut (performance.now()). */
  endedAt: number | undefined;
  /** The client closed the connection before it had an answer: it gave up (timed out). */
  clientGaveUp: boolean;
}

export interface FaultHandle {
  /** Matching requests the rule has not met yet (Infinity until removed). */
  readonly remaining: number;
  remove(): void;
}

interface ActiveRule extends FaultRule {
  left: number;
}

export class FaultProxy {
  readonly url: string;
  readonly seen: SeenRequest[] = [];
  readonly #server: Server;
  readonly #port: number;
  readonly #upstream: URL;
  readonly #rules: ActiveRule[] = [];
  readonly #sockets = new Set<Socket>();
  #accepting: Promise<void> | undefined;

  private constructor(server: Server, port: number, upstream: URL) {
    this.#server = server;
    this.#port = port;
    this.#upstream = upstream;
    this.url = `http://127.0.0.1:${port}`;
  }

  /** A proxy on a free loopback port in front of `upstream` (e.g. `http://127.0.0.1:5055`). */
  static async start(upstream: string): Promise<FaultProxy> {
    const server = createServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const address = server.address();
    if (typeof address !== 'object' || !address) throw new Error('the fault proxy got no port');
    const proxy = new FaultProxy(server, address.port, new URL(upstream));
    server.on('request', (request: IncomingMessage, response: ServerResponse) => proxy.#handle(request, response));
    server.on('connection', (socket: Socket) => proxy.#track(socket));
    return proxy;
  }

  inject(rule: FaultRule): FaultHandle {
    const active: ActiveRule = { ...rule, left: rule.times ?? Infinity };
    this.#rules.push(active);
    return {
      get remaining() {
        return active.left;
      },
      remove: () => {
        const index = this.#rules.indexOf(active);
        if (index >= 0) this.#rules.splice(index, 1);
      },
    };
  }

  /** Removes every rule: from now on everything is forwarded. */
  clear(): void {
    this.#rules.length = 0;
  }

  /** What was seen for `method` on paths matching `path`, in order. */
  requests(method: string, path: string | RegExp): SeenRequest[] {
    return this.seen.filter((seen) => seen.method === method && matches(path, seen.path));
  }

  /** Stops listening and drops open connections: clients now get ECONNREFUSED, as from a stopped server. */
  async refuseConnections(): Promise<void> {
    const closed = new Promise((resolve) => this.#server.close(resolve));
    for (const socket of this.#sockets) socket.destroy();
    await closed;
  }

  /** Listens again on the same port; a no-op when it listens already. */
  acceptConnections(): Promise<void> {
    if (this.#server.listening) return Promise.resolve();
    this.#accepting ??= (async () => {
      this.#server.listen(this.#port, '127.0.0.1');
      await once(this.#server, 'listening');
    })().finally(() => {
      this.#accepting = undefined;
    });
    return this.#accepting;
  }

  async close(): Promise<void> {
    this.clear();
    if (this.#server.listening) await this.refuseConnections();
    for (const socket of this.#sockets) socket.destroy();
  }

  #track(socket: Socket): void {
    this.#sockets.add(socket);
    socket.once('close', () => this.#sockets.delete(socket));
  }

  #handle(request: IncomingMessage, response: ServerResponse): void {
    const path = decodeURIComponent(new URL(request.url ?? '/', 'http://proxy').pathname);
    const method = request.method ?? 'GET';
    const rule = this.#rules.find(
      (each) =>
        each.left > 0 && (each.method === undefined || each.method === method) && (each.path === undefined || matches(each.path, path)),
    );
    if (rule) rule.left -= 1;
    const fault = rule?.fault;
    const seen: SeenRequest = {
      method,
      path,
      action: fault === undefined ? 'forwarded' : 'status' in fault ? 'status' : 'hang' in fault ? 'hang' : 'reset',
      status: undefined,
      startedAt: performance.now(),
      endedAt: undefined,
      clientGaveUp: false,
    };
    this.seen.push(seen);
    response.once('close', () => {
      seen.endedAt ??= performance.now();
      if (!response.writableFinished && seen.action !== 'reset') seen.clientGaveUp = true;
    });
    if (fault === undefined) this.#forward(request, response, seen);
    else if ('status' in fault) this.#answer(request, response, seen, fault);
    else if ('hang' in fault) request.resume();
    else this.#reset(request, response, seen);
  }

  #answer(request: IncomingMessage, response: ServerResponse, seen: SeenRequest, fault: Extract<Fault, { status: number }>): void {
    // Read the whole request first, as a server does, so the client is not cut while sending.
    request.resume();
    request.once('end', () => {
      const body = fault.body ?? `injected fault: HTTP ${fault.status}\n`;
      response.writeHead(fault.status, {
        'Content-Type': fault.contentType ?? 'text/plain; charset=utf-8',
        'Content-Length': Buffer.byteLength(body),
        ...(fault.retryAfter !== undefined ? { 'Retry-After': fault.retryAfter } : {}),
      });
      seen.status = fault.status;
      response.end(body);
    });
  }

  #forward(request: IncomingMessage, response: ServerResponse, seen: SeenRequest): void {
    const upstream = this.#open(request, (answer) => {
      seen.status = answer.statusCode;
      response.writeHead(answer.statusCode ?? 502, answer.rawHeaders);
      answer.pipe(response);
    });
    upstream.on('error', () => {
      if (!response.headersSent) {
        seen.status = 502;
        response.writeHead(502, { 'Content-Type': 'text/plain' }).end('fault proxy: the server behind it failed\n');
      } else {
        response.destroy();
      }
    });
    request.pipe(upstream);
  }

  #reset(request: IncomingMessage, response: ServerResponse, seen: SeenRequest): void {
    const length = Number(request.headers['content-length'] ?? 0);
    const hasBody = length > 0 || /chunked/i.test(request.headers['transfer-encoding'] ?? '');
    let done = false;
    const cut = (): void => {
      if (done) return;
      done = true;
      seen.endedAt = performance.now();
      upstream.destroy();
      // An RST, not a FIN: the client sees ECONNRESET, as from a crashed server or a dropped link.
      request.socket.resetAndDestroy();
    };
    // With a body: half of it reaches the server, then both connections drop. Without: the server's
    // headers and half its body reach the client, then the connection drops.
    const upstream = this.#open(request, hasBody ? cut : (answer) => sendHalf(answer, response, seen, cut));
    upstream.on('error', () => undefined);
    if (!hasBody) {
      upstream.end();
      return;
    }
    const half = length > 0 ? Math.floor(length / 2) : 64 * 1024;
    let sent = 0;
    request.on('data', (chunk: Buffer) => {
      if (sent >= half) return;
      const part = chunk.subarray(0, half - sent);
      sent += part.length;
      upstream.write(part, sent >= half ? cut : undefined);
    });
    request.on('end', cut);
  }

  #open(request: IncomingMessage, onResponse: (answer: IncomingMessage) => void): ReturnType<typeof httpRequest> {
    const headers = { ...request.headers };
    // Node's server has already sent the client its `100 Continue`; the body goes on at once.
    delete headers.expect;
    return httpRequest(
      {
        host: this.#upstream.hostname,
        port: this.#upstream.port,
        method: request.method,
        path: request.url,
        headers,
      },
      onResponse,
    );
  }
}

/** The status, headers and half the body of `answer`, then `cut` (at once when it has no body to halve). */
function sendHalf(answer: IncomingMessage, response: ServerResponse, seen: SeenRequest, cut: () => void): void {
  const half = Math.floor(Number(answer.headers['content-length'] ?? 0) / 2);
  if (!(half > 0)) {
    cut();
    return;
  }
  seen.status = answer.statusCode;
  response.writeHead(answer.statusCode ?? 502, answer.rawHeaders);
  let sent = 0;
  answer.on('data', (chunk: Buffer) => {
    const part = chunk.subarray(0, half - sent);
    if (part.length === 0) return;
    sent += part.length;
    response.write(part, sent >= half ? cut : undefined);
  });
}

function matches(pattern: string | RegExp, path: string): boolean {
  return typeof pattern === 'string' ? pattern === path : pattern.test(path);
}
