import { TransientError } from '../errors.ts';
import { redactUrl } from './redact-url.ts';
import { splitUrlCredentials } from './split-url-credentials.ts';

export interface HttpRequestOptions {
  /** May carry credentials (`https://user:pass@host/...`); they are sent as Basic auth. */
  url: string | URL;
  accept?: string;
  /** Ask for the bytes as stored (`Accept-Encoding: identity`): fetch() would otherwise decode a gzip transfer. */
  identity?: boolean;
  signal?: AbortSignal | undefined;
  /** Default GET. */
  method?: 'GET' | 'HEAD';
  /** More request headers (a client's conditional and range headers, passed on); they cannot replace the Authorization. */
  headers?: Record<string, string>;
  /** `manual`: a redirect comes back as the response, for the caller to pass on. Default `follow`. */
  redirect?: 'follow' | 'manual';
}

const USER_AGENT = 'wheelfarm';

/**
 * One GET with the farm's conventions: credentials in the URL become an Authorization header,
 * network faults and HTTP 429/5xx become TransientError (so withRetry retries them); any other
 * response, including 4xx, is returned for the caller to judge. An abort rethrows the signal's reason.
 */
export async function httpRequest(options: HttpRequestOptions): Promise<Response> {
  const response = await sendRequest(options);
  if (isTransientStatus(response.status)) {
    await discardBody(response);
    throw new TransientError('http-unavailable', `${redactUrl(splitUrlCredentials(options.url).url)} answered HTTP ${response.status}`, {
      hint: 'The server is overloaded or failing; try again later.',
    });
  }
  return response;
}

/**
 * The request itself, with the farm's conventions (credentials in the URL become an Authorization
 * header; a network fault becomes a TransientError) and every answer returned as it came, 5xx
 * included: what the credential proxy passes on to pip, which retries those itself.
 */
export async function sendRequest(options: HttpRequestOptions): Promise<Response> {
  const { url, authorization } = splitUrlCredentials(options.url);
  const headers: Record<string, string> = { 'user-agent': USER_AGENT };
  for (const [name, value] of Object.entries(options.headers ?? {})) headers[name.toLowerCase()] = value;
  if (options.accept !== undefined) headers.accept = options.accept;
  if (options.identity === true) headers['accept-encoding'] = 'identity';
  delete headers.authorization;
  if (authorization !== undefined) headers.authorization = authorization;
  try {
    return await fetch(url, {
      method: options.method ?? 'GET',
      headers,
      redirect: options.redirect ?? 'follow',
      ...(options.signal ? { signal: options.signal } : {}),
    });
  } catch (error) {
    if (options.signal?.aborted) throw options.signal.reason;
    throw networkError(url, error);
  }
}

export function isTransientStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

/** A TransientError for a failed connection or a body cut short. */
export function networkError(url: string | URL, error: unknown): TransientError {
  return new TransientError('network-error', `could not fetch ${redactUrl(url)}: ${describeNetworkError(error)}`, {
    hint: 'Check the network connection and the proxy settings, then try again.',
    cause: error,
  });
}

export async function discardBody(response: Response): Promise<void> {
  try {
    await response.body?.cancel();
  } catch {
    // The body is unwanted; a failure to drain it changes nothing.
  }
}

/** fetch() reports `TypeError: fetch failed` with the useful part (ECONNREFUSED, ...) as its cause. */
export function describeNetworkError(error: unknown): string {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current instanceof Error; depth++) {
    const code = (current as { code?: unknown }).code;
    parts.push(typeof code === 'string' && !current.message.includes(code) ? `${current.message} (${code})` : current.message);
    current = current.cause;
  }
  return parts.length > 0 ? redactUrl(parts.join(': ')) : String(error);
}
