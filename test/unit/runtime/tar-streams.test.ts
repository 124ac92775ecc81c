import { createHash } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { FileToCopy } from '../../../farm/src/runtime/container-runtime.ts';
import { extractFiles, packFiles } from '../../../farm/src/runtime/tar-streams.ts';

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'wheelfarm-tar-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function sha256(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

async function collect(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks);
}

/** Pseudo-random bytes, so nothing compresses or repeats by accident. */
function bytes(length: number, seed = 1): Buffer {
  const out = Buffer.alloc(length);
  let x = seed;
  for (let i = 0; i < length; i++) {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    out[i] = x >> 16;
  }
  return out;
}

async function allFiles(root: string): Promise<string[]> {
  return (await readdir(root, { recursive: true })).map(String).sort();
}

/** One hand-made ustar header (so entries packFiles never makes, directories and links, can be tested). */
function ustarHeader({
  name,
  type,
  size = 0,
  linkname = '',
}: {
  name: string;
  type: '0' | '2' | '5';
  size?: number;
  linkname?: string;
}): Buffer {
  const header = Buffer.alloc(512);
  const field = (offset: number, length: number, value: string): void => {
    header.write(value, offset, length, 'latin1');
  };
  const octal = (value: number, length: number): string => `${value.toString(8).padStart(length - 1, '0')}\0`;
  field(0, 100, name);
  field(100, 8, octal(type === '5' ? 0o755 : 0o644, 8));
  field(108, 8, octal(0, 8));
  field(116, 8, octal(0, 8));
  field(124, 12, octal(size, 12));
  field(136, 12, octal(0, 12));
  field(148, 8, '        ');
  field(156, 1, type);
  field(157, 100, linkname);
  field(257, 6, 'ustar\0');
  field(263, 2, '00');
  let sum = 0;
  for (const byte of header) sum += byte;
  field(148, 8, `${sum.toString(8).padStart(6, '0')}\0 `);
  return header;
}

function ustarFile(name: string, content: string): Buffer {
  const data = Buffer.from(content);
  const padding = Buffer.alloc((512 - (data.length % 512)) % 512);
  return Buffer.concat([ustarHeader({ name, type: '0', size: data.length }), data, padding]);
}

describe('packFiles -> extractFiles', () => {
  it('round-trips literal content and files streamed from disk', async () => {
    const big = bytes(3 * 1024 * 1024 + 17);
    const bigPath = join(dir, 'big.bin');
    await writeFile(bigPath, big);
    const out = join(dir, 'out');

    const files: FileToCopy[] = [
      { name: 'hello.txt', source: { content: 'hello, world\n' } },
      { name: 'big.bin', source: { path: bigPath } },
      { name: 'utf8.txt', source: { content: 'grüße — ✓\n' } },
      { name: 'empty.txt', source: { content: '' } },
    ];
    const copied = await extractFiles(packFiles(files), out, () => true);

    expect(copied.map((c) => c.name)).toEqual(['hello.txt', 'big.bin', 'utf8.txt', 'empty.txt']);
    const byName = Object.fromEntries(copied.map((c) => [c.name, c]));
    expect(byName['hello.txt']).toEqual({ name: 'hello.txt', path: join(out, 'hello.txt'), sha256: sha256('hello, world\n'), size: 13 });
    expect(byName['big.bin']).toEqual({ name: 'big.bin', path: join(out, 'big.bin'), sha256: sha256(big), size: big.length });
    expect(byName['utf8.txt']!.size).toBe(Buffer.byteLength('grüße — ✓\n'));
    expect(byName['utf8.txt']!.sha256).toBe(sha256(Buffer.from('grüße — ✓\n')));
    expect(byName['empty.txt']).toEqual({ name: 'empty.txt', path: join(out, 'empty.txt'), sha256: sha256(''), size: 0 });

    expect(await readFile(join(out, 'hello.txt'), 'utf8')).toBe('hello, world\n');
    expect((await readFile(join(out, 'big.bin'))).equals(big)).toBe(true);
    expect(await readFile(join(out, 'utf8.txt'), 'utf8')).toBe('grüße — ✓\n');
    expect(await readFile(join(out, 'empty.txt'), 'utf8')).toBe('');
    expect(await allFiles(out)).toEqual(['big.bin', 'empty.txt', 'hello.txt', 'utf8.txt']);
  });

  it('the sha256 and size it reports are those of the bytes written', async () => {
    const out = join(dir, 'out');
    const copied = await extractFiles(packFiles([{ name: 'a.whl', source: { content: 'wheel bytes' } }]), out, () => true);
    const onDisk = await readFile(copied[0]!.path);
    expect(copied[0]!.sha256).toBe(sha256(onDisk));
    expect(copied[0]!.size).toBe(onDisk.length);
  });

  it('extracts only the files accept takes, by base name', async () => {
    const out = join(dir, 'out');
    const seen: string[] = [];
    const copied = await extractFiles(
      packFiles([
        { name: 'dist/demo-1.0-cp313-cp313-linux_x86_64.whl', source: { content: 'w1' } },
        { name: 'dist/demo-1.0.tar.gz', source: { content: 'sdist' } },
        { name: 'dist/build.log', source: { content: 'log' } },
        { name: 'dist/other-2.0-py3-none-any.whl', source: { content: 'w2' } },
      ]),
      out,
      (name) => {
        seen.push(name);
        return name.endsWith('.whl');
      },
    );
    expect(seen).toEqual(['demo-1.0-cp313-cp313-linux_x86_64.whl', 'demo-1.0.tar.gz', 'build.log', 'other-2.0-py3-none-any.whl']);
    expect(copied.map((c) => c.name)).toEqual(['demo-1.0-cp313-cp313-linux_x86_64.whl', 'other-2.0-py3-none-any.whl']);
    expect(await allFiles(out)).toEqual(['demo-1.0-cp313-cp313-linux_x86_64.whl', 'other-2.0-py3-none-any.whl']);
    expect(await readFile(join(out, 'other-2.0-py3-none-any.whl'), 'utf8')).toBe('w2');
  });

  it('writes nested entries flat into the target folder', async () => {
    const out = join(dir, 'out');
    const copied = await extractFiles(packFiles([{ name: 'a/b/c/deep.txt', source: { content: 'deep' } }]), out, () => true);
    expect(copied).toEqual([{ name: 'deep.txt', path: join(out, 'deep.txt'), sha256: sha256('deep'), size: 4 }]);
    expect(await allFiles(out)).toEqual(['deep.txt']);
  });

  it('extracts regular files only: not directories, not symbolic links', async () => {
    const archive = Buffer.concat([
      ustarHeader({ name: 'dist/', type: '5' }),
      ustarHeader({ name: 'dist/link.whl', type: '2', linkname: 'real.whl' }),
      ustarFile('dist/real.whl', 'real wheel'),
      Buffer.alloc(1024),
    ]);
    const out = join(dir, 'out');
    const seen: string[] = [];
    const copied = await extractFiles(Readable.from([archive]), out, (name) => {
      seen.push(name);
      return true;
    });
    expect(copied).toEqual([{ name: 'real.whl', path: join(out, 'real.whl'), sha256: sha256('real wheel'), size: 10 }]);
    expect(seen).toEqual(['real.whl']);
    expect(await allFiles(out)).toEqual(['real.whl']);
  });

  it('accepting nothing extracts nothing, but creates the folder', async () => {
    const out = join(dir, 'out', 'nested');
    const copied = await extractFiles(packFiles([{ name: 'x', source: { content: 'x' } }]), out, () => false);
    expect(copied).toEqual([]);
    expect(await allFiles(out)).toEqual([]);
  });

  it('an empty archive gives no files', async () => {
    const out = join(dir, 'out');
    expect(await extractFiles(packFiles([]), out, () => true)).toEqual([]);
    expect(await allFiles(out)).toEqual([]);
  });

  it('leaves no .part file behind on success', async () => {
    const out = join(dir, 'out');
    await extractFiles(
      packFiles([
        { name: 'one.whl', source: { content: 'a'.repeat(100_000) } },
        { name: 'two.whl', source: { content: 'b' } },
      ]),
      out,
      () => true,
    );
    expect((await allFiles(out)).filter((name) => name.endsWith('.part'))).toEqual([]);
  });

  it('replaces a file of the same name in the target folder', async () => {
    const out = join(dir, 'out');
    await extractFiles(packFiles([{ name: 'w.whl', source: { content: 'old bytes' } }]), out, () => true);
    await extractFiles(packFiles([{ name: 'w.whl', source: { content: 'new' } }]), out, () => true);
    expect(await readFile(join(out, 'w.whl'), 'utf8')).toBe('new');
  });

  it('a stream cut off mid-file fails with its error and leaves neither the file nor a .part', async () => {
    const payload = bytes(200_000, 7);
    const tar = await collect(packFiles([{ name: 'cut.whl', source: { content: payload.toString('base64') } }]));
    let sent = false;
    const truncated = new Readable({
      read() {
        if (sent) return;
        sent = true;
        // The header and part of the file's data, then the connection drops (after the write began).
        this.push(tar.subarray(0, 512 + 50_000));
        setTimeout(() => this.destroy(new Error('connection reset')), 20);
      },
    });
    const out = join(dir, 'out');
    await expect(extractFiles(truncated, out, () => true)).rejects.toThrow('connection reset');
    // The partial file is removed. (Not necessarily by the time extractFiles rejects: see the report.)
    await vi.waitFor(async () => expect(await allFiles(out)).toEqual([]), { timeout: 2000, interval: 20 });
  });

  it('a stream cut off after a complete file keeps that file and leaves no .part', async () => {
    const tar = await collect(
      packFiles([
        { name: 'first.whl', source: { content: 'complete' } },
        { name: 'second.whl', source: { content: bytes(100_000, 3).toString('base64') } },
      ]),
    );
    let sent = false;
    const truncated = new Readable({
      read() {
        if (sent) return;
        sent = true;
        this.push(tar.subarray(0, 1024 + 512 + 10_000));
        setTimeout(() => this.destroy(new Error('connection reset')), 20);
      },
    });
    const out = join(dir, 'out');
    await expect(extractFiles(truncated, out, () => true)).rejects.toThrow('connection reset');
    await vi.waitFor(async () => expect(await allFiles(out)).toEqual(['first.whl']), { timeout: 2000, interval: 20 });
    expect(await readFile(join(out, 'first.whl'), 'utf8')).toBe('complete');
  });

  it('a stream that is not a tar archive fails', async () => {
    await expect(extractFiles(Readable.from([Buffer.alloc(1024, 0x41)]), join(dir, 'out'), () => true)).rejects.toThrow(/tar/i);
  });

  it('a stream that fails before any data fails with its error', async () => {
    const broken = new Readable({
      read() {
        this.destroy(new Error('engine went away'));
      },
    });
    await expect(extractFiles(broken, join(dir, 'out'), () => true)).rejects.toThrow('engine went away');
  });
});

describe('packFiles', () => {
  it('fails the stream when a file to pack does not exist', async () => {
    const sink = new Writable({
      write(_chunk, _encoding, callback) {
        callback();
      },
    });
    await expect(pipeline(packFiles([{ name: 'missing.bin', source: { path: join(dir, 'does-not-exist') } }]), sink)).rejects.toThrow(
      /ENOENT/,
    );
  });

  it('makes a tar stream whose entries carry the given names', async () => {
    const tar = await collect(
      packFiles([
        { name: 'sources/Python-3.13.5.tar.xz', source: { content: 'xz' } },
        { name: 'Dockerfile', source: { content: 'FROM x\n' } },
      ]),
    );
    expect(tar.length % 512).toBe(0);
    expect(tar.subarray(0, 100).toString('latin1').replace(/\0+$/, '')).toBe('sources/Python-3.13.5.tar.xz');
    expect(tar.includes(Buffer.from('Dockerfile\0'))).toBe(true);
    expect(tar.includes(Buffer.from('FROM x\n'))).toBe(true);
  });

  it('sets the mode it is given (default 0644)', async () => {
    const tar = await collect(packFiles([{ name: 'run.sh', source: { content: '#!/bin/sh\n' }, mode: 0o755 }]));
    // ustar header: mode is 8 bytes of octal at offset 100.
    expect(Number.parseInt(tar.subarray(100, 108).toString('latin1'), 8)).toBe(0o755);
    const plain = await collect(packFiles([{ name: 'f', source: { content: '' } }]));
    expect(Number.parseInt(plain.subarray(100, 108).toString('latin1'), 8)).toBe(0o644);
  });
});
