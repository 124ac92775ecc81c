import { UserInputError } from '../../errors.ts';
import { redactUrl } from '../../upstream/redact-url.ts';
import type { IndexPublisher } from '../publisher.ts';
import type { IndexRetryPolicy } from '../retry-policy.ts';
import { DevpiPublisher } from './devpi-publisher.ts';
import { PypiserverPublisher } from './pypiserver-publisher.ts';

/**
 * An uploading publisher from one URL:
 *
 *   pypiserver+http(s)://user:password@host:port[/prefix]/          -> PypiserverPublisher
 *   devpi+http(s)://user:password@host:port[/prefix]/user/index[?create=1] -> DevpiPublisher
 *
 * Returns undefined for any other scheme, so callers can fall through to other publishers.
 */
export function publisherFromUrl(
  url: string,
  options: { signal?: AbortSignal; retry?: Partial<IndexRetryPolicy> } = {},
): IndexPublisher | undefined {
  const match = /^(pypiserver|devpi)\+(https?:\/\/.*)$/i.exec(url.trim());
  if (!match) return undefined;
  const kind = (match[1] ?? '').toLowerCase();
  const rest = match[2] ?? '';
  let parsed: URL;
  try {
    parsed = new URL(rest);
  } catch (error) {
    throw new UserInputError('bad-index-url', `\`${redactUrl(url)}\` is not a URL`, {
      hint: `Write it as \`${kind}+http://user:password@host:port/...\`.`,
      cause: error,
    });
  }
  if (kind === 'pypiserver') return new PypiserverPublisher({ url: rest, signal: options.signal, retry: options.retry });
  const segments = parsed.pathname.split('/').filter((segment) => segment !== '');
  const [user, index] = segments.slice(-2).map((segment) => decodeURIComponent(segment));
  if (segments.length < 2 || user === undefined || index === undefined) {
    throw new UserInputError('bad-index-url', `\`${redactUrl(url)}\` names no devpi index`, {
      hint: 'End the URL with `/<user>/<index>`, e.g. `devpi+http://user:password@127.0.0.1:3141/user/index`.',
    });
  }
  if (parsed.username !== '' && decodeURIComponent(parsed.username) !== user) {
    throw new UserInputError(
      'bad-index-url',
      `\`${redactUrl(url)}\` logs in as \`${decodeURIComponent(parsed.username)}\` but names the index of \`${user}\``,
      {
        hint: 'Uploading to another user’s index is not supported here: log in as the index’s user.',
      },
    );
  }
  const create = ['1', 'true', 'yes'].includes((parsed.searchParams.get('create') ?? '').toLowerCase());
  const root = new URL(parsed.href);
  root.username = '';
  root.password = '';
  root.search = '';
  root.pathname = `/${segments
    .slice(0, -2)
    .map((segment) => `${segment}/`)
    .join('')}`;
  return new DevpiPublisher({
    url: root.href,
    user,
    password: decodeURIComponent(parsed.password),
    index,
    create,
    signal: options.signal,
    retry: options.retry,
  });
}
