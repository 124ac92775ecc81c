import { createHash } from 'node:crypto';
import { EnvironmentError, IndexUnavailableError, WheelfarmError } from '../errors.ts';
import { projectPages, ROOT_PAGES, SERVING } from './index-layout.ts';
import type { ProjectManifest } from './project-manifest.ts';
import { renderProjectJson, renderRootJson } from './render-simple-json.ts';
import { renderProjectPage, renderRootPage } from './render-simple-page.ts';
import { backoff, contentionError, MAX_ROUNDS } from './storage/contention.ts';
import type { IndexStorage, Serving } from './storage/index-storage.ts';
import { listProjects, readManifest } from './stored-manifests.ts';

interface Page {
  key: string;
  serving: Serving;
  render: () => string;
}

/** The project's pages, then the root pages, from what the index stores now. */
export async function writePages(storage: IndexStorage, normalized: string): Promise<void> {
  await writeProjectPages(storage, normalized);
  await writeRootPages(storage);
}

/**
 * The pages after the manifest lists `filename`. If the storage gives out now (a full disk, S3 down),
 * the wheel is stored and listed but not linked, each page still whole, old or new: the error says so,
 * names the wheel (`listedWheel`) and how to finish.
 */
export async function writePagesListing(storage: IndexStorage, normalized: string, filename: string): Promise<void> {
  try {
    await writePages(storage, normalized);
  } catch (error) {
    const full = error instanceof EnvironmentError && error.code === 'disk-full';
    if (!full && !(error instanceof IndexUnavailableError)) throw error;
    const message = `${error.message}; ${filename} is stored and in the manifest, but the pages were not brought up to date`;
    const then =
      'the next wheelfarm run (or `wheelfarm index repair`) writes the pages first. Until then the pages serve what they served before.';
    if (error instanceof IndexUnavailableError) {
      const hint = `Once the storage answers, ${then}`;
      throw new IndexUnavailableError(error.code, message, { hint, cause: error, tries: error.tries, listedWheel: filename });
    }
    throw new EnvironmentError('disk-full', message, { hint: `Free space: ${then}`, cause: error, listedWheel: filename });
  }
}

export async function writeProjectPages(storage: IndexStorage, normalized: string): Promise<void> {
  let manifest: ProjectManifest | undefined;
  const project = () => {
    if (!manifest) throw new WheelfarmError('corrupt-index', `the manifest of ${normalized} vanished from ${storage.where}`);
    const files = manifest.files.map((file) => ({ ...file, url: `../../files/${normalized}/${file.filename}` }));
    return { name: manifest.name, files };
  };
  await writePageSet(
    storage,
    pageSet(
      storage,
      projectPages(normalized),
      () => renderProjectPage(project()),
      () => renderProjectJson(project()),
    ),
    async () => {
      manifest = await readManifest(storage, normalized);
    },
  );
}

export async function writeRootPages(storage: IndexStorage): Promise<void> {
  let projects: { name: string; normalized: string }[] = [];
  await writePageSet(
    storage,
    pageSet(
      storage,
      ROOT_PAGES,
      () => renderRootPage(projects),
      () => renderRootJson(projects),
    ),
    async () => {
      projects = (await listProjects(storage)).map((normalized) => ({ name: normalized, normalized }));
    },
  );
}

/** HTML, then its copy at the directory key where the storage needs one, JSON last. */
function pageSet(storage: IndexStorage, dir: string, html: () => string, json: () => string): Page[] {
  return [
    { key: `${dir}index.html`, serving: SERVING.html, render: html },
    ...(storage.servesDirectoryIndex ? [] : [{ key: dir, serving: SERVING.html, render: html }]),
    { key: `${dir}index.json`, serving: SERVING.json, render: json },
  ];
}

/**
 * Rewrites pages by compare-and-swap: read each page's version, then the source (`load`), render, and
 * write only if the page is still that version. Because the source is read after the version, whichever
 * write lands last was rendered from a source at least as new as every writer's own manifest update,
 * so concurrent publishers all end up on every page. Unchanged pages (the same sha256) are not written.
 */
async function writePageSet(storage: IndexStorage, pages: Page[], load: () => Promise<void>): Promise<void> {
  let pending = pages;
  for (let round = 0; round < MAX_ROUNDS && pending.length > 0; round += 1) {
    if (round > 0) await backoff(round - 1);
    const versions = await settleAll(pending.map((page) => storage.head(page.key)));
    await load();
    // One after another, in the order given: if the storage gives out midway, HTML readers are never behind JSON ones.
    const written: boolean[] = [];
    for (const [index, page] of pending.entries()) {
      const body = Buffer.from(page.render());
      const version = versions[index];
      const unchanged = version?.sha256 === createHash('sha256').update(body).digest('hex');
      const put = unchanged
        ? 'written'
        : version
          ? await storage.putIfMatch(page.key, version.etag, { bytes: body }, page.serving)
          : await storage.putIfAbsent(page.key, { bytes: body }, page.serving);
      written.push(put === 'written');
    }
    pending = pending.filter((_, index) => !written[index]);
  }
  if (pending.length > 0) throw contentionError(storage.locate(pending[0]!.key));
}

/**
 * Promise.all that waits for every promise before it rejects (with the first failure), so a failed
 * publish returns with none of its requests still in flight.
 */
async function settleAll<T>(promises: Promise<T>[]): Promise<T[]> {
  const results = await Promise.allSettled(promises);
  const failed = results.find((result): result is PromiseRejectedResult => result.status === 'rejected');
  if (failed) throw failed.reason;
  return results.map((result) => (result as PromiseFulfilledResult<T>).value);
}
