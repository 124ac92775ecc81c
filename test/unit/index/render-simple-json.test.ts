import { describe, expect, it } from 'vitest';
import { renderProjectJson, renderRootJson } from '../../../farm/src/index/render-simple-json.ts';

const SHA = 'a'.repeat(64);
const META = 'b'.repeat(64);

describe('renderProjectJson (PEP 691, API 1.1)', () => {
  const file = (filename: string, extra = {}) => ({ filename, url: `../../files/p/${filename}`, sha256: SHA, size: 10, ...extra });

  it('lists files sorted with hashes, size, core-metadata and yanked; versions in PEP 440 order', () => {
    const page = JSON.parse(
      renderProjectJson({
        name: 'P',
        files: [
          file('p-10.0-py3-none-any.whl', { coreMetadataSha256: META, uploadTime: '2026-11-22T06:00:00.000Z', requiresPython: '>=3.11' }),
          file('p-9.0-py3-none-any.whl', { yanked: 'broken' }),
          file('p-10.0rc1-py3-none-any.whl'),
        ],
      }),
    );
    expect(page.meta).toEqual({ 'api-version': '1.1' });
    expect(page.name).toBe('P');
    expect(page.versions).toEqual(['9.0', '10.0rc1', '10.0']);
    expect(page.files.map((f: { filename: string }) => f.filename)).toEqual([
      'p-10.0-py3-none-any.whl',
      'p-10.0rc1-py3-none-any.whl',
      'p-9.0-py3-none-any.whl',
    ]);
    expect(page.files[0]).toEqual({
      filename: 'p-10.0-py3-none-any.whl',
      url: '../../files/p/p-10.0-py3-none-any.whl',
      hashes: { sha256: SHA },
      'requires-python': '>=3.11',
      'core-metadata': { sha256: META },
      size: 10,
      'upload-time': '2026-11-22T06:00:00.000Z',
      yanked: false,
    });
    expect(page.files[1]['core-metadata']).toBe(false);
    expect(page.files[2].yanked).toBe('broken');
    // Never PEP 658's first key name: pip 22.x mishandles it.
    expect(JSON.stringify(page)).not.toContain('dist-info-metadata');
  });

  it('renders the same text whatever the input order', () => {
    const a = renderProjectJson({ name: 'P', files: [file('p-1.0-py3-none-any.whl'), file('p-2.0-py3-none-any.whl')] });
    const b = renderProjectJson({ name: 'P', files: [file('p-2.0-py3-none-any.whl'), file('p-1.0-py3-none-any.whl')] });
    expect(a).toBe(b);
  });
});

describe('renderRootJson', () => {
  it('lists projects by name, sorted', () => {
    expect(JSON.parse(renderRootJson([{ name: 'zeta' }, { name: 'alpha' }]))).toEqual({
      meta: { 'api-version': '1.1' },
      projects: [{ name: 'alpha' }, { name: 'zeta' }],
    });
  });
});
