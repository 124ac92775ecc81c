// Is a directory index consistent, as an installer sees it? The checks every fault trial makes
// after a crash and after the run that follows it (farm/bench/faults.ts, test/docker/faults.test.ts).
// An S3 index is checked the same way, mirrored into a directory first (check-s3-index.ts).
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { execa } from 'execa';
import { LocalDirPublisher } from '../../src/index/local-dir-publisher.ts';
import { parseProjectManifest } from '../../src/index/project-manifest.ts';
import type { ProjectManifest } from '../../src/index/project-manifest.ts';
import type { IndexPublisher } from '../../src/index/publisher.ts';

export interface IndexCheck {
  /**
   * What an installer would be served wrongly: a link to a missing file or to other bytes than its
   * `#sha256=` (or a `.metadata` other than announced), HTML and JSON pages or manifest that disagree.
   */
  problems: string[];
  /**
   * Listed in a manifest, not linked by the pages: the state between a publish's manifest and its
   * pages. Fine right after a crash; after the next run, a wheel lost to installers.
   */
  unlinked: string[];
  /** Temp files (`.NAME.PID.HEX.tmp`) a crash left: no page links them. */
  tempFiles: string[];
  /** Wheels the manifest does not list (yet): a crash between storing a wheel and listing it leaves one. */
  unlistedWheels: string[];
  /** The wheels the project pages link, with their sha256. */
  served: { project: string; filename: string; sha256: string }[];
}

/** Any temp file name (farm/src/index/atomic-write.ts: `.NAME.PID-HOST.RANDOM.tmp`), older formats included. */
/** The index a trial's runs publish to, as the checks reach it: a directory, or a bucket (check-s3-index.ts). */
export interface TrialIndex {
  /** What `wheelfarm build --index` is given; the build records name the index after it too. */
  target: string;
  /** pip's `--index-url` for it, reaching it as installers do (no fault in the way). */
  url: string;
  /** Publishes straight to the index (no fault in the way): what it served before a trial. */
  publisher: IndexPublisher;
  /** What it serves now, and what is wrong with it (see checkIndex). */
  check(): Promise<IndexCheck>;
}

/** The directory index at `index`. */
export function directoryIndex(index: string): TrialIndex {
  return {
    target: index,
    url: `${pathToFileURL(join(index, 'simple')).href}/`,
    publisher: new LocalDirPublisher({ root: index }),
    check: () => checkIndex(index),
  };
}

const TEMP_FILE = /^\..+\.tmp$/;

/** Reads every page, manifest and file of the index at `index` (a directory) and says what is wrong. */
export async function checkIndex(index: string): Promise<IndexCheck> {
  const check: IndexCheck = { problems: [], unlinked: [], tempFiles: [], unlistedWheels: [], served: [] };
  const files = await listFiles(index);
  for (const path of files) {
    if (TEMP_FILE.test(path.split('/').at(-1)!)) check.tempFiles.push(path);
  }
  const manifests = new Map<string, ProjectManifest>();
  for (const path of files.filter((f) => /^\.wheelfarm\/projects\/[^/]+\.json$/.test(f))) {
    try {
      const manifest = parseProjectManifest(await readFile(join(index, path), 'utf8'));
      manifests.set(manifest.normalized, manifest);
    } catch (error) {
      check.problems.push(`${path} is not a valid manifest: ${(error as Error).message}`);
    }
  }
  const rootLinks = await pageLinks(index, 'simple/index.html');
  for (const project of manifests.keys()) {
    if (!rootLinks?.some((link) => link.href === `${project}/`))
      check.unlinked.push(`simple/index.html does not link ${project}/, which has a manifest`);
  }
  for (const link of rootLinks ?? []) {
    if (!manifests.has(link.href.replace(/\/$/, ''))) check.problems.push(`simple/index.html links ${link.href}, which has no manifest`);
  }
  for (const [project, manifest] of manifests) await checkProject(index, files, project, manifest, check);
  return check;
}

async function checkProject(index: string, files: string[], project: string, manifest: ProjectManifest, check: IndexCheck): Promise<void> {
  const page = `simple/${project}/index.html`;
  const links = (await pageLinks(index, page)) ?? [];
  const json = await readJsonPage(index, `simple/${project}/index.json`, check);
  for (const link of links) {
    const [path, fragment] = link.href.split('#');
    const filename = path!.split('/').at(-1)!;
    const file = join(index, 'simple', project, path!);
    const expected = /^sha256=([0-9a-f]{64})$/.exec(fragment ?? '')?.[1];
    const actual = await sha256Of(file);
    if (!expected) check.problems.push(`${page} links ${filename} without a #sha256= fragment`);
    else if (actual === undefined) check.problems.push(`${page} links ${filename}, which does not exist`);
    else if (actual !== expected) check.problems.push(`${page} links ${filename} with sha256 ${expected}, the file has ${actual}`);
    else check.served.push({ project, filename, sha256: actual });
    const metadata = link.attributes['data-core-metadata'];
    if (metadata !== undefined && metadata !== `sha256=${await sha256Of(`${file}.metadata`)}`) {
      check.problems.push(`${page} announces ${filename}.metadata with ${metadata}, the file does not match (or is missing)`);
    }
    const listed = manifest.files.find((f) => f.filename === filename);
    if (!listed) check.problems.push(`${page} links ${filename}, which the manifest does not list`);
    else if (listed.sha256 !== expected) check.problems.push(`${page} and the manifest disagree on the sha256 of ${filename}`);
    const inJson = json?.find((f) => f.filename === filename);
    if (json && inJson?.hashes.sha256 !== expected)
      check.problems.push(`simple/${project}/index.json does not list ${filename} with the HTML page's sha256`);
  }
  if (json && json.length !== links.length)
    check.problems.push(`simple/${project}/index.json lists ${json.length} file(s), the HTML page ${links.length}`);
  for (const listed of manifest.files) {
    if (!links.some((link) => link.href.split('#')[0]!.endsWith(`/${listed.filename}`))) {
      check.unlinked.push(`the manifest lists ${listed.filename}, but ${page} does not link it: installers do not see it`);
    }
  }
  for (const path of files.filter((f) => f.startsWith(`files/${project}/`) && f.endsWith('.whl'))) {
    const filename = path.split('/').at(-1)!;
    if (!manifest.files.some((f) => f.filename === filename)) check.unlistedWheels.push(path);
  }
}

/** `pip download` of the project from the index at `url` (file:// or http://), as a consumer would: the file it took, or why it failed. */
export async function pipDownload(url: string, project: string): Promise<{ ok: true; file: string } | { ok: false; output: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'wheelfarm-pip-check-'));
  try {
    const run = await execa(
      'python3',
      [
        '-m',
        'pip',
        'download',
        '-q',
        '--no-deps',
        '--no-cache-dir',
        '--disable-pip-version-check',
        '--only-binary',
        ':all:',
        '--index-url',
        url,
        '-d',
        dir,
        project,
      ],
      { reject: false, all: true },
    );
    const [file] = await readdir(dir);
    return run.exitCode === 0 && file ? { ok: true, file } : { ok: false, output: String(run.all).slice(-2000) };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

interface PageLink {
  href: string;
  attributes: Record<string, string>;
}

/** The links of an HTML page (undefined when the page does not exist). */
async function pageLinks(index: string, page: string): Promise<PageLink[] | undefined> {
  const html = await readFile(join(index, page), 'utf8').catch(() => undefined);
  if (html === undefined) return undefined;
  return [...html.matchAll(/<a ([^>]*)>/g)].map((match) => {
    const attributes = Object.fromEntries([...match[1]!.matchAll(/([a-z-]+)="([^"]*)"/g)].map((a) => [a[1]!, unescapeHtml(a[2]!)]));
    return { href: attributes.href ?? '', attributes };
  });
}

async function readJsonPage(
  index: string,
  page: string,
  check: IndexCheck,
): Promise<{ filename: string; hashes: { sha256?: string } }[] | undefined> {
  const text = await readFile(join(index, page), 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  try {
    return (JSON.parse(text) as { files: { filename: string; hashes: { sha256?: string } }[] }).files;
  } catch (error) {
    check.problems.push(`${page} is not valid JSON: ${(error as Error).message}`);
    return undefined;
  }
}

async function listFiles(root: string, dir = root): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  const files: string[] = [];
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) files.push(...(await listFiles(root, path)));
    else files.push(relative(root, path));
  }
  return files;
}

async function sha256Of(path: string): Promise<string | undefined> {
  const hash = createHash('sha256');
  try {
    for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) hash.update(chunk);
  } catch {
    return undefined;
  }
  return hash.digest('hex');
}

function unescapeHtml(text: string): string {
  return text
    .replace(/&gt;/g, '>')
    .replace(/&lt;/g, '<')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&');
}
