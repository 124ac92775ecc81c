// farm/src/archives/member-paths.ts: where a member lands, worked out on names alone.
import { describe, expect, it } from 'vitest';
import { linkTargetSegments, memberSegments, resolvePath } from '../../../farm/src/archives/member-paths.ts';

describe('memberSegments', () => {
  it.each([
    ['pkg-1.0/src/a.py', ['pkg-1.0', 'src', 'a.py']],
    ['./pkg-1.0//src/./a.py', ['pkg-1.0', 'src', 'a.py']],
    ['pkg-1.0/', ['pkg-1.0']],
    ['./', []],
    ['pkg\\win\\a.py', ['pkg', 'win', 'a.py']],
    ['pkg/..foo/a..b', ['pkg', '..foo', 'a..b']],
  ])('%s lands at %j', (name, segments) => {
    expect(memberSegments(name)).toEqual(segments);
  });

  it.each([
    ['../x', 'archive-path-traversal'],
    ['a/../../b', 'archive-path-traversal'],
    ['a/../b', 'archive-path-traversal'],
    ['a/..', 'archive-path-traversal'],
    ['a\\..\\..\\b', 'archive-path-traversal'],
    ['/etc/passwd', 'archive-absolute-path'],
    ['//server/share/x', 'archive-absolute-path'],
    ['\\x', 'archive-absolute-path'],
    ['C:x', 'archive-absolute-path'],
    ['', 'archive-bad-member-name'],
    ['a\0b', 'archive-bad-member-name'],
    ['x'.repeat(4097), 'archive-bad-member-name'],
  ])('%j is refused: %s', (name, code) => {
    expect(memberSegments(name)).toMatchObject({ code });
  });
});

describe('resolvePath', () => {
  const links = new Map<string, string[]>([
    ['pkg/docs', ['..', 'shared']],
    ['pkg/self', []],
    ['pkg/loop', ['loop']],
  ]);

  it('follows links relative to their folder, and knows when a path climbs above the root', () => {
    expect(resolvePath(['pkg', 'docs', 'index.md'], links)).toEqual(['shared', 'index.md']);
    expect(resolvePath(['pkg', 'self', 'self', 'a'], links)).toEqual(['pkg', 'a']);
    expect(resolvePath(['pkg', 'docs', '..', '..'], links)).toBeUndefined();
    expect(resolvePath(['..'], links)).toBeUndefined();
  });

  it('does not follow the last segment when told (a member replaces a link of its name)', () => {
    expect(resolvePath(['pkg', 'docs'], links, { followLast: false })).toEqual(['pkg', 'docs']);
    expect(resolvePath(['pkg', 'docs'], links)).toEqual(['shared']);
  });

  it('gives up on a loop after 40 links, as Linux does, without climbing out', () => {
    expect(resolvePath(['pkg', 'loop', 'x'], links)).toEqual(['pkg', 'loop', 'x']);
  });
});

describe('linkTargetSegments', () => {
  it('is undefined for absolute targets', () => {
    expect(linkTargetSegments('/etc')).toBeUndefined();
    expect(linkTargetSegments('C:\\x')).toBeUndefined();
    expect(linkTargetSegments('../a/./b')).toEqual(['..', 'a', 'b']);
  });
});
