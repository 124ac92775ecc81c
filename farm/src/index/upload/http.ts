import { TransientError, UserInputError, WheelfarmError } from '../../errors.ts';
import { discardBody, isTransientStatus, networkError } from '../../upstream/http-request.ts';
import { redactUrl } from '../../upstream/redact-url.ts';

/** What a publisher says about the index it talks to, for messages: e.g. `pypiserver at http://host/`. */
export interface IndexContext {
  /** Redacted, for messages. */
  shown: string;
  /** Where the credentials are set, for the 401/403 hint. */
  credentialsHint: string;
}

export interface IndexRequest {
  method?: string;
  url: URL;
  headers?: Record<string, string>;
  body?: BodyInit;
  signal?: AbortSignal | undefined;
}

const USER_AGENT = 'wheelfarm';

/**
 * One request to an index we publish to. Network faults and 408/429/5xx become TransientError; every
 * other response is returned for the caller to judge (see statusError). Never follows redirects to
 * another origin: a fallback redirect (pypiserver sends unknown projects to pypi.org) is returned as is.
 */
export async function indexRequest(request: IndexRequest, context: IndexContext): Promise<Response> {
  const headers: Record<string, string> = { 'User-Agent': USER_AGENT, ...request.headers };
  let response: Response;
  try {
    response = await fetch(request.url, {
      method: request.method ?? 'GET',
      headers,
      redirect: 'manual',
      ...(request.body !== undefined ? { body: request.body } : {}),
      ...(request.signal ? { signal: request.signal } : {}),
    });
  } catch (error) {
    if (request.signal?.aborted) throw request.signal.reason;
    throw networkError(request.url, error);
  }
  if (isTransientStatus(response.status)) throw await statusError(response, request, context);
  return response;
}

/** The error for an answer the caller did not expect; reads (a little of) the body for the message. */
export async function statusError(response: Response, request: IndexRequest, context: IndexContext): Promise<WheelfarmError> {
  return errorForStatus(response.status, await bodySnippet(response), request, context);
}

/** 401/403 -> UserInputError `index-auth`; 408/429/5xx -> TransientError; else WheelfarmError `index-error`. */
export function errorForStatus(status: number, detail: string, request: IndexRequest, context: IndexContext): WheelfarmError {
  const what = `${request.method ?? 'GET'} ${redactUrl(request.url)} answered HTTP ${status}${detail ? `: ${detail}` : ''}`;
  if (status === 401 || status === 403) {
    return new UserInputError('index-auth', `the ${context.shown} refused the credentials: ${what}`, {
      hint: context.credentialsHint,
    });
  }
  if (isTransientStatus(status)) {
    return new TransientError('index-unavailable', `the ${context.shown} is unavailable: ${what}`, {
      hint: 'The index server is overloaded or failing; try again later.',
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
