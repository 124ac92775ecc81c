import { describe, expect, it } from 'vitest';
import { hashImageInputs, shortHash } from '../../../farm/src/images/input-hash.ts';
import type { ImageInputs } from '../../../farm/src/images/input-hash.ts';

const INPUTS: ImageInputs = {
  kind: 'build',
  texts: { Dockerfile: 'FROM x\nRUN true\n', 'build-cpython.sh': '#!/bin/sh\necho hi\n', base: 'abc123' },
  digests: { 'cpython-3.11.2': 'a'.repeat(64), 'cpython-3.13.5': 'b'.repeat(64) },
};

describe('hashImageInputs', () => {
  it('is a sha256 in lower-case hex', () => {
    expect(hashImageInputs(INPUTS)).toMatch(/^[0-9a-f]{64}$/);
  });

  it('is the same for the same inputs', () => {
    expect(hashImageInputs(INPUTS)).toBe(hashImageInputs(structuredClone(INPUTS)));
  });

  it('does not depend on the order the texts and digests were collected in', () => {
    const reordered: ImageInputs = {
      digests: { 'cpython-3.13.5': 'b'.repeat(64), 'cpython-3.11.2': 'a'.repeat(64) },
      texts: { base: 'abc123', 'build-cpython.sh': '#!/bin/sh\necho hi\n', Dockerfile: 'FROM x\nRUN true\n' },
      kind: 'build',
    };
    expect(hashImageInputs(reordered)).toBe(hashImageInputs(INPUTS));
  });

  it.each(Object.keys(INPUTS.texts))('changes when the text %s changes', (name) => {
    const changed = structuredClone(INPUTS);
    changed.texts[name] += ' ';
    expect(hashImageInputs(changed)).not.toBe(hashImageInputs(INPUTS));
  });

  it.each(Object.keys(INPUTS.digests!))('changes when the digest %s changes', (name) => {
    const changed = structuredClone(INPUTS);
    changed.digests![name] = 'c'.repeat(64);
    expect(hashImageInputs(changed)).not.toBe(hashImageInputs(INPUTS));
  });

  it('changes when a text is renamed, added or removed', () => {
    const base = hashImageInputs(INPUTS);
    const renamed = structuredClone(INPUTS);
    renamed.texts['build-python.sh'] = renamed.texts['build-cpython.sh']!;
    delete renamed.texts['build-cpython.sh'];
    const added = structuredClone(INPUTS);
    added.texts['extra.sh'] = '';
    const removed = structuredClone(INPUTS);
    delete removed.texts['build-cpython.sh'];
    const hashes = [base, hashImageInputs(renamed), hashImageInputs(added), hashImageInputs(removed)];
    expect(new Set(hashes).size).toBe(4);
  });

  it('changes when a digest is added or removed', () => {
    const added = structuredClone(INPUTS);
    added.digests!['cpython-3.12.1'] = 'd'.repeat(64);
    const removed = structuredClone(INPUTS);
    delete removed.digests!['cpython-3.13.5'];
    const hashes = [hashImageInputs(INPUTS), hashImageInputs(added), hashImageInputs(removed)];
    expect(new Set(hashes).size).toBe(3);
  });

  it('differs by kind for the same texts and digests', () => {
    expect(hashImageInputs({ ...INPUTS, kind: 'runtime' })).not.toBe(hashImageInputs(INPUTS));
    expect(hashImageInputs({ ...INPUTS, kind: 'base' })).not.toBe(hashImageInputs({ ...INPUTS, kind: 'runtime' }));
  });

  it('does not confuse a text with a digest of the same name and value', () => {
    expect(hashImageInputs({ kind: 'k', texts: { x: 'v' } })).not.toBe(hashImageInputs({ kind: 'k', texts: {}, digests: { x: 'v' } }));
  });

  it('treats missing digests like no digests', () => {
    expect(hashImageInputs({ kind: 'k', texts: { a: '1' } })).toBe(hashImageInputs({ kind: 'k', texts: { a: '1' }, digests: {} }));
  });

  it('does not let text move between neighbouring inputs', () => {
    const a = hashImageInputs({ kind: 'k', texts: { a: 'xy', b: 'z' } });
    const b = hashImageInputs({ kind: 'k', texts: { a: 'x', b: 'yz' } });
    expect(a).not.toBe(b);
  });
});

describe('shortHash', () => {
  it('is the first 16 hex digits', () => {
    const hash = hashImageInputs(INPUTS);
    expect(shortHash(hash)).toHaveLength(16);
    expect(shortHash(hash)).toBe(hash.slice(0, 16));
    expect(shortHash('0123456789abcdef0123456789abcdef')).toBe('0123456789abcdef');
  });
});
