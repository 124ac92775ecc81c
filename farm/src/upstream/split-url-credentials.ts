/**
 * fetch() refuses URLs with credentials in them. Split `https://user:pass@host/path` into the URL
 * without them and the `Authorization: Basic ...` header value that carries them instead.
 */
export interface UrlWithoutCredentials {
  url: URL;
  authorization: string | undefined;
}

export function splitUrlCredentials(url: string | URL): UrlWithoutCredentials {
  const parsed = new URL(String(url));
  if (parsed.username === '' && parsed.password === '') return { url: parsed, authorization: undefined };
  const user = safeDecode(parsed.username);
  const password = safeDecode(parsed.password);
  parsed.username = '';
  parsed.password = '';
  return { url: parsed, authorization: `Basic ${Buffer.from(`${user}:${password}`, 'utf8').toString('base64')}` };
}

/** True when `url` carries a user name or a password. */
export function hasUrlCredentials(url: string | URL): boolean {
  const parsed = new URL(String(url));
  return parsed.username !== '' || parsed.password !== '';
}

function safeDecode(component: string): string {
  try {
    return decodeURIComponent(component);
  } catch {
    return component;
  }
}
