import { backoff, contentionError, MAX_ROUNDS } from './storage/contention.ts';
import type { IndexStorage, Serving } from './storage/index-storage.ts';

/** How to read, change and write one small object (a manifest, a pending note). */
export interface ObjectUpdate<T, R> {
  /** The stored bytes as a value; throws on bytes it cannot read. */
  parse(body: Buffer): T;
  /**
   * The change, from what is stored now (undefined: nothing): `next` is what to store instead,
   * `'delete'` to remove it, absent to leave it as it is; `result` is what updateObject returns.
   */
  edit(current: T | undefined): { next?: T | 'delete'; result: R };
  serialize(value: T): string;
  serving: Serving;
}

/**
 * Read-edit-write of the object at `key` by compare-and-swap on its version, so concurrent writers
 * anywhere lose no change: when another one wrote in between, read again and edit again, after a
 * jittered wait. `edit` may run several times and must not have effects of its own.
 */
export async function updateObject<T, R>(storage: IndexStorage, key: string, update: ObjectUpdate<T, R>): Promise<R> {
  for (let round = 0; round < MAX_ROUNDS; round += 1) {
    if (round > 0) await backoff(round - 1);
    const stored = await storage.get(key);
    const { next, result } = update.edit(stored ? update.parse(stored.body) : undefined);
    if (next === undefined) return result;
    if (next === 'delete') {
      if (!stored || (await storage.delete(key, stored.etag)) === 'deleted') return result;
      continue;
    }
    const bytes = { bytes: Buffer.from(update.serialize(next)) };
    const written = stored
      ? await storage.putIfMatch(key, stored.etag, bytes, update.serving)
      : await storage.putIfAbsent(key, bytes, update.serving);
    if (written === 'written') return result;
  }
  throw contentionError(storage.locate(key));
}
