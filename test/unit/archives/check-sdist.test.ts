// farm/src/archives/check-sdist.ts: sdists are refused before anything unpacks them.
import { copyFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { checkSdist } from '../../../farm/src/archives/check-sdist.ts';
import { IntegrityError, InterruptedError, UserInputError } from '../../../farm/src/errors.ts';
import { exitCodeFor } from '../../../farm/src/cli/exit-codes.ts';
import { expectRefusal, fixture, tempDir, writeTar } from './archive-fixtures.ts';

const SMALL = { maxBytes: 256 * 1024, maxMembers: 100 };

describe('checkSdist on the committed fixtures', () => {
  it.each([
    ['traversal-1.0.tar.gz', 'archive-path-traversal', 'traversal-1.0/../../escaped.txt', /has a `\.\.` path segment/],
    ['absolute-1.0.tar.gz', 'archive-absolute-path', '/tmp/wheelfarm-absolute.txt', /has an absolute path/],
    [
      'symlink_outside-1.0.tar.gz',
      'archive-symlink-outside',
      'symlink_outside-1.0/README',
      /is a symlink to `\.\.\/\.\.\/\.\.\/etc\/passwd`, which points outside the archive/,
    ],
    [
      'hardlink_outside-1.0.tar.gz',
      'archive-hardlink-outside',
      'hardlink_outside-1.0/passwd',
      /is a hard link to `\.\.\/etc\/passwd`, which is outside the archive/,
    ],
    [
      'hardlink_dangling-1.0.tar.gz',
      'archive-hardlink-dangling',
      'hardlink_dangling-1.0/copy.txt',
      /hard link to `hardlink_dangling-1\.0\/missing\.txt`, which is not a file that comes before it/,
    ],
    ['device-1.0.tar.gz', 'archive-device-file', 'device-1.0/null', /is a character device \(major 1, minor 3\)/],
    ['fifo-1.0.tar.gz', 'archive-fifo', 'fifo-1.0/pipe', /is a FIFO/],
    ['tarbomb-1.0.tar.gz', 'archive-too-large', 'tarbomb-1.0/zeros.bin', /beyond 256 KiB unpacked, the limit for sdists/],
    [
      'many_members-1.0.tar.gz',
      'archive-too-many-members',
      'many_members-1.0/data/0097.txt',
      /is member number 101; sdists may hold at most 100/,
    ],
  ])('%s: %s', async (name, code, member, problem) => {
    const refusal = await expectRefusal(checkSdist({ path: fixture(name), limits: SMALL }), { code, archive: name, member });
    expect(refusal.message).toMatch(problem);
    expect(refusal.hint).toMatch(
      code.includes('many') || code.includes('large') ? /limits for sdists \(256 KiB unpacked, 100 members\)/ : /Do not build it/,
    );
  });

  it('passes a good sdist (folders, a symlink that climbs and comes back, a hard link), as tar.gz and as legacy zip', async () => {
    expect(await checkSdist({ path: fixture('good-1.0.tar.gz'), limits: SMALL })).toEqual({ members: 11, bytes: 10240 });
    expect(await checkSdist({ path: fixture('good-1.0.zip'), limits: SMALL })).toMatchObject({ members: 3 });
  });

  it('the bombs pass under the default limits, which are documented in the hint', async () => {
    expect((await checkSdist({ path: fixture('tarbomb-1.0.tar.gz') })).bytes).toBeGreaterThan(2 * 1024 * 1024);
    expect((await checkSdist({ path: fixture('many_members-1.0.tar.gz') })).members).toBe(303);
  });

  it('a refusal is an integrity fault (exit 5), names the archive as the caller shows it', async () => {
    const refusal = await expectRefusal(checkSdist({ path: fixture('fifo-1.0.tar.gz'), displayName: 'fifo-1.0.tar.gz from the cache' }), {
      code: 'archive-fifo',
      archive: 'fifo-1.0.tar.gz from the cache',
      member: 'fifo-1.0/pipe',
    });
    expect(refusal).toBeInstanceOf(IntegrityError);
    expect(exitCodeFor(refusal)).toBe(5);
  });
});

describe('checkSdist on archives made on the fly', () => {
  let dir: string;
  let remove: () => Promise<void>;
  beforeEach(async () => ({ dir, remove } = await tempDir()));
  afterEach(() => remove());

  const check = async (members: Parameters<typeof writeTar>[1], options: Parameters<typeof writeTar>[2] = {}) =>
    checkSdist({ path: writeTar(join(dir, 'demo-1.0.tar.gz'), members, options), limits: SMALL });
  const refused = (code: string, member: string | undefined) => ({
    code,
    archive: 'demo-1.0.tar.gz',
    ...(member === undefined ? {} : { member }),
  });

  it.each([
    ['../escaped.txt', 'archive-path-traversal'],
    ['demo-1.0/src/../../../escaped.txt', 'archive-path-traversal'],
    ['demo-1.0/a/../b.txt', 'archive-path-traversal'],
    ['demo-1.0\\..\\..\\escaped.txt', 'archive-path-traversal'],
    ['/etc/cron.d/x', 'archive-absolute-path'],
    ['C:\\Windows\\x.dll', 'archive-absolute-path'],
    ['c:relative.txt', 'archive-absolute-path'],
  ])('refuses the member name %s (%s)', async (name, code) => {
    await expectRefusal(
      check([
        { name: 'demo-1.0/', type: 'directory' },
        { name, content: 'x' },
      ]),
      refused(code, name),
    );
  });

  it('a hostile name cannot drive the terminal: control characters are escaped in messages', async () => {
    const name = 'demo-1.0/\u001b[2J\u001b]0;pwned\u0007/../../x';
    const refusal = await expectRefusal(check([{ name, content: 'x' }]), refused('archive-path-traversal', name));
    expect(refusal.message).toContain('member `demo-1.0/\\x1b[2J\\x1b]0;pwned\\x07/../../x`');
    // biome-ignore lint/suspicious/noControlCharactersInRegex: no control character may reach the terminal
    expect(refusal.message).not.toMatch(/[\u0000-\u001f]/);
  });

  it('refuses block devices, absolute symlinks and symlinks that climb too far', async () => {
    await expectRefusal(
      check([{ name: 'demo-1.0/sda', type: 'block-device', devmajor: 8, devminor: 0 }]),
      refused('archive-device-file', 'demo-1.0/sda'),
    );
    await expectRefusal(
      check([{ name: 'demo-1.0/etc', type: 'symlink', linkname: '/etc' }]),
      refused('archive-symlink-outside', 'demo-1.0/etc'),
    );
    await expectRefusal(
      check([{ name: 'demo-1.0/up', type: 'symlink', linkname: '../..' }]),
      refused('archive-symlink-outside', 'demo-1.0/up'),
    );
    expect(await check([{ name: 'demo-1.0/root', type: 'symlink', linkname: '..' }])).toMatchObject({ members: 1 });
  });

  it("follows the archive's own symlinks: a link through a link, and a file written through one", async () => {
    // `here -> .` is fine, but `here/up -> ..` lands in the unpack folder's parent.
    await expectRefusal(
      check([
        { name: 'here', type: 'symlink', linkname: '.' },
        { name: 'here/up', type: 'symlink', linkname: '..' },
      ]),
      refused('archive-symlink-outside', 'here/up'),
    );
    // `b -> a/..` is fine while `a` is a folder; `a -> .` later makes it the parent.
    await expectRefusal(
      check([
        { name: 'b', type: 'symlink', linkname: 'a/..' },
        { name: 'a', type: 'symlink', linkname: '.' },
      ]),
      refused('archive-symlink-outside', 'b'),
    );
    await expectRefusal(
      check([
        { name: 'b', type: 'symlink', linkname: 'a/..' },
        { name: 'a', type: 'symlink', linkname: '.' },
        { name: 'b/escaped.txt', content: 'x' },
      ]),
      refused('archive-path-traversal', 'b/escaped.txt'),
    );
    // A link that is replaced by a file is no longer followed; a loop cannot climb out.
    expect(
      await check([
        { name: 'demo-1.0/loop', type: 'symlink', linkname: 'loop/x' },
        { name: 'demo-1.0/data', type: 'symlink', linkname: 'real' },
        { name: 'demo-1.0/data', content: 'now a file' },
      ]),
    ).toMatchObject({ members: 3 });
  });

  it('a hard link must point at a file that came before it, also through a symlink', async () => {
    expect(
      await check([
        { name: 'demo-1.0/real/file.txt', content: 'x' },
        { name: 'demo-1.0/alias', type: 'symlink', linkname: 'real' },
        { name: 'demo-1.0/copy.txt', type: 'link', linkname: 'demo-1.0/alias/file.txt' },
      ]),
    ).toMatchObject({ members: 3 });
    await expectRefusal(
      check([
        { name: 'demo-1.0/copy.txt', type: 'link', linkname: 'demo-1.0/later.txt' },
        { name: 'demo-1.0/later.txt', content: 'x' },
      ]),
      refused('archive-hardlink-dangling', 'demo-1.0/copy.txt'),
    );
    await expectRefusal(
      check([{ name: 'demo-1.0/shadow', type: 'link', linkname: '/etc/shadow' }]),
      refused('archive-hardlink-outside', 'demo-1.0/shadow'),
    );
  });

  it('refuses GNU sparse files, which unpack to more than they hold', async () => {
    await expectRefusal(
      check([
        {
          name: 'demo-1.0/sparse.bin',
          content: 'x',
          pax: { 'GNU.sparse.major': '1', 'GNU.sparse.minor': '0', 'GNU.sparse.realsize': '1099511627776' },
        },
      ]),
      refused('archive-unsupported-entry', 'demo-1.0/sparse.bin'),
    );
  });

  it('long names (pax) and uncompressed tar are read; NUL bytes and over-long names are refused', async () => {
    const deep = `demo-1.0/${'d/'.repeat(150)}file.txt`;
    expect(await check([{ name: deep, content: 'x' }])).toMatchObject({ members: 1 });
    expect(
      await checkSdist({ path: writeTar(join(dir, 'plain-1.0.tar'), [{ name: 'plain-1.0/a.txt', content: 'x' }], { gzip: false }) }),
    ).toMatchObject({ members: 1 });
    const nul = await expectRefusal(
      check([{ name: 'demo-1.0/x', pax: { path: 'demo-1.0/a\u0000b' }, content: 'x' }]),
      refused('archive-bad-member-name', 'demo-1.0/a\u0000b'),
    );
    expect(nul.message).toContain('member `demo-1.0/a\\x00b` has a bad name: it has a NUL byte');
    const long = `demo-1.0/${'x'.repeat(5000)}`;
    await expectRefusal(check([{ name: long, content: 'x' }]), refused('archive-bad-member-name', long));
  });

  it('counts the uncompressed stream, not the members: zero blocks after the last member do not run forever', async () => {
    const started = Date.now();
    const refusal = await expectRefusal(
      check([{ name: 'demo-1.0/a.txt', content: 'x' }], { trailing: 64 * 1024 * 1024 }),
      refused('archive-too-large', 'demo-1.0/a.txt'),
    );
    expect(refusal.message).toMatch(/beyond 256 KiB unpacked/);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('damaged and mislabelled archives are unreadable; unknown formats are a user error', async () => {
    const garbage = join(dir, 'garbage-1.0.tar.gz');
    await writeFile(garbage, 'this is not gzip');
    const unreadable = await expectRefusal(checkSdist({ path: garbage }), { code: 'archive-unreadable', archive: 'garbage-1.0.tar.gz' });
    expect(unreadable.message).toMatch(/is not a readable gzip-compressed tar archive/);
    await copyFile(fixture('good-1.0.zip'), join(dir, 'zip-1.0.tar'));
    const mislabelled = await expectRefusal(checkSdist({ path: join(dir, 'zip-1.0.tar') }), {
      code: 'archive-unreadable',
      archive: 'zip-1.0.tar',
    });
    expect(mislabelled.message).toMatch(/is not a readable tar archive/);
    // An empty archive is harmless (the build then says it has no top-level folder).
    expect(await checkSdist({ path: writeTar(join(dir, 'empty-1.0.tar.gz'), []) })).toMatchObject({ members: 0 });
    const unsupported = await checkSdist({ path: join(dir, 'demo-1.0.tar.bz2') }).catch((error: unknown) => error);
    expect(unsupported).toBeInstanceOf(UserInputError);
    expect(unsupported).toMatchObject({ code: 'archive-format-unsupported' });
  });

  it("a missing file is not the archive's fault", async () => {
    await expect(checkSdist({ path: join(dir, 'missing-1.0.tar.gz') })).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('stops when the run is interrupted', async () => {
    const controller = new AbortController();
    controller.abort(new InterruptedError('SIGINT'));
    await expect(checkSdist({ path: fixture('good-1.0.tar.gz'), signal: controller.signal })).rejects.toBeInstanceOf(InterruptedError);
  });

  it('validates its limits up front', async () => {
    await expect(checkSdist({ path: fixture('good-1.0.tar.gz'), limits: { maxBytes: -1 } })).rejects.toThrow(
      'Expected `limits.maxBytes` to be a whole number >= 1, got `-1` (number)',
    );
    await expect(checkSdist({ path: fixture('good-1.0.tar.gz'), limits: { maxFiles: 3 } as never })).rejects.toThrow(
      /Unknown archive limit `maxFiles`/,
    );
  });
});
