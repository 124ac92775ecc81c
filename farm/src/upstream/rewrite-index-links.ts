/**
 * The links of an upstream index's pages, pointed through the credential proxy (see credential-proxy.ts).
 *
 * `upstreamOrigin` is the upstream's scheme, host and port (`https://mirror.example`); `proxyBase`
 * is where the proxy serves that origin's root (`http://172.17.0.1:41234/<token>`, no trailing
 * slash). A link to the upstream origin, with or without credentials in it, with the default port
 * written out or not, or protocol-relative, becomes `<proxyBase><path>`; a root-relative link
 * (`/packages/...`) gets the proxy's base path in front. Relative links need nothing: pip resolves
 * them against the proxy's URL of the page. Links to other hosts are left alone.
 */
export interface IndexLinkRewriter {
  /** A simple page (PEP 503 HTML, PEP 691 JSON) with its links rewritten; other text as it is. */
  rewriteBody(body: string, contentType: string): string;
  /** A redirect's Location (resolved against the upstream URL that answered it); other origins unchanged. */
  rewriteLocation(location: string, requestUrl: URL): string;
}

export type PageKind = 'html' | 'json';

/** The kind of page a content type names (`text/html`, `application/vnd.pypi.simple.v1+json`, ...), or undefined for a file. */
export function pageKind(contentType: string | null | undefined): PageKind | undefined {
  const media = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (media === 'text/html' || media.endsWith('+html')) return 'html';
  if (media === 'application/json' || media.endsWith('+json')) return 'json';
  return undefined;
}

export function createIndexLinkRewriter({ upstreamOrigin, proxyBase }: { upstreamOrigin: string; proxyBase: string }): IndexLinkRewriter {
  const origin = new URL(upstreamOrigin);
  const basePath = new URL(proxyBase).pathname.replace(/\/$/, '');
  const absolute = originPattern(origin);
  const toProxy = (text: string) => text.replace(absolute, proxyBase);
  // href="/x", src='/x', href=/x; not protocol-relative `//host` (the origin pattern has those).
  const rootRelative = /(\b(?:href|src)\s*=\s*["']?)\/(?!\/)/gi;

  const rewriteJson = (value: unknown, key?: string): unknown => {
    if (typeof value === 'string') {
      const rewritten = toProxy(value);
      return key === 'url' && /^\/(?!\/)/.test(rewritten) ? `${basePath}${rewritten}` : rewritten;
    }
    if (Array.isArray(value)) return value.map((item) => rewriteJson(item));
    if (value !== null && typeof value === 'object') {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, rewriteJson(v, k)]));
    }
    return value;
  };

  return {
    rewriteBody(body, contentType) {
      const kind = pageKind(contentType);
      if (kind === 'html') return toProxy(body).replace(rootRelative, `$1${basePath}/`);
      if (kind === 'json') {
        let parsed: unknown;
        try {
          parsed = JSON.parse(body);
        } catch {
          // Not JSON after all (pip will say so); its text is rewritten all the same.
          return toProxy(body);
        }
        return JSON.stringify(rewriteJson(parsed));
      }
      return body;
    },
    rewriteLocation(location, requestUrl) {
      let target: URL;
      try {
        target = new URL(location, requestUrl);
      } catch {
        return location;
      }
      if (target.origin !== origin.origin) return location;
      return `${proxyBase}${target.pathname}${target.search}${target.hash}`;
    },
  };
}

/**
 * `scheme://[userinfo@]host[:port]` of the origin, or `//[userinfo@]host[:port]`, as long as the host
 * ends there (not `mirror.example.evil`, not another port, not the user name of `//mirror.example@evil`).
 * Case-insensitive, as hosts and schemes are.
 */
function originPattern(origin: URL): RegExp {
  const scheme = origin.protocol.slice(0, -1);
  const port = origin.port || (scheme === 'https' ? '443' : '80');
  const host = escapeRegExp(origin.hostname);
  const explicitPort = origin.port ? `:${port}` : `(?::${port})?`;
  return new RegExp(`(?:(?<![\\w+.-])${scheme}:|(?<![\\w:]))//(?:[^/?#@\\s"'<>\\\\]*@)?${host}${explicitPort}(?![\\w.@:%-])`, 'gi');
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
