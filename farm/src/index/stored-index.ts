import { fileKey } from './index-layout.ts';
import { repairIndex, settlePending } from './maintain-index.ts';
import { applyYank, publishedFiles } from './project-manifest.ts';
import { publishConflict } from './publish-conflict.ts';
import { publishNewWheel } from './publish-wheel.ts';
import type { IndexMaintenance, IndexPublisher, PublishedFile, PublishOutcome, RepairResult, WheelToPublish } from './publisher.ts';
import type { IndexStorage } from './storage/index-storage.ts';
import { editManifest, readManifest } from './stored-manifests.ts';
import { normalizeProject, verifyWheel } from './validate-wheel.ts';
import { writePages, writePagesListing } from './write-pages.ts';

/**
 * A PEP 503/691 index that wheelfarm writes itself (index-layout.ts), over any storage: the publish
 * protocol (publish-wheel.ts), yank, repair and settling interrupted publishes, once for every backend.
 * It declares all of its maintenance.
 */
export class StoredIndex implements IndexPublisher, IndexMaintenance {
  readonly description: string;
  readonly maintenance: IndexMaintenance = this;
  readonly #storage: IndexStorage;

  constructor({ storage, description }: { storage: IndexStorage; description: string }) {
    this.#storage = storage;
    this.description = description;
  }

  async publish(wheel: WheelToPublish): Promise<PublishOutcome> {
    // Hashed before anything is stored: a listed file is never replaced, so wrong bytes must never reach it.
    const { normalized, sha256 } = await verifyWheel(wheel);
    const request = { ...wheel, sha256 };
    // The cheap answer for a repeat publish: nothing stored at all.
    const known = (await readManifest(this.#storage, normalized))?.files.find((file) => file.filename === wheel.filename);
    if (!known) return publishNewWheel(this.#storage, normalized, request);
    if (known.sha256 !== sha256) {
      const object = this.#storage.locate(fileKey(normalized, wheel.filename));
      throw publishConflict({ filename: wheel.filename, published: known.sha256, wanted: sha256, object });
    }
    // Finishes the pages of a publish that stopped after its manifest; writes nothing otherwise.
    await writePagesListing(this.#storage, normalized, wheel.filename);
    return 'unchanged';
  }

  async listFiles(project: string): Promise<PublishedFile[]> {
    return publishedFiles(await readManifest(this.#storage, normalizeProject(project)));
  }

  async coreMetadata(project: string, filename: string): Promise<string | undefined> {
    const stored = await this.#storage.get(`${fileKey(normalizeProject(project), filename)}.metadata`);
    return stored?.body.toString('utf8');
  }

  /**
   * PEP 592: yank (with an optional reason) or unyank every file of one version (see applyYank); the
   * pages follow. Files stay where they are; installers skip yanked ones unless pinned.
   */
  async setYanked(project: string, version: string, yanked: { reason?: string } | false): Promise<string[]> {
    const normalized = normalizeProject(project);
    const changed = await editManifest(this.#storage, normalized, (current) => {
      const { updated, changed } = applyYank(current, { project, version, yanked, where: this.#storage.where });
      return { ...(changed.length > 0 ? { manifest: updated } : {}), result: changed };
    });
    await writePages(this.#storage, normalized);
    return changed;
  }

  repair(): Promise<RepairResult> {
    return repairIndex(this.#storage);
  }

  settlePending(): Promise<string[]> {
    return settlePending(this.#storage);
  }
}
