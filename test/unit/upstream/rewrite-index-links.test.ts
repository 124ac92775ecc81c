import { describe, expect, it } from 'vitest';
import { createIndexLinkRewriter, pageKind } from '../../../farm/src/upstream/rewrite-index-links.ts';

const PROXY = 'http://172.17.0.1:41234/0123abcd';
const rewriter = createIndexLinkRewriter({ upstreamOrigin: 'https://mirror.example', proxyBase: PROXY });

describe('pageKind', () => {
  it.each([
    ['text/html; charset=utf-8', 'html'],
    ['application/vnd.pypi.simple.v1+html', 'html'],
    ['application/vnd.pypi.simple.v1+json', 'json'],
    ['Application/JSON', 'json'],
    ['application/octet-stream', undefined],
    ['application/gzip', undefined],
    [null, undefined],
  ])('%s: %s', (contentType, kind) => {
    expect(pageKind(contentType)).toBe(kind);
  });
});

describe('createIndexLinkRewriter', () => {
  it('HTML: absolute links to the origin (with credentials, an explicit default port, protocol-relative) and root-relative ones go through the proxy', () => {
    const page = [
      '<a href="https://mirror.example/files/a-1.0.tar.gz#sha256=aa">a</a>',
      '<a href="https://user:s3cret@mirror.example/files/b-1.0.tar.gz#sha256=bb" data-requires-python="&gt;=3.9">b</a>',
      "<a href='HTTPS://Mirror.Example:443/files/c-1.0.tar.gz'>c</a>",
      '<a href="//mirror.example/files/d-1.0.tar.gz">d</a>',
      '<a href="/files/e-1.0.tar.gz">e</a>',
      '<a href=/files/f-1.0.tar.gz>f</a>',
      '<a href="../../files/g-1.0.tar.gz">g</a>',
    ].join('\n');
    expect(rewriter.rewriteBody(page, 'text/html').split('\n')).toEqual([
      `<a href="${PROXY}/files/a-1.0.tar.gz#sha256=aa">a</a>`,
      `<a href="${PROXY}/files/b-1.0.tar.gz#sha256=bb" data-requires-python="&gt;=3.9">b</a>`,
      `<a href='${PROXY}/files/c-1.0.tar.gz'>c</a>`,
      `<a href="${PROXY}/files/d-1.0.tar.gz">d</a>`,
      '<a href="/0123abcd/files/e-1.0.tar.gz">e</a>',
      '<a href=/0123abcd/files/f-1.0.tar.gz>f</a>',
      '<a href="../../files/g-1.0.tar.gz">g</a>',
    ]);
  });

  it('HTML: other hosts, other ports, other schemes and look-alike hosts are left alone', () => {
    const page = [
      '<a href="https://files.example.invalid/a-1.0.tar.gz">a</a>',
      '<a href="https://mirror.example:8443/b-1.0.tar.gz">b</a>',
      '<a href="http://mirror.example/c-1.0.tar.gz">c</a>',
      '<a href="https://mirror.example.evil/d-1.0.tar.gz">d</a>',
      '<a href="https://mirror.example@evil.example/e-1.0.tar.gz">e</a>',
      '<a href="https://notmirror.example/f-1.0.tar.gz">f</a>',
    ].join('\n');
    expect(rewriter.rewriteBody(page, 'text/html')).toBe(page);
  });

  it('PEP 691 JSON: url fields (absolute, with credentials, root-relative) are rewritten, other fields kept, escaped slashes read', () => {
    const page = `{"meta":{"api-version":"1.1"},"name":"demo","files":[
      {"filename":"demo-1.0.tar.gz","url":"https:\\/\\/tok:x@mirror.example\\/files\\/demo-1.0.tar.gz","hashes":{"sha256":"aa"}},
      {"filename":"demo-1.1.tar.gz","url":"/files/demo-1.1.tar.gz","hashes":{"sha256":"bb"},"requires-python":">=3.9"},
      {"filename":"demo-1.2.tar.gz","url":"https://cdn.example/demo-1.2.tar.gz","hashes":{"sha256":"cc"}}]}`;
    const rewritten = JSON.parse(rewriter.rewriteBody(page, 'application/vnd.pypi.simple.v1+json')) as {
      name: string;
      files: { url: string; 'requires-python'?: string }[];
    };
    expect(rewritten.name).toBe('demo');
    expect(rewritten.files.map((f) => f.url)).toEqual([
      `${PROXY}/files/demo-1.0.tar.gz`,
      '/0123abcd/files/demo-1.1.tar.gz',
      'https://cdn.example/demo-1.2.tar.gz',
    ]);
    expect(rewritten.files[1]!['requires-python']).toBe('>=3.9');
  });

  it('text that is not JSON after all is still rid of the origin and its credentials', () => {
    expect(rewriter.rewriteBody('oops https://tok:x@mirror.example/simple/', 'application/json')).toBe(`oops ${PROXY}/simple/`);
  });

  it('a file is not touched', () => {
    const body = 'https://user:s3cret@mirror.example/';
    expect(rewriter.rewriteBody(body, 'application/octet-stream')).toBe(body);
  });

  it('redirects: same origin (absolute, with credentials, relative) through the proxy; other origins as they are', () => {
    const from = new URL('https://mirror.example/simple/Demo/');
    expect(rewriter.rewriteLocation('https://user:pw@mirror.example/simple/demo/', from)).toBe(`${PROXY}/simple/demo/`);
    expect(rewriter.rewriteLocation('/simple/demo/?x=1', from)).toBe(`${PROXY}/simple/demo/?x=1`);
    expect(rewriter.rewriteLocation('../demo/', from)).toBe(`${PROXY}/simple/demo/`);
    expect(rewriter.rewriteLocation('https://cdn.example/demo.tar.gz', from)).toBe('https://cdn.example/demo.tar.gz');
  });

  it('an upstream on a port of its own matches that port only', () => {
    const local = createIndexLinkRewriter({ upstreamOrigin: 'http://127.0.0.1:8080', proxyBase: PROXY });
    expect(
      local.rewriteBody(
        '<a href="http://127.0.0.1:8080/x">x</a> <a href="http://127.0.0.1:80801/y">y</a> <a href="http://127.0.0.1/z">z</a>',
        'text/html',
      ),
    ).toBe(`<a href="${PROXY}/x">x</a> <a href="http://127.0.0.1:80801/y">y</a> <a href="http://127.0.0.1/z">z</a>`);
  });
});
