// farm/src/archives/check-wheel.ts: wheels are refused before an index serves them.
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WHEEL_LIMITS } from '../../../farm/src/archives/archive-limits.ts';
import { checkWheel } from '../../../farm/src/archives/check-wheel.ts';
import { expectRefusal, fixture, tempDir, writeZip } from './archive-fixtures.ts';

describe('checkWheel on the committed fixtures', () => {
  it.each([
    ['zip_traversal-1.0-py3-none-any.whl', 'archive-path-traversal', 'zip_traversal/../../evil.pth', /has a `\.\.` path segment/],
    ['zip_backslash-1.0-py3-none-any.whl', 'archive-path-traversal', 'zip_backslash\\..\\..\\evil.pth', /has a `\.\.` path segment/],
    ['zip_absolute-1.0-py3-none-any.whl', 'archive-absolute-path', '/etc/evil.pth', /has an absolute path/],
    ['zip_drive-1.0-py3-none-any.whl', 'archive-absolute-path', 'C:\\Windows\\evil.dll', /starts with a Windows drive \(`C:`\)/],
    [
      'zip_symlink-1.0-py3-none-any.whl',
      'archive-symlink-outside',
      'zip_symlink/passwd',
      /is a symlink to `\.\.\/\.\.\/\.\.\/\.\.\/etc\/passwd`, which points outside/,
    ],
    ['zip_device-1.0-py3-none-any.whl', 'archive-device-file', 'zip_device/null', /is a character device/],
    [
      'zip_duplicate-1.0-py3-none-any.whl',
      'archive-duplicate-member',
      'zip_duplicate/__init__.py',
      /is in the archive twice: installers disagree/,
    ],
    [
      'zip_mismatch-1.0-py3-none-any.whl',
      'archive-header-mismatch',
      'zip_mismatch/__init__.py',
      /is named `\.\.\/\.\.\/\.\.\/\.\.\/\.\.\/evil1\.pth` in its local header/,
    ],
    [
      'zip_size_lie-1.0-py3-none-any.whl',
      'archive-size-mismatch',
      'zip_size_lie/data.bin',
      /inflates to more than the 100 bytes its header declares/,
    ],
    [
      'zipbomb-1.0-py3-none-any.whl',
      'archive-compression-ratio',
      'zipbomb/zeros.bin',
      /inflates to more than 200 times its compressed size of 4\.\d KiB \(a zip bomb\)/,
    ],
  ])('%s: %s', async (name, code, member, problem) => {
    const refusal = await expectRefusal(checkWheel({ path: fixture(name) }), { code, archive: name, member });
    expect(refusal.message).toMatch(problem);
    expect(refusal.hint).toMatch(/^Nothing was published: the wheel the build produced/);
  });

  it('passes a good wheel', async () => {
    expect(await checkWheel({ path: fixture('good-1.0-py3-none-any.whl') })).toEqual({ members: 6, bytes: 1147 });
  });

  it('counts inflated bytes against the limits the caller passes', async () => {
    const bomb = fixture('zipbomb-1.0-py3-none-any.whl');
    const tooLarge = await expectRefusal(checkWheel({ path: bomb, limits: { maxBytes: 1024 * 1024, maxCompressionRatio: 10_000 } }), {
      code: 'archive-too-large',
      archive: 'zipbomb-1.0-py3-none-any.whl',
      member: 'zipbomb/zeros.bin',
    });
    expect(tooLarge.message).toMatch(/takes the archive beyond 1 MiB unpacked, the limit for wheels/);
    expect(tooLarge.hint).toMatch(/limits for wheels \(1 MiB unpacked, 200000 members, 10000:1 per member\)/);
    expect((await checkWheel({ path: bomb, limits: { maxCompressionRatio: 2000 } })).bytes).toBeGreaterThan(4 * 1024 * 1024);
    await expectRefusal(checkWheel({ path: fixture('good-1.0-py3-none-any.whl'), limits: { maxMembers: 3 } }), {
      code: 'archive-too-many-members',
      archive: 'good-1.0-py3-none-any.whl',
      member: 'good-1.0.dist-info/METADATA',
    });
  });

  it('has documented defaults', () => {
    expect(WHEEL_LIMITS).toEqual({ maxBytes: 8 * 1024 ** 3, maxMembers: 200_000, maxCompressionRatio: 200 });
  });
});

describe('checkWheel on zips made on the fly', () => {
  let dir: string;
  let remove: () => Promise<void>;
  beforeEach(async () => ({ dir, remove } = await tempDir()));
  afterEach(() => remove());

  const wheel = (members: Parameters<typeof writeZip>[1]) => writeZip(join(dir, 'demo-1.0-py3-none-any.whl'), members);
  const refused = (code: string, member: string) => ({ code, archive: 'demo-1.0-py3-none-any.whl', member });

  it('small members may compress well; the ratio limit starts at 1 MiB inflated', async () => {
    expect(await checkWheel({ path: wheel([{ name: 'demo/spaces.txt', content: ' '.repeat(512 * 1024) }]) })).toMatchObject({ members: 1 });
  });

  it('refuses FIFOs, sockets, symlinks that climb, and what it cannot inflate', async () => {
    await expectRefusal(checkWheel({ path: wheel([{ name: 'demo/pipe', mode: 0o010644 }]) }), refused('archive-fifo', 'demo/pipe'));
    await expectRefusal(
      checkWheel({ path: wheel([{ name: 'demo/sock', mode: 0o140644 }]) }),
      refused('archive-unsupported-entry', 'demo/sock'),
    );
    await expectRefusal(
      checkWheel({ path: wheel([{ name: 'demo/up', mode: 0o120777, content: '../..' }]) }),
      refused('archive-symlink-outside', 'demo/up'),
    );
    const lzma = await expectRefusal(
      checkWheel({ path: wheel([{ name: 'demo/a.py', content: 'x', method: 'lzma' }]) }),
      refused('archive-unsupported-entry', 'demo/a.py'),
    );
    expect(lzma.message).toMatch(/uses compression method 14; wheelfarm reads stored and deflated members only/);
  });

  it('a symlink inside the wheel and stored members pass', async () => {
    const path = wheel([
      { name: 'demo/lib/libx.so.1', content: 'ELF', method: 'stored' },
      { name: 'demo/lib/libx.so', mode: 0o120777, content: 'libx.so.1' },
    ]);
    expect(await checkWheel({ path })).toEqual({ members: 2, bytes: 'ELF'.length + 'libx.so.1'.length });
  });

  it('two names that unpack to the same file are duplicates', async () => {
    await expectRefusal(
      checkWheel({ path: wheel([{ name: 'demo/a.py' }, { name: 'demo//./a.py' }]) }),
      refused('archive-duplicate-member', 'demo//./a.py'),
    );
  });

  it('a file that is not a zip is unreadable', async () => {
    const refusal = await expectRefusal(checkWheel({ path: fixture('good-1.0.tar.gz'), displayName: 'good-1.0-py3-none-any.whl' }), {
      code: 'archive-unreadable',
      archive: 'good-1.0-py3-none-any.whl',
    });
    expect(refusal.message).toMatch(/^good-1\.0-py3-none-any\.whl is not a readable zip archive: /);
  });
});
