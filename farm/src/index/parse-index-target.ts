import { resolve } from 'node:path';
import { UserInputError } from '../errors.ts';
import type { IndexRetryPolicy } from './retry-policy.ts';

/** `?tries=N&timeout=30s` on a backend's URL: how hard each request is tried (defaults: retry-policy.ts). */
export type IndexTargetRetry = Partial<Pick<IndexRetryPolicy, 'tries' | 'timeoutMs'>>;

/** Where wheels are published, as `--index` or `index.url` names it. */
export type IndexTarget =
  | { kind: 'dir'; path: string }
  | { kind: 's3'; bucket: string; prefix: string; endpoint?: string; region?: string; retry?: IndexTargetRetry }
  /** `index`: the index's name under `user` (wheels go to `/<user>/<index>/`). */
  | { kind: 'devpi'; url: string; user: string; password: string; index: string; create: boolean; retry?: IndexTargetRetry }
  | { kind: 'pypiserver'; url: string; user?: string; password?: string; retry?: IndexTargetRetry };

const FORMS =
  'a directory, `s3://BUCKET/PREFIX[?endpoint=URL&region=R]`, `devpi+https://USER:PASSWORD@HOST/USER/INDEX[?create=1]` ' +
  'or `pypiserver+https://[USER:PASSWORD@]HOST/`, each URL optionally with `tries=N&timeout=30s`';

/**
 * Parse an index target. A plain path is the local directory index; URL schemes pick the backend.
 * Credentials may be in the URL (kept out of every message) or come from the usual places (AWS).
 */
export function parseIndexTarget(text: string, { cwd = process.cwd() }: { cwd?: string } = {}): IndexTarget {
  const trimmed = text.trim();
  if (trimmed === '') throw bad(text, 'it is empty');
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed)) return { kind: 'dir', path: resolve(cwd, trimmed) };
  let url: URL;
  try {
    url = new URL(trimmed);
  } catch {
    throw bad(text, 'it is not a valid URL');
  }
  switch (url.protocol) {
    case 'file:':
      return { kind: 'dir', path: decodeURIComponent(url.pathname) };
    case 's3:':
      return parseS3(url, text);
    case 'devpi+http:':
    case 'devpi+https:':
      return parseDevpi(url, text);
    case 'pypiserver+http:':
    case 'pypiserver+https:':
      return parsePypiserver(url, text);
    default:
      throw bad(text, `\`${url.protocol}//\` is not a known index kind`);
  }
}

function parseS3(url: URL, text: string): IndexTarget {
  if (!url.hostname) throw bad(text, 'it names no bucket');
  const endpoint = url.searchParams.get('endpoint') ?? undefined;
  if (endpoint !== undefined && !/^https?:\/\//.test(endpoint)) throw bad(text, '`endpoint` must be an http(s) URL');
  const region = url.searchParams.get('region') ?? undefined;
  return {
    kind: 's3',
    bucket: url.hostname,
    prefix: url.pathname.replace(/^\/+|\/+$/g, ''),
    ...(endpoint ? { endpoint } : {}),
    ...(region ? { region } : {}),
    ...parseRetry(url, text),
  };
}

function parseDevpi(url: URL, text: string): IndexTarget {
  const [user, index, ...rest] = url.pathname.split('/').filter(Boolean);
  if (!user || !index || rest.length > 0) throw bad(text, 'a devpi index is `/USER/INDEX`');
  if (!url.username || !url.password) throw bad(text, 'devpi needs `USER:PASSWORD@` to upload');
  const login = decodeURIComponent(url.username);
  if (decodeURIComponent(user) !== login) throw bad(text, `devpi uploads to the login user's own indexes: \`/${login}/INDEX\``);
  return {
    kind: 'devpi',
    url: `${url.protocol.replace('devpi+', '')}//${url.host}/`,
    user: login,
    password: decodeURIComponent(url.password),
    index: decodeURIComponent(index),
    create: url.searchParams.get('create') === '1',
    ...parseRetry(url, text),
  };
}

function parsePypiserver(url: URL, text: string): IndexTarget {
  const base = `${url.protocol.replace('pypiserver+', '')}//${url.host}${url.pathname.endsWith('/') ? url.pathname : `${url.pathname}/`}`;
  return {
    kind: 'pypiserver',
    url: base,
    ...(url.username ? { user: decodeURIComponent(url.username) } : {}),
    ...(url.password ? { password: decodeURIComponent(url.password) } : {}),
    ...parseRetry(url, text),
  };
}

/** `tries` (1-100) and `timeout` (`500ms`, `30s`, `2m`) from the query; nothing when neither is there. */
function parseRetry(url: URL, text: string): { retry?: IndexTargetRetry } {
  const retry: IndexTargetRetry = {};
  const tries = url.searchParams.get('tries');
  if (tries !== null) {
    if (!/^\d+$/.test(tries) || Number(tries) < 1 || Number(tries) > 100)
      throw bad(text, `\`tries\` must be a whole number from 1 to 100, got \`${tries}\``);
    retry.tries = Number(tries);
  }
  const timeout = url.searchParams.get('timeout');
  if (timeout !== null) {
    const match = /^(\d+)(ms|s|m)$/.exec(timeout);
    if (!match || Number(match[1]) === 0)
      throw bad(text, `\`timeout\` must be a duration like \`30s\`, \`500ms\` or \`2m\`, got \`${timeout}\``);
    retry.timeoutMs = Number(match[1]) * { ms: 1, s: 1000, m: 60_000 }[match[2] as 'ms' | 's' | 'm'];
  }
  return Object.keys(retry).length > 0 ? { retry } : {};
}

function bad(text: string, why: string): UserInputError {
  const shown = text.replace(/\/\/[^/@]*@/, '//***@');
  return new UserInputError('bad-index-target', `\`${shown}\` is not an index: ${why}`, { hint: `give ${FORMS}` });
}

/**
 * A target's identity in the build records: which index a build was for, without credentials, so
 * the same index spelt with other credentials or options is the same index.
 */
export function indexIdentity(target: IndexTarget): string {
  switch (target.kind) {
    case 'dir':
      return `dir:${target.path}`;
    case 's3':
      return `s3://${target.bucket}/${target.prefix}${target.endpoint ? `@${target.endpoint}` : ''}`;
    case 'devpi':
      return `devpi:${target.url}${target.user}/${target.index}/`;
    case 'pypiserver':
      return `pypiserver:${target.url}`;
  }
}
