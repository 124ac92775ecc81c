import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DirectoryStorage } from './storage/directory-storage.ts';
import { StoredIndex } from './stored-index.ts';

export interface LocalDirPublisherOptions {
  /** The index directory; created on first publish. */
  root: string;
}

/**
 * The embedded default index: a directory (index-layout.ts) pip installs from with
 * `--index-url file://<root>/simple/`, and `wheelfarm serve` serves over HTTP.
 */
export class LocalDirPublisher extends StoredIndex {
  /** What to pass to pip's `--index-url`. */
  readonly indexUrl: string;

  constructor(options: LocalDirPublisherOptions) {
    const storage = new DirectoryStorage(options?.root);
    const indexUrl = `${pathToFileURL(join(storage.root, 'simple')).href}/`;
    super({ storage, description: `local index at ${storage.root} (pip install --index-url ${indexUrl})` });
    this.indexUrl = indexUrl;
  }
}
