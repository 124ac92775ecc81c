import { extractCoreMetadata } from '../wheels/extract-core-metadata.ts';
import { SERVING } from './index-layout.ts';
import type { ManifestFile } from './project-manifest.ts';
import type { Serving } from './storage/index-storage.ts';

/**
 * A file stored beside each wheel, made from it. Publishing stores the wheel, then each companion, then
 * lists them in the manifest (their sha256 in the wheel's entry, so the pages can announce them);
 * repair writes the companions a stored wheel lacks. A new kind (a provenance file...) is one more
 * entry here, a field in the manifest schema, and its announcement in the page renderers.
 */
export interface CompanionFile {
  /** Appended to the wheel's key: `files/<project>/<wheel><suffix>`. */
  suffix: string;
  serving: Serving;
  /** The wheel's manifest entry field that holds the companion's sha256. */
  field: 'coreMetadataSha256';
  /**
   * Writes the companion of the wheel at `wheelPath` to the new file `destination`; returns its sha256.
   * Made from the wheel's bytes alone: a companion stored beside the same bytes that differs is replaced.
   */
  derive(wheelPath: string, destination: string): Promise<{ sha256: string }>;
}

export const COMPANION_FILES: readonly CompanionFile[] = [
  // PEP 658: the wheel's METADATA byte for byte, so installers resolve without downloading wheels.
  { suffix: '.metadata', serving: SERVING.coreMetadata, field: 'coreMetadataSha256', derive: extractCoreMetadata },
];

/** The companions' sha256, as the wheel's manifest entry holds them. */
export type CompanionHashes = Pick<ManifestFile, CompanionFile['field']>;
