import { stat } from 'node:fs/promises';
import type { CompanionHashes } from './companion-files.ts';
import { fileKey, writtenByPublish } from './index-layout.ts';
import { addClaim, dropClaims, readClaims } from './pending-claims.ts';
import type { ManifestFile } from './project-manifest.ts';
import { publishConflict } from './publish-conflict.ts';
import type { PublishOutcome, WheelToPublish } from './publisher.ts';
import type { IndexStorage } from './storage/index-storage.ts';
import { storeWheelFiles } from './store-wheel-files.ts';
import { editManifest, readManifest } from './stored-manifests.ts';
import { withTempDir } from './with-temp-dir.ts';
import { writePagesListing } from './write-pages.ts';

/**
 * Publishes a wheel (its bytes verified, `sha256` lower-case) that the manifest does not list yet. In
 * this order, so that at any point a page only links files that are complete: the claim in the pending
 * note, the wheel, its companion files, the manifest entry, the project pages, the root pages, the
 * claim taken out. No lock: files are put only where absent, manifest, pages and note by
 * compare-and-swap, so concurrent publishers (any process, any machine) all end up on every page.
 */
export async function publishNewWheel(storage: IndexStorage, normalized: string, wheel: WheelToPublish): Promise<PublishOutcome> {
  await storage.removeAbandonedWrites(writtenByPublish(normalized));
  const claim = { filename: wheel.filename, sha256: wheel.sha256 };
  await addClaim(storage, normalized, claim);
  let listed: { added: boolean; found: boolean };
  try {
    listed = await withTempDir((temp) => storeAndList(storage, normalized, wheel, temp));
  } catch (error) {
    // Not listed: the claim owes nothing. (One that cannot be taken out only makes settlePending rewrite pages.)
    await dropClaims(storage, normalized, [claim]).catch(() => undefined);
    throw error;
  }
  // From here on the claim stays until the pages link the wheel: whatever stops this publish now, the
  // next run's settlePending() finds it and writes the pages.
  if (listed.found) await putBackIfTaken(storage, normalized, wheel);
  await writePagesListing(storage, normalized, wheel.filename);
  await dropClaims(storage, normalized, [claim]).catch(() => undefined);
  return listed.added ? 'published' : 'unchanged';
}

/**
 * Stores the wheel's files and lists them (`added` false when another publish of these bytes listed
 * them first; `found` when it had stored them). Failing before the manifest lists them, takes them back.
 */
async function storeAndList(
  storage: IndexStorage,
  normalized: string,
  wheel: WheelToPublish,
  temp: string,
): Promise<{ added: boolean; found: boolean }> {
  const written: string[] = [];
  try {
    const { found, companions } = await storeWheelFiles(storage, normalized, wheel, { temp, written });
    return { added: await addToManifest(storage, normalized, wheel, companions), found };
  } catch (error) {
    await takeBack(storage, normalized, wheel, { temp, written }).catch(() => undefined);
    throw error;
  }
}

/**
 * The wheel's files were found stored by another publish of these bytes: should that one have failed
 * and taken them back meanwhile (see takeBack), they are listed now, so they are put back.
 */
async function putBackIfTaken(storage: IndexStorage, normalized: string, wheel: WheelToPublish): Promise<void> {
  if ((await storage.head(fileKey(normalized, wheel.filename))) !== undefined) return;
  await withTempDir((temp) => storeWheelFiles(storage, normalized, wheel, { temp, written: [] }));
}

/** Adds the wheel's entry to the manifest. False if it was there already (the same bytes) from another publish. */
async function addToManifest(
  storage: IndexStorage,
  normalized: string,
  wheel: WheelToPublish,
  companions: CompanionHashes,
): Promise<boolean> {
  const entry: ManifestFile = {
    filename: wheel.filename,
    sha256: wheel.sha256,
    size: (await stat(wheel.path)).size,
    ...companions,
    uploadTime: new Date().toISOString(),
    ...(wheel.requiresPython ? { requiresPython: wheel.requiresPython } : {}),
  };
  return editManifest(storage, normalized, (current) => {
    const existing = current?.files.find((file) => file.filename === entry.filename);
    if (existing) {
      if (existing.sha256 !== entry.sha256)
        throw publishConflict({ filename: entry.filename, published: existing.sha256, wanted: entry.sha256 });
      // Our own entry when a try's answer was lost after the write landed (the next round found it).
      return { result: existing.uploadTime === entry.uploadTime };
    }
    const files = [...(current?.files ?? []), entry];
    return { manifest: { schemaVersion: 1, name: current?.name ?? wheel.project, normalized, files }, result: true };
  });
}

/**
 * A publish that failed before its manifest listed the wheel takes back the files it stored, so the
 * index is as it was and their space is free again (a full disk). Not while another publish of that
 * filename has a claim: it may have found them and be about to list them. Should one list them while
 * they are being removed, they are put back (its claim, or its listing once it took the claim out, is
 * seen after the removal).
 */
async function takeBack(
  storage: IndexStorage,
  normalized: string,
  wheel: WheelToPublish,
  files: { temp: string; written: string[] },
): Promise<void> {
  if (files.written.length === 0 || (await wantedElsewhere(storage, normalized, wheel.filename))) return;
  for (const key of [...files.written].reverse()) await storage.delete(key);
  if (await wantedElsewhere(storage, normalized, wheel.filename))
    await storeWheelFiles(storage, normalized, wheel, { ...files, written: [] });
}

/** Whether another claim than this publish's names `filename`, or the manifest lists it; yes when that cannot be read. */
async function wantedElsewhere(storage: IndexStorage, normalized: string, filename: string): Promise<boolean> {
  try {
    const claims = (await readClaims(storage, normalized)).filter((claim) => claim.filename === filename);
    if (claims.length > 1) return true;
    return (await readManifest(storage, normalized))?.files.some((file) => file.filename === filename) ?? false;
  } catch {
    return true;
  }
}
