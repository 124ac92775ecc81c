import type { WheelFilenameParts } from './wheel-filename.ts';
import { isPureWheel } from './platform-tags.ts';

type TagParts = Pick<WheelFilenameParts, 'pythonTags' | 'abiTags' | 'platformTags'>;

/**
 * Whether a wheel installs on the given CPython (`cp313`), judged by its Python and ABI tags:
 * a version-specific wheel needs the same `cpXY` Python *and* ABI tag (so `cp313t`, the
 * free-threaded ABI, does not serve `cp313`); an abi3 wheel serves its CPython and newer ones;
 * a pure wheel serves any Python 3 its tag admits.
 */
export function wheelServesPython(parts: TagParts, cpython: string): boolean {
  const minor = minorOf(cpython);
  if (minor === undefined) return false;
  if (isPureWheel(parts)) {
    return parts.pythonTags.some((tag) => tag === 'py3' || tag === cpython || atMost(/^py3(\d+)$/, tag, minor));
  }
  if (parts.abiTags.includes('abi3')) return parts.pythonTags.some((tag) => atMost(/^cp3(\d+)$/, tag, minor));
  return parts.pythonTags.includes(cpython) && parts.abiTags.includes(cpython);
}

/** Pure and abi3 wheels serve several Pythons: every cell of a version builds the same file. */
export function servesSeveralPythons(parts: TagParts): boolean {
  return isPureWheel(parts) || parts.abiTags.includes('abi3');
}

function minorOf(cpython: string): number | undefined {
  const match = /^cp3(\d+)$/.exec(cpython);
  return match ? Number(match[1]) : undefined;
}

function atMost(pattern: RegExp, tag: string, minor: number): boolean {
  const match = pattern.exec(tag);
  return match !== null && Number(match[1]) <= minor;
}
