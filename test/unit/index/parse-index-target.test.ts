import { describe, expect, it } from 'vitest';
import { indexIdentity, parseIndexTarget } from '../../../farm/src/index/parse-index-target.ts';

describe('parseIndexTarget', () => {
  it('a path is the local directory index, resolved against cwd; file: URLs too', () => {
    expect(parseIndexTarget('idx', { cwd: '/srv' })).toEqual({ kind: 'dir', path: '/srv/idx' });
    expect(parseIndexTarget('/abs/idx')).toEqual({ kind: 'dir', path: '/abs/idx' });
    expect(parseIndexTarget('file:///abs/my%20idx')).toEqual({ kind: 'dir', path: '/abs/my idx' });
  });
  it('s3://bucket/prefix with endpoint and region', () => {
    expect(parseIndexTarget('s3://wheels/farm/prod/?endpoint=http://127.0.0.1:5000&region=eu-west-1')).toEqual({
      kind: 's3',
      bucket: 'wheels',
      prefix: 'farm/prod',
      endpoint: 'http://127.0.0.1:5000',
      region: 'eu-west-1',
    });
    expect(parseIndexTarget('s3://wheels')).toEqual({ kind: 's3', bucket: 'wheels', prefix: '' });
  });
  it('devpi: credentials, USER/INDEX, create', () => {
    expect(parseIndexTarget('devpi+http://farm:s%40cret@127.0.0.1:3141/farm/wheels?create=1')).toEqual({
      kind: 'devpi',
      url: 'http://127.0.0.1:3141/',
      user: 'farm',
      password: 's@cret',
      index: 'wheels',
      create: true,
    });
    expect(() => parseIndexTarget('devpi+http://farm:pw@h/other/wheels')).toThrow(/login user's own indexes: `\/farm\/INDEX`/);
  });
  it('pypiserver with and without credentials', () => {
    expect(parseIndexTarget('pypiserver+http://u:p@127.0.0.1:8081')).toEqual({
      kind: 'pypiserver',
      url: 'http://127.0.0.1:8081/',
      user: 'u',
      password: 'p',
    });
    expect(parseIndexTarget('pypiserver+https://pypi.internal.invalid/sub/')).toEqual({
      kind: 'pypiserver',
      url: 'https://pypi.internal.invalid/sub/',
    });
  });
  it('tries and timeout on any backend URL; bad ones are named', () => {
    expect(parseIndexTarget('s3://wheels/farm?endpoint=http://127.0.0.1:9000&tries=8&timeout=2m')).toMatchObject({
      kind: 's3',
      retry: { tries: 8, timeoutMs: 120_000 },
    });
    expect(parseIndexTarget('pypiserver+http://127.0.0.1:8081/?timeout=500ms')).toEqual({
      kind: 'pypiserver',
      url: 'http://127.0.0.1:8081/',
      retry: { timeoutMs: 500 },
    });
    expect(parseIndexTarget('devpi+http://farm:pw@h/farm/wheels?tries=1')).toMatchObject({ kind: 'devpi', retry: { tries: 1 } });
    expect(() => parseIndexTarget('s3://wheels/farm?tries=0')).toThrow(/`tries` must be a whole number from 1 to 100, got `0`/);
    expect(() => parseIndexTarget('s3://wheels/farm?tries=0')).toThrow(expect.objectContaining({ code: 'bad-index-target' }));
    expect(() => parseIndexTarget('s3://wheels/farm?timeout=30')).toThrow(
      /`timeout` must be a duration like `30s`, `500ms` or `2m`, got `30`/,
    );
  });
  it('bad targets are user errors that never show the password', () => {
    expect(() => parseIndexTarget('ftp://x/y')).toThrow(/`ftp:\/\/` is not a known index kind/);
    expect(() => parseIndexTarget('ftp://x/y')).toThrow(expect.objectContaining({ name: 'UserInputError', code: 'bad-index-target' }));
    expect(() => parseIndexTarget('devpi+http://farm:topsecret@h/onlyuser')).toThrow(/a devpi index is `\/USER\/INDEX`/);
    try {
      parseIndexTarget('devpi+http://farm:topsecret@h/onlyuser');
    } catch (error) {
      expect(String((error as Error).message)).not.toContain('topsecret');
    }
    expect(() => parseIndexTarget('devpi+http://h/u/i')).toThrow(/needs `USER:PASSWORD@`/);
    expect(() => parseIndexTarget('s3://b/p?endpoint=ftp://x')).toThrow(/`endpoint` must be an http\(s\) URL/);
    expect(() => parseIndexTarget('  ')).toThrow(/it is empty/);
  });
});

describe('indexIdentity', () => {
  it('names the index without credentials, so other credentials still mean the same index', () => {
    const devpi = indexIdentity(parseIndexTarget('devpi+https://farm:s3cret@devpi.example/farm/wheels?create=1'));
    expect(devpi).toBe('devpi:https://devpi.example/farm/wheels/');
    expect(indexIdentity(parseIndexTarget('devpi+https://farm:other@devpi.example/farm/wheels'))).toBe(devpi);
    expect(indexIdentity(parseIndexTarget('pypiserver+http://u:p@127.0.0.1:8080/'))).toBe('pypiserver:http://127.0.0.1:8080/');
    expect(indexIdentity(parseIndexTarget('s3://wheels/farm?endpoint=http://127.0.0.1:9000&region=eu-west-1'))).toBe(
      's3://wheels/farm@http://127.0.0.1:9000',
    );
    expect(indexIdentity(parseIndexTarget('idx', { cwd: '/srv' }))).toBe('dir:/srv/idx');
  });
});
