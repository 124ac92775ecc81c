import { UserInputError } from '../errors.ts';
import type { WheelFilenameParts } from './wheel-filename.ts';

export interface ManylinuxTag {
  /** The oldest glibc the wheel runs on, e.g. `[2, 17]`. */
  glibc: [major: number, minor: number];
  arch: string;
}

const PEP600 = /^manylinux_(\d+)_(\d+)_([a-z0-9_]+)$/;
const LEGACY = /^(manylinux1|manylinux2010|manylinux2014)_([a-z0-9_]+)$/;

/** The pre-PEP 600 names and the glibc and architectures each was defined for (PEPs 513, 571, 599). */
const LEGACY_ALIASES: Record<string, { glibc: [number, number]; arches: readonly string[] }> = {
  manylinux1: { glibc: [2, 5], arches: ['x86_64', 'i686'] },
  manylinux2010: { glibc: [2, 12], arches: ['x86_64', 'i686'] },
  manylinux2014: { glibc: [2, 17], arches: ['x86_64', 'i686', 'aarch64', 'armv7l', 'ppc64', 'ppc64le', 's390x'] },
};

/** `manylinux_2_28_x86_64` -> `{ glibc: [2, 28], arch: 'x86_64' }`; undefined for any other platform tag. */
export function parseManylinuxTag(tag: string): ManylinuxTag | undefined {
  const pep600 = PEP600.exec(tag);
  if (pep600) return { glibc: [Number(pep600[1]), Number(pep600[2])], arch: pep600[3] ?? '' };
  const legacy = LEGACY.exec(tag);
  const alias = legacy ? LEGACY_ALIASES[legacy[1] ?? ''] : undefined;
  const arch = legacy?.[2] ?? '';
  if (!alias?.arches.includes(arch)) return undefined;
  return { glibc: [...alias.glibc], arch };
}

/** A wheel that runs on any platform (`...-none-any.whl`); it needs no manylinux repair. */
export function isPureWheel(parts: Pick<WheelFilenameParts, 'platformTags'>): boolean {
  return parts.platformTags.length > 0 && parts.platformTags.every((tag) => tag === 'any');
}

/**
 * Whether a wheel runs wherever the policy does: every platform tag is manylinux, for the policy's
 * architecture, and needs no newer glibc than the policy's.
 */
export function wheelMatchesPolicy(parts: Pick<WheelFilenameParts, 'platformTags'>, policyTag: string): boolean {
  const policy = parseManylinuxTag(policyTag);
  if (!policy) {
    throw new UserInputError('bad-policy-tag', `\`${policyTag}\` is not a manylinux platform tag`, {
      hint: 'Use a PEP 600 tag such as `manylinux_2_28_x86_64` (or manylinux1 / manylinux2010 / manylinux2014).',
    });
  }
  return (
    parts.platformTags.length > 0 &&
    parts.platformTags.every((tag) => {
      const parsed = parseManylinuxTag(tag);
      return parsed !== undefined && parsed.arch === policy.arch && compareGlibc(parsed.glibc, policy.glibc) <= 0;
    })
  );
}

function compareGlibc(a: readonly [number, number], b: readonly [number, number]): number {
  return a[0] - b[0] || a[1] - b[1];
}
