import type { LoadedImageDefinitions } from './image-definitions.ts';
import { hashImageInputs, shortHash } from './input-hash.ts';
import type { ImageInputs } from './input-hash.ts';

/** The images one set of definitions makes, each tagged by the hash of its inputs. Pure. */
export interface PlannedImage {
  kind: 'base' | 'build' | 'runtime';
  tag: string;
  inputsHash: string;
}

export interface ImagePlan {
  base: PlannedImage & { source: 'debootstrap' | 'upstream'; reference?: string };
  build: PlannedImage;
  runtime: PlannedImage;
}

export const IMAGE_REPOSITORY = 'wheelfarm';

export function planImages({
  loaded,
  renderedDockerfile,
  contextFiles,
}: {
  loaded: LoadedImageDefinitions;
  renderedDockerfile: string;
  /** Text files copied into the build context besides the Dockerfile (scripts). */
  contextFiles: Record<string, string>;
}): ImagePlan {
  const { definitions } = loaded;
  const baseInputs: ImageInputs =
    'debootstrap' in definitions.base
      ? { kind: 'base', texts: { debootstrap: JSON.stringify(definitions.base.debootstrap) } }
      : { kind: 'base', texts: { upstream: `${definitions.base.upstream.name}@${definitions.base.upstream.digest}` } };
  const baseHash = hashImageInputs(baseInputs);
  const digests = Object.fromEntries(definitions.pythons.map((p) => [`cpython-${p.version}`, p.sha256]));
  const texts = { Dockerfile: renderedDockerfile, ...contextFiles, base: baseHash };
  const buildHash = hashImageInputs({ kind: 'build', texts, digests });
  const runtimeHash = hashImageInputs({ kind: 'runtime', texts, digests });
  const image = (kind: PlannedImage['kind'], hash: string): PlannedImage => ({
    kind,
    tag: `${IMAGE_REPOSITORY}/${kind}:${shortHash(hash)}`,
    inputsHash: hash,
  });
  return {
    base: {
      ...image('base', baseHash),
      ...('upstream' in definitions.base
        ? { source: 'upstream' as const, reference: `${definitions.base.upstream.name}@${definitions.base.upstream.digest}` }
        : { source: 'debootstrap' as const }),
    },
    build: image('build', buildHash),
    runtime: image('runtime', runtimeHash),
  };
}
