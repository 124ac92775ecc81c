import { discardBody } from '../../upstream/http-request.ts';
import { retryIndexRequest } from '../retry-policy.ts';
import { indexRequest, readBodyText, sendIndexRequest, statusError } from './http.ts';
import type { IndexContext } from './http.ts';

/** One file as an index's simple page lists it. */
export interface IndexFile {
  filename: string;
  /** Absolute, without credentials. */
  url: string;
  /** Lower-case hex; absent when the page gives none. */
  sha256?: string;
  requiresPython?: string;
  size?: number;
}

const SIMPLE_JSON_V1 = 'application/vnd.pypi.simple.v1+json';
const ACCEPT = `${SIMPLE_JSON_V1}, text/html;q=0.5`;
const SHA256 = /^[0-9a-f]{64}$/;

/**
 * Reads a project's simple page (PEP 691 JSON when the server offers it, else the PEP 503 HTML with
 * `#sha256=` fragments). No page (404, or a redirect away: pypiserver's fallback) means no files.
 */
export async function readSimpleProject(
  pageUrl: URL,
  headers: Record<string, string>,
  context: IndexContext,
  signal?: AbortSignal,
): Promise<IndexFile[]> {
  const request = { url: pageUrl, headers: { ...headers, Accept: ACCEPT }, signal };
  // The body is read inside the try, so a page cut short is fetched again like a failed request.
  const page = await retryIndexRequest(
    async () => {
      const response = await sendIndexRequest(request, context);
      if (response.status === 404 || (response.status >= 300 && response.status < 400)) {
        await discardBody(response);
        return undefined;
      }
      if (!response.ok) throw await statusError(response, request, context);
      const type = (response.headers.get('content-type') ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
      return { type, text: await readBodyText(response, request, context) };
    },
    { policy: context.retry, signal },
  );
  if (!page) return [];
  if (page.type === SIMPLE_JSON_V1 || page.type === 'application/json') return parseJsonPage(page.text, pageUrl);
  return parseHtmlPage(page.text, pageUrl);
}

/** The size of a file from a HEAD request's Content-Length, or undefined. */
export async function headSize(
  url: string,
  headers: Record<string, string>,
  context: IndexContext,
  signal?: AbortSignal,
): Promise<number | undefined> {
  const response = await indexRequest(
    { method: 'HEAD', url: new URL(url), headers: { ...headers, 'Accept-Encoding': 'identity' }, signal },
    context,
  );
  await discardBody(response);
  const length = Number(response.headers.get('content-length'));
  return response.ok && Number.isInteger(length) && length >= 0 ? length : undefined;
}

interface JsonFile {
  filename?: unknown;
  url?: unknown;
  hashes?: Record<string, unknown>;
  'requires-python'?: unknown;
  size?: unknown;
}

function parseJsonPage(text: string, pageUrl: URL): IndexFile[] {
  const page = JSON.parse(text) as { files?: JsonFile[] };
  const files: IndexFile[] = [];
  for (const file of page.files ?? []) {
    if (typeof file.filename !== 'string' || typeof file.url !== 'string') continue;
    const url = new URL(file.url, pageUrl);
    const entry: IndexFile = { filename: file.filename, url: stripFragment(url) };
    const sha256 = typeof file.hashes?.sha256 === 'string' ? file.hashes.sha256.toLowerCase() : fragmentSha256(url);
    if (sha256 && SHA256.test(sha256)) entry.sha256 = sha256;
    if (typeof file['requires-python'] === 'string' && file['requires-python'].trim() !== '')
      entry.requiresPython = file['requires-python'];
    if (typeof file.size === 'number') entry.size = file.size;
    files.push(entry);
  }
  return files;
}

const ANCHOR = /<a\s([^>]*)>([\s\S]*?)<\/a\s*>/gi;
const ATTRIBUTE = /([a-zA-Z_:][-a-zA-Z0-9_:.]*)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+))/g;

function parseHtmlPage(text: string, pageUrl: URL): IndexFile[] {
  const files: IndexFile[] = [];
  for (const anchor of text.matchAll(ANCHOR)) {
    const attributes = new Map<string, string>();
    for (const attribute of (anchor[1] ?? '').matchAll(ATTRIBUTE)) {
      attributes.set((attribute[1] ?? '').toLowerCase(), decodeEntities(attribute[2] ?? attribute[3] ?? attribute[4] ?? ''));
    }
    const href = attributes.get('href');
    if (href === undefined) continue;
    const url = new URL(href, pageUrl);
    const filename = decodeURIComponent(url.pathname.split('/').pop() ?? '');
    if (filename === '') continue;
    const entry: IndexFile = { filename, url: stripFragment(url) };
    const sha256 = fragmentSha256(url);
    if (sha256) entry.sha256 = sha256;
    const requiresPython = attributes.get('data-requires-python');
    if (requiresPython && requiresPython.trim() !== '') entry.requiresPython = requiresPython;
    files.push(entry);
  }
  return files;
}

function fragmentSha256(url: URL): string | undefined {
  const match = /^#sha256=([0-9a-fA-F]{64})$/.exec(url.hash);
  return match?.[1]?.toLowerCase();
}

function stripFragment(url: URL): string {
  const copy = new URL(url);
  copy.hash = '';
  return copy.href;
}

function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#\d+|amp|lt|gt|quot|apos);/gi, (whole, entity: string) => {
    const lower = entity.toLowerCase();
    if (lower.startsWith('#x')) return String.fromCodePoint(Number.parseInt(lower.slice(2), 16));
    if (lower.startsWith('#')) return String.fromCodePoint(Number.parseInt(lower.slice(1), 10));
    return ({ amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" } as Record<string, string>)[lower] ?? whole;
  });
}
