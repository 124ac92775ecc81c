import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { COMPANION_FILES } from './companion-files.ts';
import type { CompanionFile, CompanionHashes } from './companion-files.ts';
import { fileKey, ownedByProject, SHARED_BY_PUBLISHES } from './index-layout.ts';
import { dropClaims, listNotedProjects, readClaims } from './pending-claims.ts';
import type { Claim } from './pending-claims.ts';
import type { ManifestFile } from './project-manifest.ts';
import type { RepairResult } from './publisher.ts';
import type { IndexStorage } from './storage/index-storage.ts';
import { storeCompanion } from './store-wheel-files.ts';
import { editManifest, listProjects, readManifest } from './stored-manifests.ts';
import { withTempDir } from './with-temp-dir.ts';
import { writeProjectPages, writeRootPages } from './write-pages.ts';

/**
 * Writes the pages of every project with a pending note (publishes that stopped between their claim
 * and their pages), then takes the claims it read out of the notes; claims added meanwhile stay.
 * Cheap when there is none: one listing. Returns the noted projects.
 */
export async function settlePending(storage: IndexStorage): Promise<string[]> {
  const projects = await listNotedProjects(storage);
  const noted: { normalized: string; claims: Claim[] }[] = [];
  for (const normalized of projects) {
    // Read before the pages are written: a claim taken out below is one these pages cover.
    const claims = await readClaims(storage, normalized);
    // A new project whose publish stopped before its manifest has no pages to write.
    if (await readManifest(storage, normalized)) await writeProjectPages(storage, normalized);
    noted.push({ normalized, claims });
  }
  if (noted.length > 0) await writeRootPages(storage);
  for (const { normalized, claims } of noted) await dropClaims(storage, normalized, claims);
  return projects;
}

/**
 * Rebuilds every page from the manifests and writes the companion files (`.metadata`) a stored wheel
 * lacks (published before they existed, or lost), removes what dead writers left, and settles the
 * pending notes. What a crash anywhere in a publish leaves, this mends.
 */
export async function repairIndex(storage: IndexStorage): Promise<RepairResult> {
  const projects = await listProjects(storage);
  let tempFilesRemoved = await storage.removeAbandonedWrites(SHARED_BY_PUBLISHES);
  let metadataWritten = 0;
  for (const normalized of projects) {
    tempFilesRemoved += await storage.removeAbandonedWrites(ownedByProject(normalized));
    metadataWritten += await restoreCompanions(storage, normalized);
    await writeProjectPages(storage, normalized);
  }
  await writeRootPages(storage);
  await settlePending(storage);
  return { projects: projects.length, metadataWritten, tempFilesRemoved };
}

/** Makes and stores the companions each listed wheel lacks (or whose stored bytes differ from its entry), and records them; returns how many it wrote. */
async function restoreCompanions(storage: IndexStorage, normalized: string): Promise<number> {
  const manifest = await readManifest(storage, normalized);
  const restored = new Map<string, CompanionHashes>();
  let written = 0;
  await withTempDir(async (temp) => {
    for (const file of manifest?.files ?? []) {
      const missing = await missingCompanions(storage, normalized, file);
      const wheelKey = fileKey(normalized, file.filename);
      const wheelPath = join(temp, file.filename);
      // Without the wheel there is nothing to make them from.
      if (missing.length === 0 || !(await storage.download(wheelKey, wheelPath))) continue;
      const hashes: CompanionHashes = {};
      for (const companion of missing) {
        const { sha256, outcome } = await storeCompanion(storage, companion, { wheelPath, wheelKey, temp });
        hashes[companion.field] = sha256;
        if (outcome !== 'found') written += 1;
      }
      restored.set(file.filename, hashes);
      await rm(wheelPath, { force: true });
    }
  });
  if (restored.size === 0) return written;
  await editManifest(storage, normalized, (current) => {
    if (!current) return { result: undefined };
    const files = current.files.map((file) => ({ ...file, ...restored.get(file.filename) }));
    return { manifest: { ...current, files }, result: undefined };
  });
  return written;
}

async function missingCompanions(storage: IndexStorage, normalized: string, file: ManifestFile): Promise<CompanionFile[]> {
  const missing: CompanionFile[] = [];
  for (const companion of COMPANION_FILES) {
    const recorded = file[companion.field];
    const stored = recorded && (await storage.head(`${fileKey(normalized, file.filename)}${companion.suffix}`));
    if (!stored || stored.sha256 !== recorded) missing.push(companion);
  }
  return missing;
}
