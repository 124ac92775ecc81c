import { mkdir, readdir, readFile, rm, stat } from 'node:fs/promises';
import { normalizeProject, validateWheel } from './validate-wheel.ts';
import { basename, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { EnvironmentError, PublishConflictError, UserInputError, WheelfarmError } from '../errors.ts';
import { extractCoreMetadata } from '../wheels/extract-core-metadata.ts';
import { removeAbandonedTemps, renameDurably, tempPathFor, writeFileAtomic } from './atomic-write.ts';
import { explainDiskFull } from './explain-disk-full.ts';
import {
  applyYank,
  MANIFEST_FILE_NAME,
  NORMALIZED_PROJECT,
  publishedFiles,
  readProjectManifest,
  writeProjectManifest,
} from './project-manifest.ts';
import type { ManifestFile, ProjectManifest } from './project-manifest.ts';
import type { IndexPublisher, PublishedFile, PublishOutcome, WheelToPublish } from './publisher.ts';
import { renderProjectJson, renderRootJson } from './render-simple-json.ts';
import { renderProjectPage, renderRootPage } from './render-simple-page.ts';
import { assertSha256, sha256OfFile, stageVerifiedCopy } from './stage-verified-copy.ts';
import { withFileLock } from './with-file-lock.ts';

export interface LocalDirPublisherOptions {
  /** The index directory; created on first publish. */
  root: string;
}

/**
 * The embedded default index: a directory pip installs from with `--index-url file://<root>/simple/`.
 *
 *   <root>/simple/index.html                      root page, one link per project
 *   <root>/simple/<project>/index.html            project page, links to ../../files/<project>/<file>
 *   <root>/files/<project>/<file>                 the wheels
 *   <root>/.wheelfarm/projects/<project>.json     per-project manifest the pages are rendered from
 *   <root>/.wheelfarm/pending/<project>           a publish owes the project its pages (see settlePending)
 *
 * Every file appears by atomic rename, in the order wheel, manifest, project page, root page, so at any
 * crash point a page only links files that are complete. Publishes to one project are serialized by a
 * lock; root page rewrites by another.
 */
export class LocalDirPublisher implements IndexPublisher {
  readonly description: string;
  /** What to pass to pip's `--index-url`. */
  readonly indexUrl: string;
  readonly #root: string;

  constructor(options: LocalDirPublisherOptions) {
    if (typeof options?.root !== 'string' || options.root.trim() === '') {
      throw new UserInputError('bad-index-root', 'the local index needs a directory (`root`), got none', {
        hint: 'Set the index directory, e.g. `root: ./wheelhouse`.',
      });
    }
    this.#root = resolve(options.root);
    this.indexUrl = `${pathToFileURL(join(this.#root, 'simple')).href}/`;
    this.description = `local index at ${this.#root} (pip install --index-url ${this.indexUrl})`;
  }

  async publish(wheel: WheelToPublish): Promise<PublishOutcome> {
    const { normalized, sha256 } = await validateWheel(wheel);
    const request = { ...wheel, sha256 };
    // Cheap answer for a repeat publish, before copying gigabytes; re-checked under the lock below.
    const known = (await readProjectManifest(this.#manifestPath(normalized)))?.files.find((file) => file.filename === wheel.filename);
    if (known) {
      assertSha256(wheel.path, sha256, await sha256OfFile(wheel.path));
      return this.#withProjectLock(normalized, () => this.#settleExisting(normalized, request));
    }
    const destination = this.#wheelPath(normalized, wheel.filename);
    await mkdir(join(this.#root, 'files', normalized), { recursive: true });
    const staged = await stageVerifiedCopy(wheel.path, destination, sha256);
    // PEP 658: the wheel's METADATA beside it, so installers resolve without downloading wheels.
    const metadataTemp = tempPathFor(`${destination}.metadata`);
    let committed = false;
    try {
      const metadata = await extractCoreMetadata(staged.tempPath, metadataTemp).catch(async (error: unknown) => {
        throw await explainDiskFull(error, { path: `${destination}.metadata` });
      });
      return await this.#withProjectLock(normalized, async (assertHeld) => {
        const manifest = await readProjectManifest(this.#manifestPath(normalized));
        if (manifest?.files.some((file) => file.filename === wheel.filename)) return this.#settleExisting(normalized, request);
        await removeAbandonedTemps([...this.#tempDirsOf(normalized), ...this.#sharedTempDirs()]);
        // The note that pages are owed, before anything is listed: whatever stops this publish after
        // the manifest, settlePending() finds the note and writes the pages.
        await writeFileAtomic(this.#pendingPath(normalized), `${wheel.filename}\n`);
        assertHeld();
        // A file already at `destination` without a manifest entry is debris of a crashed publish that
        // no page links to, so replacing it is safe.
        // The metadata first: a crash between the two leaves a `.metadata` no page links to, never a
        // page link without its metadata.
        await renameDurably(metadataTemp, `${destination}.metadata`);
        await renameDurably(staged.tempPath, destination);
        committed = true;
        const entry: ManifestFile = {
          filename: wheel.filename,
          sha256,
          size: staged.size,
          coreMetadataSha256: metadata.sha256,
          uploadTime: new Date().toISOString(),
        };
        if (wheel.requiresPython) entry.requiresPython = wheel.requiresPython;
        const updated: ProjectManifest = {
          schemaVersion: 1,
          name: manifest?.name ?? wheel.project,
          normalized,
          files: [...(manifest?.files ?? []), entry],
        };
        assertHeld();
        await this.#writeManifestOrUndo(updated, destination);
        await this.#refreshPagesOf(updated, wheel.filename);
        await rm(this.#pendingPath(normalized), { force: true });
        return 'published';
      });
    } finally {
      if (!committed) await Promise.all([rm(staged.tempPath, { force: true }), rm(metadataTemp, { force: true })]);
    }
  }

  async listFiles(project: string): Promise<PublishedFile[]> {
    return publishedFiles(await readProjectManifest(this.#manifestPath(normalizeProject(project))));
  }

  /**
   * PEP 592: yank (with an optional reason) or unyank every file of one version. Files stay where
   * they are; installers skip yanked ones unless pinned. Returns the filenames that changed.
   */
  async setYanked(project: string, version: string, yanked: { reason?: string } | false): Promise<string[]> {
    const normalized = normalizeProject(project);
    return this.#withProjectLock(normalized, async () => {
      const manifest = await readProjectManifest(this.#manifestPath(normalized));
      const { updated, changed } = applyYank(manifest, { project, version, yanked, where: this.#root });
      await writeProjectManifest(this.#manifestPath(normalized), updated);
      await this.#refreshPages(updated);
      return changed;
    });
  }

  /**
   * Rebuild every page from the stored manifests, and write the `.metadata` of wheels published
   * before it existed (or lost in a crash). What a crash between file and page leaves, this mends.
   */
  async repair(): Promise<{ projects: number; metadataWritten: number; tempFilesRemoved: number }> {
    let metadataWritten = 0;
    const projects = await this.#listProjects();
    let tempFilesRemoved = await removeAbandonedTemps(this.#sharedTempDirs());
    for (const normalized of projects) {
      await this.#withProjectLock(normalized, async () => {
        tempFilesRemoved += await removeAbandonedTemps(this.#tempDirsOf(normalized));
        const manifest = await readProjectManifest(this.#manifestPath(normalized));
        if (!manifest) return;
        const files: ManifestFile[] = [];
        for (const file of manifest.files) {
          const wheelPath = this.#wheelPath(normalized, file.filename);
          const metadataPath = `${wheelPath}.metadata`;
          if (file.coreMetadataSha256 && (await stat(metadataPath).catch(ifMissing(undefined)))) {
            files.push(file);
            continue;
          }
          const temp = tempPathFor(metadataPath);
          try {
            const { sha256 } = await extractCoreMetadata(wheelPath, temp);
            await renameDurably(temp, metadataPath);
            files.push({ ...file, coreMetadataSha256: sha256 });
            metadataWritten += 1;
          } finally {
            await rm(temp, { force: true });
          }
        }
        const updated = { ...manifest, files };
        await writeProjectManifest(this.#manifestPath(normalized), updated);
        await this.#refreshPages(updated);
        await rm(this.#pendingPath(normalized), { force: true });
      });
    }
    return { projects: projects.length, metadataWritten, tempFilesRemoved };
  }

  async settlePending(): Promise<string[]> {
    const names = await readdir(this.#pendingDir()).catch(ifMissing([] as string[]));
    const settled: string[] = [];
    for (const normalized of names.filter((name) => NORMALIZED_PROJECT.test(name))) {
      await this.#withProjectLock(normalized, async () => {
        const manifest = await readProjectManifest(this.#manifestPath(normalized));
        if (manifest) await this.#refreshPages(manifest);
        await rm(this.#pendingPath(normalized), { force: true });
      });
      settled.push(normalized);
    }
    return settled;
  }

  /** The filename is already in the manifest: the same bytes are a no-op, other bytes a conflict. */
  async #settleExisting(normalized: string, wheel: WheelToPublish): Promise<PublishOutcome> {
    const manifest = await readProjectManifest(this.#manifestPath(normalized));
    const existing = manifest?.files.find((file) => file.filename === wheel.filename);
    if (!manifest || !existing) {
      // Manifests only ever grow, so this means someone edited the index by hand meanwhile.
      throw new WheelfarmError('corrupt-index', `${wheel.filename} vanished from the manifest of ${normalized} while publishing`, {
        hint: `Check ${this.#manifestPath(normalized)} for manual edits, then publish again.`,
      });
    }
    if (existing.sha256 !== wheel.sha256) {
      throw new PublishConflictError(
        'publish-conflict',
        `${wheel.filename} is already published with sha256 ${existing.sha256}; refusing to replace it with different bytes (sha256 ${wheel.sha256})`,
        {
          hint: 'Installers cache wheels by filename, so published bytes never change. Give the rebuild a new build tag (e.g. `-1-` after the version) so it gets a new filename.',
        },
      );
    }
    // Finishes the page updates of a publish that crashed after writing the manifest.
    await this.#refreshPagesOf(manifest, wheel.filename);
    await rm(this.#pendingPath(normalized), { force: true });
    return 'unchanged';
  }

  /**
   * Writes the manifest that adds the wheel at `destination`; if that fails (a full disk), takes the
   * wheel, its metadata and the pending note away again, so the failed publish leaves the index as it was and frees
   * the space it took. Unless the manifest did land (the write can fail after its rename): then the
   * files are listed and stay.
   */
  async #writeManifestOrUndo(updated: ProjectManifest, destination: string): Promise<void> {
    const path = this.#manifestPath(updated.normalized);
    try {
      await writeProjectManifest(path, updated);
    } catch (error) {
      const filename = basename(destination);
      const landed = await readProjectManifest(path).then(
        (current) => current?.files.some((file) => file.filename === filename) ?? false,
        () => true,
      );
      if (!landed) {
        await Promise.all([
          rm(destination, { force: true }),
          rm(`${destination}.metadata`, { force: true }),
          rm(this.#pendingPath(updated.normalized), { force: true }),
        ]);
      }
      throw error;
    }
  }

  /**
   * The pages after the manifest lists `filename`. If the disk fills up now, the wheel is stored and
   * listed but not linked (each page is still whole, old or new): the error says so, and how to finish.
   */
  async #refreshPagesOf(manifest: ProjectManifest, filename: string): Promise<void> {
    try {
      await this.#refreshPages(manifest);
    } catch (error) {
      if (!(error instanceof EnvironmentError) || error.code !== 'disk-full') throw error;
      throw new EnvironmentError(
        'disk-full',
        `${error.message}; ${filename} is stored and in the manifest, but the pages were not brought up to date`,
        {
          hint: 'Free space: the next wheelfarm run (or `wheelfarm index repair`) writes the pages first. Until then the pages serve what they served before.',
          cause: error,
          listedWheel: filename,
        },
      );
    }
  }

  async #refreshPages(manifest: ProjectManifest): Promise<void> {
    const files = manifest.files.map((file) => ({
      ...file,
      url: `../../files/${manifest.normalized}/${file.filename}`,
    }));
    const project = { name: manifest.name, files };
    await writeIfChanged(join(this.#root, 'simple', manifest.normalized, 'index.html'), renderProjectPage(project));
    await writeIfChanged(join(this.#root, 'simple', manifest.normalized, 'index.json'), renderProjectJson(project));
    await withFileLock(join(this.#lockDir(), 'root.lock'), async () => {
      const projects = (await this.#listProjects()).map((normalized) => ({ name: normalized, normalized }));
      await writeIfChanged(join(this.#root, 'simple', 'index.html'), renderRootPage(projects));
      await writeIfChanged(join(this.#root, 'simple', 'index.json'), renderRootJson(projects));
    });
  }

  /** From the manifest names alone: reading every manifest would make each publish cost the whole index. */
  async #listProjects(): Promise<string[]> {
    const names = await readdir(join(this.#root, '.wheelfarm', 'projects')).catch(ifMissing([] as string[]));
    return names.flatMap((name) => MANIFEST_FILE_NAME.exec(name)?.[1] ?? []);
  }

  #withProjectLock<T>(normalized: string, section: (assertHeld: () => void) => Promise<T>): Promise<T> {
    return withFileLock(join(this.#lockDir(), `${normalized}.lock`), section);
  }

  /**
   * Where a publish of `normalized` writes temp files: its files and pages. A dead writer's temp
   * files need no lock to be removed; these are swept under the project lock only so that a
   * publish reads its own directories, not every project's.
   */
  #tempDirsOf(normalized: string): string[] {
    return [join(this.#root, 'files', normalized), join(this.#root, 'simple', normalized)];
  }

  /** The manifests', the pending notes' and the root pages' directories: written by every publish, an entry per project at most. */
  #sharedTempDirs(): string[] {
    return [join(this.#root, '.wheelfarm', 'projects'), this.#pendingDir(), join(this.#root, 'simple')];
  }

  /** The note of a publish of `normalized` that owes its pages (see settlePending). */
  #pendingPath(normalized: string): string {
    return join(this.#pendingDir(), normalized);
  }

  #pendingDir(): string {
    return join(this.#root, '.wheelfarm', 'pending');
  }

  #manifestPath(normalized: string): string {
    return join(this.#root, '.wheelfarm', 'projects', `${normalized}.json`);
  }

  #wheelPath(normalized: string, filename: string): string {
    return join(this.#root, 'files', normalized, filename);
  }

  #lockDir(): string {
    return join(this.#root, '.wheelfarm', 'locks');
  }
}

/** Skips the write (and the rename) when the page already says the same, so a no-op stays one. */
async function writeIfChanged(path: string, content: string): Promise<void> {
  const current = await readFile(path, 'utf8').catch(ifMissing(undefined));
  if (current === content) return;
  await writeFileAtomic(path, content);
}

function ifMissing<T>(fallback: T): (error: unknown) => T {
  return (error) => {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return fallback;
    throw error;
  };
}
