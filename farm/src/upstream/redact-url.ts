/**
 * A URL fit for messages and logs: a password becomes `***` (`https://user:***@host/simple/`),
 * a lone user name (often a token) becomes `***` too. Never throws; text that is not a URL has
 * anything that looks like `scheme://userinfo@` masked.
 */
export function redactUrl(url: string | URL): string {
  let parsed: URL;
  try {
    parsed = new URL(String(url));
  } catch {
    return String(url).replace(/(\/\/)[^/@\s]*@/g, '$1***@');
  }
  if (parsed.password !== '') {
    parsed.password = '***';
  } else if (parsed.username !== '') {
    parsed.username = '***';
  }
  return parsed.href;
}
