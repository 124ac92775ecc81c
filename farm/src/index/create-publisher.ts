import type { IndexPublisher } from './publisher.ts';
import { LocalDirPublisher } from './local-dir-publisher.ts';
import type { IndexTarget } from './parse-index-target.ts';
import { S3Publisher } from './s3/s3-publisher.ts';
import { DevpiPublisher } from './upload/devpi-publisher.ts';
import { PypiserverPublisher } from './upload/pypiserver-publisher.ts';

/**
 * The registry of index backends: one adapter per kind of target. Publishing always runs on the
 * host, so credentials never enter a build container.
 */
export function createPublisher(target: IndexTarget): IndexPublisher {
  switch (target.kind) {
    case 'dir':
      return new LocalDirPublisher({ root: target.path });
    case 's3':
      return new S3Publisher({
        bucket: target.bucket,
        prefix: target.prefix,
        ...(target.endpoint ? { endpoint: target.endpoint } : {}),
        ...(target.region ? { region: target.region } : {}),
        retry: target.retry,
      });
    case 'devpi':
      return new DevpiPublisher({
        url: target.url,
        user: target.user,
        password: target.password,
        index: target.index,
        create: target.create,
        retry: target.retry,
      });
    case 'pypiserver':
      return new PypiserverPublisher({
        url: target.url,
        ...(target.user ? { user: target.user } : {}),
        ...(target.password ? { password: target.password } : {}),
        retry: target.retry,
      });
  }
}
