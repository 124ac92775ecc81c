import { z } from 'zod';
import { describeValue } from '../../errors.ts';
import { libraryRequests, list, mapping, nonEmptyText, systemPackages, text } from '../recipe-schema.ts';

/**
 * A native library definition (`recipes/libraries/<name>.yaml`): one library, built from pinned
 * sources into an image layer of its own, for recipes whose package needs a newer version than the
 * distribution's -dev package (Debian 11 has GEOS 3.9 and libxml2 2.9; shapely 2.2 needs GEOS 3.10).
 * The name is the file's; unknown keys are rejected at every level, each at its own line, with the
 * recipes' messages (parseYamlText puts them after `file:line: \`field\``).
 *
 * The schema checks the text alone; versions and constraints are checked by readLibraryFile
 * (`bad-library-version`), the dependencies by resolveLibraries.
 */

const SHA256 = /^[0-9a-f]{64}$/;
/** `debian:pool/main/...`: a path in the Debian archive of the host's apt sources (images/README.md). */
const DEBIAN_PATH = /^debian:pool\/[^\s]+$/;
const URL_PROTOCOLS = ['http:', 'https:', 'file:'];

const sourceUrl = text('a URL', '"https://download.osgeo.org/geos/geos-3.13.1.tar.bz2"').refine(
  (value) => DEBIAN_PATH.test(value) || (URL.canParse(value) && URL_PROTOCOLS.includes(new URL(value).protocol)),
  'expected an http(s):// or file: URL, or `debian:pool/...` (a path in the Debian archive)',
);

/** One place to download the source tarball from, and the sha256 its bytes must have there. */
const source = mapping({
  url: sourceUrl,
  sha256: text('a sha256', '64 lower-case hex digits').regex(SHA256, 'expected a sha256: 64 lower-case hex digits'),
});

function args(example: string) {
  return list(text('an argument', example), `\`[${example.replaceAll('`', '')}]\``);
}

/** `true` or a mapping of settings (like the recipes' toolchains): `cmake: true` is `cmake: {}`. */
function buildSystem<Shape extends z.ZodRawShape>(name: string, shape: Shape) {
  const settings = mapping(shape, (key, allowed) => `unknown key \`${key}\` for ${name}: expected one of ${allowed}`);
  return z.preprocess((value) => (value === true ? {} : value), settings).optional();
}

/**
 * How to build it, in the unpacked source with the install prefix `$PREFIX`: exactly one of
 * autotools (`./configure --prefix=$PREFIX <configure-args>; make; make install`), cmake, meson, or a
 * shell script of its own (given `$PREFIX` and `$SRC`, the unpacked source).
 */
const build = mapping(
  {
    autotools: buildSystem('autotools', { 'configure-args': args('`--without-python`').optional() }),
    cmake: buildSystem('cmake', { args: args('`-DBUILD_TESTING=OFF`').optional() }),
    meson: buildSystem('meson', { args: args('`-Ddocs=disabled`').optional() }),
    script: nonEmptyText('a shell script', '`make PREFIX=$PREFIX install`').optional(),
  },
  (key, allowed) => `unknown build system \`${key}\`: expected one of ${allowed}`,
).superRefine((value, ctx) => {
  const chosen = Object.entries(value).filter(([, setting]) => setting !== undefined);
  if (chosen.length !== 1) {
    const got = chosen.length === 0 ? 'none' : chosen.map(([key]) => key).join(' and ');
    ctx.addIssue({ code: 'custom', message: `expected exactly one of autotools, cmake, meson or script, got ${got}`, input: value });
  }
});

export const librarySchema = mapping({
  /** The version the sources are (dotted numbers, quoted: `"3.13.1"`); constraints are checked against it. */
  version: text('a version', '"3.13.1"'),
  /**
   * Where the source tarball is, tried in order: the first download whose sha256 matches wins. Upstream
   * first; the Debian archive's `pool/.../<package>_<version>.orig.tar.*` second.
   */
  sources: list(source, '`[{ url: https://..., sha256: <64 hex> }]`').min(1, 'list at least one source'),
  /** Other library definitions this one is built against (built first, into layers below it). */
  depends: libraryRequests.optional(),
  /** Distro packages its build needs (tools, -dev packages), by package manager, as in recipes. */
  system: mapping(
    { apt: systemPackages.optional(), dnf: systemPackages.optional() },
    (key, allowed) => `unknown package manager \`${key}\`: expected one of ${allowed}`,
  ).optional(),
  build: z
    .custom<unknown>((value) => value !== undefined, { error: () => 'required: one of autotools, cmake, meson or script' })
    .pipe(
      z
        .custom<unknown>((value) => typeof value === 'object' && value !== null && !Array.isArray(value), {
          error: (issue) => `expected a mapping like \`{ cmake: { args: [-DBUILD_TESTING=OFF] } }\`, got ${describeValue(issue.input)}`,
        })
        .pipe(build),
    ),
});

/** A library definition file as written (validated, not yet with defaults: see LibraryDefinition). */
export type LibraryFile = z.infer<typeof librarySchema>;
