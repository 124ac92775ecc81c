import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { IntegrityError, PublishConflictError, UserInputError } from '../../../farm/src/errors.ts';
import type { IndexPublisher } from '../../../farm/src/index/publisher.ts';
import { pipEnv, rejection, run, sha256, wheel } from './index-servers.ts';

export interface ContractContext {
  work: () => string;
  /** A fresh publisher for the server under test. */
  publisher: () => IndexPublisher & { indexUrl: string };
  /** Downloads a file by URL path of the server, as pip would (to check what it serves). */
  download: (filename: string, project: string, into: string) => Promise<string>;
}

/** What every uploading publisher must do against its real server. */
export function publisherContract(context: ContractContext): void {
  it('publishes two wheels, lists them, and pip downloads the right one', async () => {
    const publisher = context.publisher();
    const current = wheel(context.work(), { name: 'Tiny-Pkg', version: '1.0', requiresPython: '>=3' });
    const other = wheel(context.work(), { name: 'Tiny-Pkg', version: '1.1', requiresPython: '>=3.8' });

    expect(await publisher.publish(current)).toBe('published');
    expect(await publisher.publish(other)).toBe('published');

    const files = await publisher.listFiles('tiny_pkg');
    expect(files.map((file) => file.filename).sort()).toEqual([current.filename, other.filename].sort());
    const listed = files.find((file) => file.filename === current.filename);
    expect(listed?.sha256).toBe(current.sha256);
    expect(listed?.size).toBeGreaterThan(0);
    expect(await publisher.listFiles('nothing-here')).toEqual([]);

    const downloads = join(context.work(), 'downloads');
    await run(
      'python3',
      ['-m', 'pip', 'download', '--no-deps', '--only-binary', ':all:', '--index-url', publisher.indexUrl, '-d', downloads, 'tiny-pkg==1.0'],
      { env: pipEnv() },
    );
    expect(readdirSync(downloads)).toEqual([current.filename]);
    expect(sha256(join(downloads, current.filename))).toBe(current.sha256);
  }, 60_000);

  it('treats the same bytes again as unchanged, also from another publisher', async () => {
    const tiny = wheel(context.work(), { name: 'same-again', version: '1.0' });
    expect(await context.publisher().publish(tiny)).toBe('published');
    expect(await context.publisher().publish({ ...tiny })).toBe('unchanged');
    expect(await context.publisher().publish({ ...tiny, sha256: tiny.sha256.toUpperCase() })).toBe('unchanged');
    expect((await context.publisher().listFiles('same-again')).map((file) => file.filename)).toEqual([tiny.filename]);
  });

  it('refuses other bytes under a published filename, and the server keeps the original', async () => {
    const publisher = context.publisher();
    const original = wheel(context.work(), { name: 'conflicted', version: '1.0', marker: 'first build' });
    const rebuild = wheel(context.work(), { name: 'conflicted', version: '1.0', marker: 'second build' });
    expect(rebuild.filename).toBe(original.filename);
    await publisher.publish(original);

    const error = await rejection(publisher.publish(rebuild));

    expect(error).toBeInstanceOf(PublishConflictError);
    expect((error as PublishConflictError).message).toContain(original.sha256);
    expect((error as PublishConflictError).message).toContain(rebuild.sha256);
    expect((error as PublishConflictError).hint).toContain('build tag');
    expect((await publisher.listFiles('conflicted')).map((file) => file.sha256)).toEqual([original.sha256]);
    const served = await context.download(original.filename, 'conflicted', join(context.work(), 'served'));
    expect(sha256(served)).toBe(original.sha256);
  }, 60_000);

  it('refuses bytes that do not match their sha256 before uploading anything', async () => {
    const publisher = context.publisher();
    const tiny = wheel(context.work(), { name: 'mismatch', version: '1.0' });
    await expect(publisher.publish({ ...tiny, sha256: 'f'.repeat(64) })).rejects.toThrow(IntegrityError);
    await expect(publisher.publish({ ...tiny, project: 'other' })).rejects.toThrow(UserInputError);
    expect(await publisher.listFiles('mismatch')).toEqual([]);
  });
}
