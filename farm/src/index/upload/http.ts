import { TransientError, UserInputError, WheelfarmError } from '../../errors.ts';
import { describeNetworkError, discardBody, isTransientStatus } from '../../upstream/http-request.ts';
import { redactUrl } from '../../upstream/redact-url.ts';
import { parseRetryAfter } from '../../upstream/with-retry.ts';
import { retryIndexRequest } from '../retry-policy.ts';
import type { IndexRetryPolicy } from '../retry-policy.ts';

/** What a publisher says about the index it talks to, for messages: e.g. `pypiserver at http://host/`. */
export interface IndexContext {
  /** Redacted, for messages. */
  shown: string;
  /** Where the credentials are set, for the 401/403 hint. */
  credentialsHint: string;
  /** Tries, back-off and timeout of each request. */
  retry: IndexRetryPolicy;
}

export interface IndexRequest {
  method?: string;
  url: URL;
  headers?: Record<string, string>;
  body?: BodyInit;
  signal?: AbortSignal | undefined;
  /**
   * False: no timeout of ours (the upload, whose length grows with the wheel; fetch's own limits of
   * 300 s without an answer or a byte apply). Default: the policy's `timeoutMs` for the whole exchange.
   */
  timed?: boolean;
}

const USER_AGENT = 'wheelfarm';

const PUBLISH_AGAIN =
  ' Publish again once it answers: it checks what the server lists under the filename, so nothing half-uploaded passes for published.';
const TRANSIENT_HINTS = {
  'index-unavailable': `The index server answered with a server error (5xx, 429 or 408); its log says why.${PUBLISH_AGAIN}`,
  'index-connection-failed': `No connection to the index server, or it broke in the middle. Check that the server is running and reachable at that address (proxy, firewall).${PUBLISH_AGAIN}`,
  'index-timeout': `The index server took the connection but did not answer in time. Check its health and load; on a slow link give the index URL a longer \`timeout=\` (e.g. \`?timeout=120s\`).${PUBLISH_AGAIN}`,
} as const;

/**
 * One request to an index we publish to, tried as `context.retry` says: network faults, timeouts and
 * 408/429/5xx are tried again after a back-off, and after the last try they become an
 * IndexUnavailableError. Every other response is returned for the caller to judge (see statusError).
 * Never follows redirects to another origin: a fallback redirect (pypiserver sends unknown projects to
 * the public index) is returned as is.
 */
export function indexRequest(request: IndexRequest, context: IndexContext): Promise<Response> {
  return retryIndexRequest(() => sendIndexRequest(request, context), { policy: context.retry, signal: request.signal });
}

/** One try of indexRequest: a failure that may pass is a TransientError (`index-unavailable`, `index-connection-failed`, `index-timeout`). */
export async function sendIndexRequest(request: IndexRequest, context: IndexContext): Promise<Response> {
  const headers: Record<string, string> = { 'User-Agent': USER_AGENT, ...request.headers };
  const timeout = request.timed === false ? undefined : AbortSignal.timeout(context.retry.timeoutMs);
  const signals = [request.signal, timeout].filter((signal) => signal !== undefined);
  let response: Response;
  try {
    response = await fetch(request.url, {
      method: request.method ?? 'GET',
      headers,
      redirect: 'manual',
      ...(request.body !== undefined ? { body: request.body } : {}),
      ...(signals.length > 0 ? { signal: AbortSignal.any(signals) } : {}),
    });
  } catch (error) {
    throw failedExchange(error, request, context);
  }
  if (isTransientStatus(response.status)) throw await statusError(response, request, context);
  return response;
}

/** A response's body as text; a cut or stalled body is a TransientError like a failed request. */
export async function readBodyText(response: Response, request: IndexRequest, context: IndexContext): Promise<string> {
  try {
    return await response.text();
  } catch (error) {
    throw failedExchange(error, request, context);
  }
}

/** What a thrown fetch (or body read) means: the caller's abort as is, else our timeout or a broken connection. */
function failedExchange(error: unknown, request: IndexRequest, context: IndexContext): unknown {
  if (request.signal?.aborted) return request.signal.reason;
  const what = `${request.method ?? 'GET'} ${redactUrl(request.url)}`;
  if (error instanceof DOMException && error.name === 'TimeoutError') {
    return new TransientError('index-timeout', `the ${context.shown} did not answer ${what} within ${context.retry.timeoutMs / 1000} s`, {
      hint: TRANSIENT_HINTS['index-timeout'],
      cause: error,
    });
  }
  return new TransientError(
    'index-connection-failed',
    `could not reach the ${context.shown}: ${what} failed: ${describeNetworkError(error)}`,
    {
      hint: TRANSIENT_HINTS['index-connection-failed'],
      cause: error,
    },
  );
}

/** True when nothing reached the server: the connection itself was refused. */
export function wasRefused(error: unknown): boolean {
  let current: unknown = error;
  for (let depth = 0; depth < 6 && current instanceof Error; depth++) {
    if ((current as { code?: unknown }).code === 'ECONNREFUSED') return true;
    current = current.cause;
  }
  return false;
}

/** The error for an answer the caller did not expect; reads (a little of) the body for the message. */
export async function statusError(response: Response, request: IndexRequest, context: IndexContext): Promise<WheelfarmError> {
  const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'));
  return errorForStatus(response.status, await bodySnippet(response), request, context, retryAfterMs);
}

/** 401/403 -> UserInputError `index-auth`; 408/429/5xx -> TransientError `index-unavailable`; else WheelfarmError `index-error`. */
export function errorForStatus(
  status: number,
  detail: string,
  request: IndexRequest,
  context: IndexContext,
  retryAfterMs?: number,
): WheelfarmError {
  const what = `${request.method ?? 'GET'} ${redactUrl(request.url)} answered HTTP ${status}${detail ? `: ${detail}` : ''}`;
  if (status === 401 || status === 403) {
    return new UserInputError('index-auth', `the ${context.shown} refused the credentials: ${what}`, {
      hint: context.credentialsHint,
    });
  }
  if (isTransientStatus(status)) {
    return new TransientError('index-unavailable', `the ${context.shown} is unavailable: ${what}`, {
      hint: TRANSIENT_HINTS['index-unavailable'],
      retryAfterMs,
    });
  }
  return new WheelfarmError('index-error', `the ${context.shown} refused the request: ${what}`, {
    hint: 'Check the index URL and that the server is the kind of index the settings say it is.',
  });
}

/** The first line of a text body, short; empty when there is none. */
export async function bodySnippet(response: Response): Promise<string> {
  const type = response.headers.get('content-type') ?? '';
  if (!/^(text\/|application\/json)/i.test(type)) {
    await discardBody(response);
    return '';
  }
  let text = '';
  try {
    text = await response.text();
  } catch {
    return '';
  }
  if (/json/i.test(type)) {
    try {
      const message = (JSON.parse(text) as { message?: unknown }).message;
      if (typeof message === 'string') text = message;
    } catch {
      // Not JSON after all: use the text.
    }
  }
  const plain = text
    .replace(/<(script|style)[\s\S]*?<\/\1>/gi, ' ')
    .replace(/<[^>]*>/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  return plain.length > 300 ? `${plain.slice(0, 300)}…` : plain;
}

export function basicAuthorization(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`, 'utf8').toString('base64')}`;
}
