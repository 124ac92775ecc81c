import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { COMPANION_FILES } from './companion-files.ts';
import type { CompanionFile, CompanionHashes } from './companion-files.ts';
import { explainDiskFull } from './explain-disk-full.ts';
import { fileKey, SERVING } from './index-layout.ts';
import { readClaims } from './pending-claims.ts';
import { publishConflict } from './publish-conflict.ts';
import type { WheelToPublish } from './publisher.ts';
import { backoff, contentionError, MAX_ROUNDS } from './storage/contention.ts';
import type { IndexStorage, ObjectVersion, Serving } from './storage/index-storage.ts';
import { readManifest } from './stored-manifests.ts';

/** What storing one file found: nothing there, the same bytes, or other bytes it replaced. */
export type StoreOutcome = 'created' | 'found' | 'replaced';

/**
 * The wheel, then each of its companion files (made in the directory `temp`), stored as immutable
 * files; every key written (not found) is added to `written`, so a publish that fails before its
 * manifest lists them knows what to take back. Returns whether the wheel was found stored already,
 * and the companions' sha256 for its manifest entry.
 */
export async function storeWheelFiles(
  storage: IndexStorage,
  normalized: string,
  wheel: WheelToPublish,
  { temp, written }: { temp: string; written: string[] },
): Promise<{ found: boolean; companions: CompanionHashes }> {
  const key = fileKey(normalized, wheel.filename);
  const outcome = await storeImmutable(storage, key, { file: wheel.path, sha256: wheel.sha256 }, SERVING.wheel, (existing) =>
    assertDebris(storage, normalized, wheel, existing),
  );
  if (outcome !== 'found') written.push(key);
  const companions: CompanionHashes = {};
  for (const companion of COMPANION_FILES) {
    const stored = await storeCompanion(storage, companion, { wheelPath: wheel.path, wheelKey: key, temp });
    if (stored.outcome !== 'found') written.push(`${key}${companion.suffix}`);
    companions[companion.field] = stored.sha256;
  }
  return { found: outcome === 'found', companions };
}

/** Makes the companion of the wheel at `wheelPath` (stored at `wheelKey`) in `temp` and stores it beside the wheel. */
export async function storeCompanion(
  storage: IndexStorage,
  companion: CompanionFile,
  { wheelPath, wheelKey, temp }: { wheelPath: string; wheelKey: string; temp: string },
): Promise<{ sha256: string; outcome: StoreOutcome }> {
  const path = join(temp, `companion${companion.suffix}`);
  await rm(path, { force: true });
  const { sha256 } = await companion.derive(wheelPath, path).catch(async (error: unknown) => {
    throw await explainDiskFull(error, { path });
  });
  // Made from the wheel's bytes alone: one that differs beside them is debris of other bytes, or damaged.
  const outcome = await storeImmutable(
    storage,
    `${wheelKey}${companion.suffix}`,
    { file: path, sha256 },
    companion.serving,
    async () => {},
  );
  return { sha256, outcome };
}

/**
 * Stores the file at `key` unless the same bytes are there. Other bytes are replaced (compare-and-swap
 * on their version) once `mayReplace` lets them go; it throws to refuse.
 */
async function storeImmutable(
  storage: IndexStorage,
  key: string,
  body: { file: string; sha256: string },
  serving: Serving,
  mayReplace: (existing: ObjectVersion) => Promise<void>,
): Promise<StoreOutcome> {
  for (let round = 0; round < MAX_ROUNDS; round += 1) {
    if (round > 0) await backoff(round - 1);
    if ((await storage.putIfAbsent(key, body, serving)) === 'written') return 'created';
    const existing = await storage.head(key);
    // Gone again: a publish that failed took it back meanwhile.
    if (!existing) continue;
    if (existing.sha256 === body.sha256) return 'found';
    await mayReplace(existing);
    if ((await storage.putIfMatch(key, existing.etag, body, serving)) === 'written') return 'replaced';
  }
  throw contentionError(storage.locate(key));
}

/**
 * Other bytes under the wheel's filename: a conflict when the manifest lists them, or when a publish
 * of them is under way (its claim in the pending note). Otherwise they are the debris of a publish
 * that stopped before listing them (killed, or its claim cleared by settlePending), and may go. The
 * claims are read before the manifest: a publish takes its claim back only after listing its file.
 */
async function assertDebris(storage: IndexStorage, normalized: string, wheel: WheelToPublish, existing: ObjectVersion): Promise<void> {
  const rival = (await readClaims(storage, normalized)).some((claim) => claim.filename === wheel.filename && claim.sha256 !== wheel.sha256);
  const listed = rival ? undefined : (await readManifest(storage, normalized))?.files.find((file) => file.filename === wheel.filename);
  if (rival || listed) {
    const object = storage.locate(fileKey(normalized, wheel.filename));
    throw publishConflict({ filename: wheel.filename, published: listed?.sha256 ?? existing.sha256, wanted: wheel.sha256, object });
  }
}
