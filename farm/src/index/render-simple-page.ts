import { WheelfarmError } from '../errors.ts';

export interface SimplePageFile {
  filename: string;
  /** Where the file is, relative to the project page (or absolute). The `#sha256=` fragment is added here. */
  url: string;
  sha256: string;
  requiresPython?: string;
  /** PEP 592: `true`, or the reason as a string (an empty reason still means yanked). */
  yanked?: string | boolean;
  /** PEP 658/714: sha256 of the `<file>.metadata` served beside the file. */
  coreMetadataSha256?: string;
}

export interface SimpleProject {
  /** Display name; shown as the link text. */
  name: string;
  /** PEP 503 normalized name; the link target. */
  normalized: string;
}

const SHA256 = /^[0-9a-f]{64}$/;

/** The PEP 503 page listing one project's files, sorted by filename so it renders the same every time. */
export function renderProjectPage(project: { name: string; files: SimplePageFile[] }): string {
  for (const file of project.files) assertSha256(file);
  const links = [...project.files].sort((a, b) => compareStrings(a.filename, b.filename)).map(renderFileLink);
  return renderPage(`Links for ${project.name}`, links);
}

/** The PEP 503 root page: one `<normalized>/` link per project, sorted by normalized name. */
export function renderRootPage(projects: SimpleProject[]): string {
  const links = [...projects]
    .sort((a, b) => compareStrings(a.normalized, b.normalized))
    .map((project) => `<a href="${escapeHtml(`${project.normalized}/`)}">${escapeHtml(project.name)}</a>`);
  return renderPage('Simple index', links);
}

function renderFileLink(file: SimplePageFile): string {
  const attributes = [`href="${escapeHtml(`${file.url}#sha256=${file.sha256}`)}"`];
  if (file.requiresPython) attributes.push(`data-requires-python="${escapeHtml(file.requiresPython)}"`);
  // PEP 714's name only: pip 22.x reads PEP 658's original `data-dist-info-metadata` and then rejects
  // wheels whose METADATA spells the name differently (MarkupSafe vs markupsafe); it ignores this one.
  if (file.coreMetadataSha256) attributes.push(`data-core-metadata="sha256=${file.coreMetadataSha256}"`);
  if (file.yanked === true) attributes.push('data-yanked=""');
  else if (typeof file.yanked === 'string') attributes.push(`data-yanked="${escapeHtml(file.yanked)}"`);
  return `<a ${attributes.join(' ')}>${escapeHtml(file.filename)}</a>`;
}

function renderPage(title: string, links: string[]): string {
  const escapedTitle = escapeHtml(title);
  return [
    '<!DOCTYPE html>',
    '<html>',
    '  <head>',
    '    <meta name="pypi:repository-version" content="1.0">',
    `    <title>${escapedTitle}</title>`,
    '  </head>',
    '  <body>',
    `    <h1>${escapedTitle}</h1>`,
    ...links.map((link) => `    ${link}<br>`),
    '  </body>',
    '</html>',
    '',
  ].join('\n');
}

function assertSha256(file: SimplePageFile): void {
  if (!SHA256.test(file.sha256)) {
    throw new WheelfarmError('bad-sha256', `the sha256 of ${file.filename} is not 64 lower-case hex digits: \`${file.sha256}\``, {
      hint: 'Pass the hex digest (crypto `digest("hex")`), not base64 and not a `sha256=` prefixed value.',
    });
  }
}

/** Code-unit order, not locale order, so pages are byte-identical across machines. */
function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}
