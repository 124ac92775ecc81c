import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { open } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { isValidProjectName, normalizeName } from '../../wheels/names.ts';
import { negotiate, REPRESENTATIONS } from './negotiate.ts';
import type { PageFormat, Representation } from './negotiate.ts';

export interface IndexServerLogEntry {
  method: string;
  path: string;
  status: number;
  milliseconds: number;
}

export interface IndexServerLogger {
  /** One call per answered request. */
  request?(entry: IndexServerLogEntry): void;
  /** An unexpected failure (the client got a 500 or a cut connection). */
  error?(message: string, error: unknown): void;
}

export interface IndexServerOptions {
  /** The directory index (the `root` of LocalDirPublisher). */
  root: string;
  logger?: IndexServerLogger;
}

const FILE_CACHE = 'public, max-age=31536000, immutable';
const PAGE_CACHE = 'max-age=60';
const ALLOW = 'GET, HEAD';
/** Error codes that only mean the client hung up. */
const CLIENT_GONE = new Set(['ERR_STREAM_PREMATURE_CLOSE', 'ERR_STREAM_DESTROYED', 'ERR_STREAM_UNABLE_TO_PIPE', 'ECONNRESET', 'EPIPE']);

/**
 * A read-only HTTP server for the directory index LocalDirPublisher writes, for pip and uv:
 *
 *   /                        302 to /simple/
 *   /simple/                 the root page
 *   /simple/<project>/       the project page; PEP 691 negotiation between index.html and index.json
 *   /files/<project>/<file>  wheels and their PEP 658 `.metadata` files, with Range support
 *
 * Files are served from an open handle (fstat then stream), so a page replaced by atomic rename
 * mid-request is still sent whole and with a matching Content-Length. Returned not listening.
 */
export function createIndexServer({ root, logger }: IndexServerOptions): Server {
  const base = resolve(root);
  const server = createServer({ keepAlive: true }, (request, response) => {
    const started = performance.now();
    response.on('finish', () =>
      logger?.request?.({
        method: request.method ?? '',
        path: request.url ?? '',
        status: response.statusCode,
        milliseconds: performance.now() - started,
      }),
    );
    handle(base, request, response).catch((error: unknown) => {
      if (response.destroyed || CLIENT_GONE.has((error as NodeJS.ErrnoException).code ?? '')) {
        response.destroy();
        return;
      }
      logger?.error?.(`${request.method} ${request.url}: ${error instanceof Error ? error.message : String(error)}`, error);
      if (!response.headersSent) sendText(request, response, 500, 'internal server error');
      else response.destroy();
    });
  });
  return server;
}

async function handle(base: string, request: IncomingMessage, response: ServerResponse): Promise<void> {
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    response.setHeader('Allow', ALLOW);
    return sendText(request, response, 405, `method ${request.method} not allowed`);
  }
  const segments = parsePath(request.url ?? '');
  if (!segments) return notFound(request, response);
  const [top, ...rest] = segments;

  if (segments.length === 0 || (segments.length === 1 && top === '')) return redirect(request, response, 302, '/simple/');
  if (top === 'simple') return servePage(base, request, response, rest);
  if (top === 'files' && rest.length === 2) {
    const [project = '', filename = ''] = rest;
    if (!isValidProjectName(project) || !isServableName(filename)) return notFound(request, response);
    const path = inside(base, 'files', project, filename);
    if (!path) return notFound(request, response);
    const contentType = filename.endsWith('.metadata') ? 'text/plain; charset=utf-8' : 'application/octet-stream';
    return serveFile(request, response, path, { contentType, cacheControl: FILE_CACHE });
  }
  return notFound(request, response);
}

/** `/simple/...` after the first segment. */
async function servePage(base: string, request: IncomingMessage, response: ServerResponse, rest: string[]): Promise<void> {
  // `/simple` -> `/simple/`
  if (rest.length === 0) return redirect(request, response, 301, '/simple/');
  if (rest.length === 1 && rest[0] === '') return serveNegotiated(base, request, response, []);
  const [name = '', tail, ...more] = rest;
  if (more.length > 0 || (tail !== undefined && tail !== '') || !isValidProjectName(name)) return notFound(request, response);
  const normalized = normalizeName(name);
  if (normalized !== name || tail === undefined) return redirect(request, response, 301, `/simple/${normalized}/`);
  return serveNegotiated(base, request, response, [normalized]);
}

async function serveNegotiated(base: string, request: IncomingMessage, response: ServerResponse, dir: string[]): Promise<void> {
  response.setHeader('Vary', 'Accept');
  const htmlPath = inside(base, 'simple', ...dir, 'index.html');
  const jsonPath = inside(base, 'simple', ...dir, 'index.json');
  if (!htmlPath || !jsonPath) return notFound(request, response);
  const [html, json] = await Promise.all([openFile(htmlPath), openFile(jsonPath)]);
  const handles = { html, json };
  const available = new Set<PageFormat>((['html', 'json'] as const).filter((format) => handles[format]));
  if (available.size === 0) return notFound(request, response, dir.length === 0 ? 'the index is empty' : `no project ${dir[0]}`);
  const chosen: Representation | undefined = negotiate(header(request, 'accept'), available);
  for (const format of ['html', 'json'] as const) {
    if (format !== chosen?.format) await handles[format]?.handle.close();
  }
  if (!chosen) {
    const offered = REPRESENTATIONS.filter((r) => available.has(r.format)).map((r) => r.names[0]);
    return sendText(request, response, 406, `none of the accepted types is available; this page exists as: ${offered.join(', ')}`);
  }
  const opened = handles[chosen.format];
  if (!opened) return notFound(request, response);
  return sendOpened(request, response, opened, { contentType: chosen.contentType, cacheControl: PAGE_CACHE });
}

interface OpenedFile {
  handle: FileHandle;
  size: number;
  mtimeMs: number;
}

/** An open regular file, or undefined when there is none (missing, a directory, not readable). */
async function openFile(path: string): Promise<OpenedFile | undefined> {
  let handle: FileHandle;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR' || code === 'EACCES' || code === 'ENAMETOOLONG') return undefined;
    throw error;
  }
  try {
    const info = await handle.stat();
    if (!info.isFile()) {
      await handle.close();
      return undefined;
    }
    return { handle, size: info.size, mtimeMs: info.mtimeMs };
  } catch (error) {
    await handle.close();
    throw error;
  }
}

async function serveFile(
  request: IncomingMessage,
  response: ServerResponse,
  path: string,
  headers: { contentType: string; cacheControl: string },
): Promise<void> {
  const opened = await openFile(path);
  if (!opened) return notFound(request, response);
  return sendOpened(request, response, opened, headers);
}

async function sendOpened(
  request: IncomingMessage,
  response: ServerResponse,
  { handle, size, mtimeMs }: OpenedFile,
  { contentType, cacheControl }: { contentType: string; cacheControl: string },
): Promise<void> {
  let handed = false;
  try {
    const etag = `"${size.toString(16)}-${Math.floor(mtimeMs).toString(16)}"`;
    response.setHeader('Content-Type', contentType);
    response.setHeader('Cache-Control', cacheControl);
    response.setHeader('ETag', etag);
    response.setHeader('Last-Modified', new Date(mtimeMs).toUTCString());
    response.setHeader('Accept-Ranges', 'bytes');

    if (matchesEtag(header(request, 'if-none-match'), etag)) {
      response.statusCode = 304;
      response.end();
      return;
    }
    const ifRange = header(request, 'if-range');
    const range = ifRange === undefined || ifRange === etag ? parseRange(header(request, 'range'), size) : undefined;
    if (range === 'unsatisfiable') {
      response.setHeader('Content-Range', `bytes */${size}`);
      response.removeHeader('Cache-Control');
      return sendText(request, response, 416, `range not satisfiable: the file has ${size} bytes`);
    }
    const start = range?.start ?? 0;
    const end = range?.end ?? size - 1;
    response.statusCode = range ? 206 : 200;
    if (range) response.setHeader('Content-Range', `bytes ${start}-${end}/${size}`);
    response.setHeader('Content-Length', String(end - start + 1));
    if (request.method === 'HEAD' || size === 0) {
      response.end();
      return;
    }
    if (response.destroyed) return;
    handed = true;
    const stream = handle.createReadStream({ start, end, autoClose: true });
    await pipeline(stream, response).catch((error: unknown) => {
      // A client that goes away mid-download is normal, not a server fault.
      if (response.destroyed || CLIENT_GONE.has((error as NodeJS.ErrnoException).code ?? '')) return;
      throw error;
    });
  } finally {
    if (!handed) await handle.close();
  }
}

function matchesEtag(ifNoneMatch: string | undefined, etag: string): boolean {
  if (ifNoneMatch === undefined) return false;
  if (ifNoneMatch.trim() === '*') return true;
  return ifNoneMatch.split(',').some((tag) => tag.trim().replace(/^W\//, '') === etag);
}

/**
 * One `bytes=` range, clamped to the file; undefined when there is none or it cannot be honoured
 * simply (bad syntax, several ranges: the whole file is sent, as RFC 9110 allows).
 */
export function parseRange(value: string | undefined, size: number): { start: number; end: number } | 'unsatisfiable' | undefined {
  if (value === undefined) return undefined;
  const match = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(value);
  if (!match) return undefined;
  const [, first = '', last = ''] = match;
  if (first === '' && last === '') return undefined;
  if (first === '') {
    const suffix = Number(last);
    if (suffix === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(size - suffix, 0), end: size - 1 };
  }
  const start = Number(first);
  const end = last === '' ? Number.MAX_SAFE_INTEGER : Number(last);
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || end < start) return undefined;
  if (start >= size) return 'unsatisfiable';
  return { start, end: Math.min(end, size - 1) };
}

/**
 * The decoded path segments of a request target, or undefined for anything that could escape the
 * index or name something else than intended: `.`/`..` segments, encoded `/` or `\`, NUL, bad escapes.
 */
export function parsePath(target: string): string[] | undefined {
  const query = target.search(/[?#]/);
  const path = query === -1 ? target : target.slice(0, query);
  if (!path.startsWith('/')) return undefined;
  const segments: string[] = [];
  for (const raw of path.slice(1).split('/')) {
    let segment: string;
    try {
      segment = decodeURIComponent(raw);
    } catch {
      return undefined;
    }
    if (segment === '.' || segment === '..' || /[/\\\0]/.test(segment)) return undefined;
    segments.push(segment);
  }
  // `//x` or `/simple//x`: an empty segment anywhere but last is not a path we serve.
  if (segments.slice(0, -1).some((segment) => segment === '')) return undefined;
  return segments;
}

/** A file name we serve: no dot files (temp files of atomic writes, lock files), nothing odd. */
function isServableName(name: string): boolean {
  return name !== '' && !name.startsWith('.') && !/[/\\\0]/.test(name);
}

/** `base/...parts`, or undefined if that would leave `base`. */
function inside(base: string, ...parts: string[]): string | undefined {
  const path = join(base, ...parts);
  return path.startsWith(base + sep) ? path : undefined;
}

function header(request: IncomingMessage, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}

function redirect(request: IncomingMessage, response: ServerResponse, status: 301 | 302, location: string): void {
  response.setHeader('Location', location);
  response.setHeader('Cache-Control', PAGE_CACHE);
  sendText(request, response, status, `see ${location}`);
}

function notFound(request: IncomingMessage, response: ServerResponse, message = 'not found'): void {
  sendText(request, response, 404, message);
}

function sendText(request: IncomingMessage, response: ServerResponse, status: number, text: string): void {
  const body = Buffer.from(`${text}\n`);
  response.statusCode = status;
  response.setHeader('Content-Type', 'text/plain; charset=utf-8');
  response.setHeader('Content-Length', String(body.length));
  if (status >= 400 && !response.hasHeader('Cache-Control')) response.setHeader('Cache-Control', 'no-store');
  response.end(request.method === 'HEAD' ? undefined : body);
}
