import { describe, expect, it } from 'vitest';
import { WheelfarmError } from '../../../farm/src/errors.ts';
import { renderProjectPage, renderRootPage } from '../../../farm/src/index/render-simple-page.ts';

const SHA_A = 'a'.repeat(64);
const SHA_B = 'b'.repeat(64);

function anchors(html: string): string[] {
  return html.match(/<a [^>]*>[^<]*<\/a>/g) ?? [];
}

describe('renderProjectPage', () => {
  const page = renderProjectPage({
    name: 'Mark<up>Safe',
    files: [
      {
        filename: 'markupsafe-3.0.3-cp313-cp313-manylinux_2_28_x86_64.whl',
        url: '../../files/markupsafe/markupsafe-3.0.3-cp313-cp313-manylinux_2_28_x86_64.whl',
        sha256: SHA_B,
        requiresPython: '>=3.9',
      },
      { filename: 'markupsafe-2.1.0-cp311-cp311-manylinux_2_17_x86_64.whl', url: 'files/a&b.whl', sha256: SHA_A, yanked: true },
      { filename: 'markupsafe-3.0.0-py3-none-any.whl', url: 'x.whl', sha256: SHA_A, yanked: 'broken "build"', requiresPython: '<4,>=3.8' },
    ],
  });

  it('is an HTML5 PEP 503 page declaring the repository version', () => {
    expect(page.startsWith('<!DOCTYPE html>\n')).toBe(true);
    expect(page).toContain('<meta name="pypi:repository-version" content="1.0">');
  });

  it('escapes the project name', () => {
    expect(page).toContain('<title>Links for Mark&lt;up&gt;Safe</title>');
    expect(page).not.toContain('Mark<up>');
  });

  it('lists files sorted by filename, each with a sha256 fragment', () => {
    expect(anchors(page)).toEqual([
      `<a href="files/a&amp;b.whl#sha256=${SHA_A}" data-yanked="">markupsafe-2.1.0-cp311-cp311-manylinux_2_17_x86_64.whl</a>`,
      '<a href="x.whl#sha256=' +
        SHA_A +
        '" data-requires-python="&lt;4,&gt;=3.8" data-yanked="broken &quot;build&quot;">markupsafe-3.0.0-py3-none-any.whl</a>',
      '<a href="../../files/markupsafe/markupsafe-3.0.3-cp313-cp313-manylinux_2_28_x86_64.whl#sha256=' +
        SHA_B +
        '" data-requires-python="&gt;=3.9">markupsafe-3.0.3-cp313-cp313-manylinux_2_28_x86_64.whl</a>',
    ]);
  });

  it('renders an empty project', () => {
    expect(anchors(renderProjectPage({ name: 'empty', files: [] }))).toEqual([]);
  });

  it('refuses a hash that is not hex sha256', () => {
    expect(() => renderProjectPage({ name: 'x', files: [{ filename: 'x-1.0-py3-none-any.whl', url: 'x', sha256: 'sha256=abc' }] })).toThrow(
      WheelfarmError,
    );
  });
});

describe('renderRootPage', () => {
  it('links each project by normalized name, sorted by normalized name, showing the escaped name', () => {
    const page = renderRootPage([
      { name: 'Zope.Interface', normalized: 'zope-interface' },
      { name: 'A&B', normalized: 'a-b' },
      { name: 'MarkupSafe', normalized: 'markupsafe' },
    ]);
    expect(page).toContain('<meta name="pypi:repository-version" content="1.0">');
    expect(anchors(page)).toEqual([
      '<a href="a-b/">A&amp;B</a>',
      '<a href="markupsafe/">MarkupSafe</a>',
      '<a href="zope-interface/">Zope.Interface</a>',
    ]);
  });
});
