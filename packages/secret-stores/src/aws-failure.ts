// Turns whatever the AWS SDK throws into one of our codes and a short detail: the service's
// error name and status, or the network code. Never the SDK's request, headers or config.
import { networkDetail } from './network-detail';
import type { SecretStoreErrorCode } from './secret-store-error';

export interface AwsFailure {
  code: SecretStoreErrorCode;
  detail: string;
  /** AWS verified the signature and refused the action (the keys themselves are fine). */
  accessDenied: boolean;
}

const AUTH_ERRORS = new Set([
  'AccessDeniedException',
  'UnrecognizedClientException',
  'InvalidSignatureException',
  'SignatureDoesNotMatch',
  'IncompleteSignature',
  'InvalidClientTokenId',
  'ExpiredTokenException',
  'ExpiredToken',
  'MissingAuthenticationToken',
  'DecryptionFailure',
]);

export function awsFailure(err: unknown): AwsFailure {
  const e = (err ?? {}) as { name?: unknown; message?: unknown; $metadata?: { httpStatusCode?: unknown } };
  const name = typeof e.name === 'string' ? e.name : 'Error';
  const status = e.$metadata?.httpStatusCode;
  const message = typeof e.message === 'string' ? e.message : '';
  if (name === 'CredentialsProviderError')
    return {
      code: 'STORE_AUTH_FAILED',
      detail: 'no AWS credentials found in the default credential chain',
      accessDenied: false,
    };
  if (typeof status === 'number') {
    const detail = `${status} ${name}${message && message !== name ? `: ${message}` : ''}`;
    if (name === 'ResourceNotFoundException') return { code: 'REF_NOT_FOUND', detail, accessDenied: false };
    if (AUTH_ERRORS.has(name) || status === 401 || status === 403)
      return { code: 'STORE_AUTH_FAILED', detail, accessDenied: name === 'AccessDeniedException' };
    if (status >= 502 && status <= 504) return { code: 'STORE_UNREACHABLE', detail, accessDenied: false };
    return { code: 'STORE_REQUEST_FAILED', detail, accessDenied: false };
  }
  return { code: 'STORE_UNREACHABLE', detail: networkDetail(err), accessDenied: false };
}
