// Maps what undici (or the egress guard) throws to an ApiBlockError with a stable code. The
// original error is not kept as `cause`: undici errors carry URLs and sometimes headers, and a
// logger would print them. The message is scrubbed again by the plugin before it leaves.
import { ApiBlockError } from './errors';

const TIMEOUT = new Set([
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'ETIMEDOUT',
]);
const UNREACHABLE = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
]);

/** `what` says which request failed ("request to api.example.com", "OAuth2 token request"). */
export function upstreamError(err: unknown, what: string, timedOut: boolean): ApiBlockError {
  if (err instanceof ApiBlockError) return err;
  const e = (err ?? {}) as {
    code?: unknown;
    message?: unknown;
    cause?: { code?: unknown; message?: unknown };
  };
  const code = typeof e.code === 'string' ? e.code : typeof e.cause?.code === 'string' ? e.cause.code : '';
  const message = typeof e.message === 'string' ? e.message : String(err);
  if (timedOut || TIMEOUT.has(code)) return new ApiBlockError('UPSTREAM_TIMEOUT', `${what} timed out`);
  if (code.startsWith('EGRESS_')) return new ApiBlockError(code, message);
  if (UNREACHABLE.has(code))
    return new ApiBlockError('UPSTREAM_UNREACHABLE', `${what} failed: ${code} ${message}`);
  if (code.startsWith('ERR_TLS') || code.startsWith('CERT_') || /certificate|SSL|TLS/i.test(message)) {
    return new ApiBlockError('UPSTREAM_TLS_ERROR', `${what} failed: TLS ${code} ${message}`.trim());
  }
  return new ApiBlockError('UPSTREAM_ERROR', `${what} failed: ${code ? `${code} ` : ''}${message}`);
}
