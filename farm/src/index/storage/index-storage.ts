/**
 * The storage under an index wheelfarm writes itself: the publish protocol (stored-index.ts) lives once
 * over this, and each backend is a thin adapter (directory-storage.ts, s3-storage.ts).
 *
 * Keys are relative to the index root (`files/tiny/tiny-1.0-py3-none-any.whl`, `simple/tiny/index.html`).
 * An object appears whole or not at all. Conditional writes are what make many publishers on many
 * machines safe without a lock: a conditional write that does not hold is an answer ('exists',
 * 'changed'), not an error. Each adapter converts its own failures at this boundary: a full disk is the
 * `disk-full` EnvironmentError, a storage that keeps failing through its retries an IndexUnavailableError,
 * bytes other than promised an IntegrityError.
 */
export interface IndexStorage {
  /** The index for people: `/srv/wheels`, `s3://bucket/prefix`. */
  readonly where: string;
  /**
   * Whether a reader who asks for a directory key (`simple/tiny/`) is served its `index.html`: a
   * file:// URL and `wheelfarm serve` are, a bucket read over plain HTTP is not (so the protocol
   * stores each page at the directory key too).
   */
  readonly servesDirectoryIndex: boolean;
  /** One key for messages: its path, its `s3://` URL. */
  locate(key: string): string;
  /** The object's version and recorded sha256, without its body; undefined when there is none. */
  head(key: string): Promise<ObjectVersion | undefined>;
  /** A small object (a manifest, a page, a note) whole, with its version; undefined when there is none. */
  get(key: string): Promise<StoredBytes | undefined>;
  /** Streams an object of any size into the new local file `path`; false when there is none. */
  download(key: string, path: string): Promise<boolean>;
  /** Stores `body` at `key` unless something is there: 'exists' leaves that as it was. */
  putIfAbsent(key: string, body: PutBody, serving: Serving): Promise<'written' | 'exists'>;
  /** Replaces the object at `key` if it is still the version `etag`: 'changed' when it is another, or gone. */
  putIfMatch(key: string, etag: string, body: PutBody, serving: Serving): Promise<'written' | 'changed'>;
  /** Removes `key`; with `ifMatch`, only that version of it ('changed' when it is another). Gone already is 'deleted'. */
  delete(key: string, ifMatch?: string): Promise<'deleted' | 'changed'>;
  /** The names of the objects right under `prefix` (ending in `/`), in no particular order; none when there is no such prefix. */
  list(prefix: string): Promise<string[]>;
  /**
   * Removes under each prefix what writers that died in the middle of a write left (a directory's temp
   * files of dead processes); returns how many. A store whose writes leave nothing behind removes none.
   */
  removeAbandonedWrites(prefixes: string[]): Promise<number>;
}

export interface ObjectVersion {
  /** Changes whenever the object does: what putIfMatch and delete compare. */
  etag: string;
  /** Lower-case hex sha256 of the bytes, as recorded when stored (or read, by a directory); undefined when unknown. */
  sha256: string | undefined;
}

export interface StoredBytes extends ObjectVersion {
  body: Buffer;
}

/**
 * What to store: a few bytes, or a local file, streamed (a wheel of several GB never sits in memory)
 * and checked against `sha256` on the way (IntegrityError, nothing stored, when it differs).
 */
export type PutBody = { bytes: Uint8Array } | { file: string; sha256: string };

/** How an object is served over HTTP where the store itself serves it (S3); a directory ignores it. */
export interface Serving {
  contentType: string;
  cacheControl?: string;
}
