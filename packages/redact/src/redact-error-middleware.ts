// The last error handler of the HTTP API: it answers `{ error: { code, message, details? } }`
// and guarantees that no known value reaches an error body. Our own errors (a string `code`
// and a 4xx/5xx status, or `expose: true`) keep their message, redacted; anything else is an
// internal error with a generic message. Stacks are never sent; they go to the (redacting)
// logger.

import type { Logger } from 'pino';
import type { NextLike, RequestLike, ResponseLike } from './http-types';
import type { Redactor } from './redactor';

export interface ErrorBody {
  error: { code: string; message: string; details?: unknown };
}

const GENERIC_MESSAGE = 'Internal error';

/** The status an error asks for: err.status ?? err.statusCode ?? 500 (400-599 only). */
export function errorStatus(err: unknown): number {
  const e = err as { status?: unknown; statusCode?: unknown } | null | undefined;
  const s = e?.status ?? e?.statusCode;
  return typeof s === 'number' && Number.isInteger(s) && s >= 400 && s <= 599 ? s : 500;
}

/** The redacted JSON body for an error. */
export function errorBody(err: unknown, redactor: Redactor | undefined): { status: number; body: ErrorBody } {
  const status = errorStatus(err);
  const e = (typeof err === 'object' && err !== null ? err : {}) as {
    code?: unknown;
    message?: unknown;
    details?: unknown;
    expose?: unknown;
    type?: unknown;
  };
  const known =
    typeof e.message === 'string' &&
    (e.expose === true || (typeof e.code === 'string' && /^[A-Z][A-Z0-9_]*$/.test(e.code) && status !== 500));
  const redact = (s: string): string => (redactor === undefined ? s : redactor.redact(s));
  if (!known) {
    return { status, body: { error: { code: 'INTERNAL', message: redact(GENERIC_MESSAGE) } } };
  }
  const code = typeof e.code === 'string' ? e.code : typeof e.type === 'string' ? e.type : 'ERROR';
  const error: ErrorBody['error'] = { code: redact(code), message: redact(e.message as string) };
  if (e.details !== undefined)
    error.details = redactor === undefined ? e.details : redactor.redactJson(e.details);
  return { status, body: { error } };
}

/**
 * Express-style error handler (four arguments). Answers with the error's status and a redacted
 * `{ error: { code, message, details? } }` body; logs 5xx errors (message and stack redacted).
 */
export function redactErrorMiddleware(
  getRedactor: (req: RequestLike) => Redactor | undefined,
  logger?: Logger,
): (err: unknown, req: RequestLike, res: ResponseLike, next: NextLike) => void {
  return (err, req, res, next) => {
    if (res.headersSent === true) {
      next(err);
      return;
    }
    let redactor: Redactor | undefined;
    try {
      redactor = getRedactor(req);
    } catch {
      redactor = undefined;
    }
    const { status, body } = errorBody(err, redactor);
    if (logger !== undefined && status >= 500) {
      const e = err instanceof Error ? err : new Error(String(err));
      const red = (s: string | undefined): string | undefined =>
        s === undefined || redactor === undefined ? s : redactor.redact(s);
      logger.error(
        { err: { type: e.name, message: red(e.message), stack: red(e.stack) }, status },
        'request failed',
      );
    }
    sendJson(res, status, body);
  };
}

function sendJson(res: ResponseLike, status: number, body: unknown): void {
  if (typeof res.status === 'function' && typeof res.json === 'function') {
    res.status(status);
    res.json(body);
    return;
  }
  res.statusCode = status;
  res.setHeader?.('content-type', 'application/json; charset=utf-8');
  res.end?.(JSON.stringify(body));
}
