import type { IndexPublisher } from './publisher.ts';
import { LocalDirPublisher } from './local-dir-publisher.ts';
import type { IndexTarget } from './parse-index-target.ts';
import { S3Publisher } from './s3/s3-publisher.ts';
import { UserInputError } from '../errors.ts';

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
      });
    default:
      throw new UserInputError('backend-not-available', `publishing to ${target.kind} is not available yet`, {
        hint: 'publish to a directory or s3:// index for now',
      });
  }
}
