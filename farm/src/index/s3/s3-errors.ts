import { EnvironmentError, IntegrityError, TransientError, WheelfarmError } from '../../errors.ts';

/**
 * The S3 boundary: every SDK error is turned into one of these or a WheelfarmError here, so nothing
 * vendor-specific leaves the s3 folder. The first three are expected outcomes the publisher handles
 * itself and never lets escape.
 */

/** 412: an `If-Match` / `If-None-Match` condition did not hold. */
export class PreconditionFailed extends Error {}

/** 409 ConditionalRequestConflict: another conditional write to the key is in flight (real S3); try again. */
export class WriteContention extends Error {}

/** 404 NoSuchKey / NotFound. */
export class ObjectMissing extends Error {}

interface SdkError {
  name?: string;
  code?: string;
  Code?: string;
  message?: string;
  $retryable?: unknown;
  $metadata?: { httpStatusCode?: number };
}

const THROTTLING = new Set([
  'SlowDown',
  'Throttling',
  'ThrottlingException',
  'TooManyRequestsException',
  'RequestTimeout',
  'RequestTimeoutException',
  'ServiceUnavailable',
  'InternalError',
  'TimeoutError',
]);
const NETWORK = new Set(['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNABORTED', 'UND_ERR_SOCKET']);
const ACCESS = new Set(['AccessDenied', 'InvalidAccessKeyId', 'SignatureDoesNotMatch', 'ExpiredToken', 'InvalidToken', 'CredentialsProviderError', 'AllAccessDisabled']);

/** Translates an SDK (or network) error from `what` (e.g. `PUT s3://bucket/key`) into our hierarchy. */
export function convertS3Error(error: unknown, what: string): Error {
  if (error instanceof WheelfarmError) return error;
  const e = (error ?? {}) as SdkError;
  const name = e.name ?? e.Code ?? '';
  const status = e.$metadata?.httpStatusCode;
  const code = e.code ?? (error as { cause?: { code?: string } } | undefined)?.cause?.code ?? '';
  if (status === 412 || name === 'PreconditionFailed') return new PreconditionFailed(what);
  if (status === 409 && name === 'ConditionalRequestConflict') return new WriteContention(what);
  if (name === 'NoSuchKey' || name === 'NotFound' || (status === 404 && name !== 'NoSuchBucket')) return new ObjectMissing(what);
  if (name === 'BadDigest' || name === 'XAmzContentSHA256Mismatch' || name === 'InvalidDigest') {
    return new IntegrityError('sha256-mismatch', `${what}: the storage rejected the upload's checksum (${name})`, {
      hint: 'The file changed while it was uploaded; rebuild or re-hash it before publishing.',
      cause: error,
    });
  }
  const detail = `${name || 'error'}${status ? ` (HTTP ${status})` : ''}: ${e.message ?? String(error)}`;
  if ((status !== undefined && (status >= 500 || status === 429)) || THROTTLING.has(name) || NETWORK.has(code) || NETWORK.has(name) || e.$retryable) {
    return new TransientError('s3-unavailable', `${what} failed: ${detail}`, {
      hint: 'The storage is busy or unreachable; this usually passes, try again.',
      cause: error,
    });
  }
  if (name === 'NoSuchBucket') {
    return new EnvironmentError('s3-no-such-bucket', `${what} failed: the bucket does not exist`, {
      hint: 'Create the bucket first, or check the bucket name and the endpoint.',
      cause: error,
    });
  }
  if (ACCESS.has(name) || status === 403 || /credential|region is missing/i.test(e.message ?? '')) {
    return new EnvironmentError('s3-access', `${what} failed: ${detail}`, {
      hint: 'Check the AWS credentials and region (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or AWS_PROFILE, AWS_REGION) and the bucket policy.',
      cause: error,
    });
  }
  return new WheelfarmError('s3-error', `${what} failed: ${detail}`, { cause: error });
}
