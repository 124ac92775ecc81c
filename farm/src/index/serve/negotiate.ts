/**
 * PEP 691 content negotiation for the simple pages: which representation to send for an Accept header.
 *
 * Every representation gets the q-value of the most specific media range that matches it (exact type,
 * then `type/*`, then `*\/*`); the highest q > 0 wins. Ties go to the more specific match, then to
 * HTML (the representation every installer understands). No Accept header means `*\/*`.
 */
export const SIMPLE_JSON = 'application/vnd.pypi.simple.v1+json';
export const SIMPLE_HTML = 'application/vnd.pypi.simple.v1+html';
export const TEXT_HTML = 'text/html';

export type PageFormat = 'json' | 'html';

export interface Representation {
  /** The Content-Type to answer with. */
  contentType: string;
  format: PageFormat;
  /** Media types in an Accept header that name this representation exactly. */
  names: readonly string[];
}

/** In order of preference on ties: HTML first. */
export const REPRESENTATIONS: readonly Representation[] = [
  { contentType: `${TEXT_HTML}; charset=utf-8`, format: 'html', names: [TEXT_HTML] },
  { contentType: SIMPLE_HTML, format: 'html', names: [SIMPLE_HTML, 'application/vnd.pypi.simple.latest+html'] },
  { contentType: SIMPLE_JSON, format: 'json', names: [SIMPLE_JSON, 'application/vnd.pypi.simple.latest+json'] },
];

interface MediaRange {
  type: string;
  subtype: string;
  q: number;
}

export function parseAccept(header: string | undefined): MediaRange[] {
  if (header === undefined || header.trim() === '') return [{ type: '*', subtype: '*', q: 1 }];
  const ranges: MediaRange[] = [];
  for (const part of header.split(',')) {
    const [mediaType = '', ...params] = part.split(';').map((piece) => piece.trim());
    const slash = mediaType.indexOf('/');
    if (slash <= 0 || slash === mediaType.length - 1) continue;
    let q = 1;
    for (const param of params) {
      const match = /^q\s*=\s*([0-9.]+)$/i.exec(param);
      if (match) {
        const value = Number(match[1]);
        q = Number.isFinite(value) ? Math.min(Math.max(value, 0), 1) : 0;
      }
    }
    ranges.push({ type: mediaType.slice(0, slash).toLowerCase(), subtype: mediaType.slice(slash + 1).toLowerCase(), q });
  }
  return ranges;
}

/** The q-value and specificity (2 exact, 1 `type/*`, 0 `*\/*`) the header gives a representation; undefined if none matches. */
function score(representation: Representation, ranges: MediaRange[]): { q: number; specificity: number } | undefined {
  let best: { q: number; specificity: number } | undefined;
  for (const range of ranges) {
    let specificity = -1;
    for (const name of representation.names) {
      const [type, subtype] = name.split('/');
      if (range.type === type && range.subtype === subtype) specificity = Math.max(specificity, 2);
      else if (range.type === type && range.subtype === '*') specificity = Math.max(specificity, 1);
      else if (range.type === '*' && range.subtype === '*') specificity = Math.max(specificity, 0);
    }
    if (specificity < 0) continue;
    if (!best || specificity > best.specificity) best = { q: range.q, specificity };
  }
  return best;
}

/**
 * The representation to send, among those `available`; undefined when the client accepts none of
 * them (the caller answers 406).
 */
export function negotiate(acceptHeader: string | undefined, available: ReadonlySet<PageFormat>): Representation | undefined {
  const ranges = parseAccept(acceptHeader);
  let chosen: { representation: Representation; q: number; specificity: number } | undefined;
  for (const representation of REPRESENTATIONS) {
    if (!available.has(representation.format)) continue;
    const result = score(representation, ranges);
    if (!result || result.q <= 0) continue;
    if (!chosen || result.q > chosen.q || (result.q === chosen.q && result.specificity > chosen.specificity)) {
      chosen = { representation, ...result };
    }
  }
  return chosen?.representation;
}
