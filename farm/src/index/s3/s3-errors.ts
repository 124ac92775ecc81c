import { EnvironmentError, IntegrityError, TransientError, WheelfarmError } from '../../errors.ts';
import { parseRetryAfter } from '../../upstream/with-retry.ts';

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
  $response?: { headers?: Record<string, string | undefined> };
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
]);
const NETWORK = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ECONNABORTED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_SOCKET',
]);
const ACCESS = new Set([
  'AccessDenied',
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'ExpiredToken',
  'InvalidToken',
  'CredentialsProviderError',
  'AllAccessDisabled',
]);

const STILL_SERVED =
  ' The index still serves what it served before: its pages only link files stored whole. Publish again once the storage answers; what this publish stored is adopted then.';

/** The three ways a try can fail that are worth another: what each means and what to check. */
const TRANSIENT_HINTS = {
  's3-unavailable': `The storage answered with a server error (5xx or throttling).${STILL_SERVED}`,
  's3-timeout': `The storage took the connection but then nothing moved for the whole timeout. Check the endpoint's health; on a slow link give the index URL a longer \`timeout=\` (e.g. \`?timeout=120s\`).${STILL_SERVED}`,
  's3-connection-failed': `No connection to the storage, or it broke in the middle. Check that the endpoint is up and reachable (address, proxy, firewall).${STILL_SERVED}`,
} as const;

/** Translates an SDK (or network) error from `what` (e.g. `PUT s3://bucket/key on http://host:9000`) into our hierarchy. */
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
  const detail = describeSdkError(e, name, code, status, error);
  const transient = transientKind(e, name, code, status);
  if (transient) {
    return new TransientError(transient, `${what} failed: ${detail}`, {
      hint: TRANSIENT_HINTS[transient],
      cause: error,
      retryAfterMs: parseRetryAfter(e.$response?.headers?.['retry-after']),
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

function transientKind(e: SdkError, name: string, code: string, status: number | undefined): keyof typeof TRANSIENT_HINTS | undefined {
  // The SDK's own timeouts (connection, socket inactivity) are named TimeoutError.
  if (name === 'TimeoutError' || code === 'ETIMEDOUT') return 's3-timeout';
  if (NETWORK.has(code) || NETWORK.has(name)) return 's3-connection-failed';
  if ((status !== undefined && (status >= 500 || status === 429)) || THROTTLING.has(name) || e.$retryable) return 's3-unavailable';
  return undefined;
}

/** `InternalError (HTTP 500): We encountered...`, `ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:9000`. */
function describeSdkError(e: SdkError, name: string, code: string, status: number | undefined, error: unknown): string {
  const label = name && name !== 'Error' ? name : code || 'error';
  const message = (e.message ?? String(error))
    .replace(/^@smithy\/node-http-handler - /, '')
    .replace(/ \(configured by client requestHandler\)/, '');
  return `${label}${status ? ` (HTTP ${status})` : ''}: ${message}`;
}
