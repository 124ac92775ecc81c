import { WheelfarmError } from '../errors.ts';
import { MANIFESTS, manifestKey, SERVING } from './index-layout.ts';
import { MANIFEST_FILE_NAME, parseProjectManifest, serializeProjectManifest } from './project-manifest.ts';
import type { ProjectManifest } from './project-manifest.ts';
import type { IndexStorage } from './storage/index-storage.ts';
import { updateObject } from './update-object.ts';

/** The manifest of `normalized`, or undefined if the project has never been published. */
export async function readManifest(storage: IndexStorage, normalized: string): Promise<ProjectManifest | undefined> {
  const stored = await storage.get(manifestKey(normalized));
  return stored && parseManifest(storage, normalized, stored.body);
}

/**
 * Changes the manifest of `normalized` by compare-and-swap (see updateObject): `edit` returns the new
 * manifest, or none to leave it as it is, and what editManifest returns.
 */
export function editManifest<R>(
  storage: IndexStorage,
  normalized: string,
  edit: (current: ProjectManifest | undefined) => { manifest?: ProjectManifest; result: R },
): Promise<R> {
  return updateObject(storage, manifestKey(normalized), {
    parse: (body) => parseManifest(storage, normalized, body),
    edit: (current) => {
      const { manifest, result } = edit(current);
      return manifest ? { next: manifest, result } : { result };
    },
    serialize: serializeProjectManifest,
    serving: SERVING.manifest,
  });
}

/** The projects of the index, from the manifests' names alone: reading every manifest would make each publish cost the whole index. */
export async function listProjects(storage: IndexStorage): Promise<string[]> {
  return (await storage.list(MANIFESTS)).flatMap((name) => MANIFEST_FILE_NAME.exec(name)?.[1] ?? []);
}

function parseManifest(storage: IndexStorage, normalized: string, body: Buffer): ProjectManifest {
  try {
    return parseProjectManifest(body.toString('utf8'));
  } catch (error) {
    throw new WheelfarmError('corrupt-index', `the index manifest ${storage.locate(manifestKey(normalized))} is not valid`, {
      hint: 'It is only ever replaced whole, so it was edited by hand or the storage is failing; restore it from a backup (or the bucket versioning).',
      cause: error,
    });
  }
}
