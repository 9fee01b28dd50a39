// The server's one table from error code to HTTP status (tRPC's getHTTPStatusCode), the error
// class every route throws, and the translation of anything else thrown (zod issues, errors of
// other @flowsafe packages, body-parser errors) into the `{ error: { code, message, details? } }`
// shape. Bad input never becomes a 500; unknown errors become INTERNAL with a redacted message.
import { z } from 'zod';

/** Every error code the HTTP API answers with, and its status. */
export const ERROR_STATUS = {
  VALIDATION_FAILED: 400,
  BAD_JSON: 400,
  ENVIRONMENT_UNKNOWN: 400,
  CONFIRM_REQUIRED: 400,
  VALUE_TOO_SHORT: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  SECRET_RESTRICTED: 403,
  NOT_FOUND: 404,
  WORKSPACE_NOT_FOUND: 404,
  MEMBER_NOT_FOUND: 404,
  PROJECT_NOT_FOUND: 404,
  SECRET_NOT_FOUND: 404,
  SETTING_NOT_FOUND: 404,
  FLOW_NOT_FOUND: 404,
  RUN_NOT_FOUND: 404,
  SECRET_VALUE_MISSING: 404,
  STORE_NOT_FOUND: 404,
  CONFLICT: 409,
  STORE_EXISTS: 409,
  STORE_IN_USE: 409,
  SECRET_EXTERNAL: 409,
  SECRET_EXISTS: 409,
  SETTING_EXISTS: 409,
  ENVIRONMENT_EXISTS: 409,
  MEMBER_EXISTS: 409,
  SECRET_IN_USE: 409,
  VISIBILITY_LOOSEN: 409,
  LAST_OWNER: 409,
  RUN_NOT_CANCELLABLE: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  PUSH_PROTECTION: 422,
  FLOW_INVALID: 400,
  SECRET_REFERENCE_UNKNOWN: 422,
  ALLOWED_HOSTS_REQUIRED: 422,
  BUNDLE_INVALID: 422,
  SERVICE_UNAVAILABLE: 503,
  INTERNAL: 500,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

export interface ErrorBody {
  error: { code: string; message: string; details?: unknown };
}

/** The base class of every error the server throws on purpose. */
export class ServerError extends Error {
  override readonly name = 'ServerError';
  readonly code: ErrorCode;
  readonly details: unknown;

  constructor(code: ErrorCode, message: string, details?: unknown) {
    super(message);
    this.code = code;
    this.details = details;
  }

  get status(): number {
    return ERROR_STATUS[this.code];
  }
}

/** Error codes of other @flowsafe packages that describe bad input, mapped to ours. */
const FOREIGN_CODES: Record<string, ErrorCode> = {
  VALUE_TOO_SHORT: 'VALUE_TOO_SHORT',
  SECRET_VALUE_MISSING: 'SECRET_VALUE_MISSING',
  FLOW_INVALID: 'FLOW_INVALID',
  INVALID_VALUE: 'VALIDATION_FAILED',
  VALIDATION_FAILED: 'VALIDATION_FAILED',
  // @flowsafe/secret-stores (a bad store definition)
  STORE_CONFIG_INVALID: 'VALIDATION_FAILED',
  // @flowsafe/store
  CONFLICT: 'CONFLICT',
  INVALID_INPUT: 'VALIDATION_FAILED',
};

/** body-parser error types → our codes */
const BODY_PARSER_TYPES: Record<string, ErrorCode> = {
  'entity.parse.failed': 'BAD_JSON',
  'entity.too.large': 'PAYLOAD_TOO_LARGE',
  'charset.unsupported': 'UNSUPPORTED_MEDIA_TYPE',
  'encoding.unsupported': 'UNSUPPORTED_MEDIA_TYPE',
  'request.aborted': 'VALIDATION_FAILED',
  'request.size.invalid': 'VALIDATION_FAILED',
  'stream.encoding.set': 'INTERNAL',
  'parameters.too.many': 'PAYLOAD_TOO_LARGE',
};

/** zod issues as `{ path, message, code }`, the `details` of a VALIDATION_FAILED answer. */
export function zodDetails(
  error: z.ZodError,
): Array<{ path: (string | number)[]; message: string; code: string }> {
  return error.issues.map((issue) => ({
    path: issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p)),
    message: issue.message,
    code: issue.code,
  }));
}

/** Turn anything thrown into a status and an error body (not yet redacted). */
export function toErrorResponse(err: unknown): { status: number; body: ErrorBody } {
  if (err instanceof ServerError) {
    const body: ErrorBody = { error: { code: err.code, message: err.message } };
    if (err.details !== undefined) body.error.details = err.details;
    return { status: err.status, body };
  }
  if (err instanceof z.ZodError) {
    return {
      status: 400,
      body: { error: { code: 'VALIDATION_FAILED', message: summarise(err), details: zodDetails(err) } },
    };
  }
  if (isObject(err)) {
    const type = typeof err.type === 'string' ? err.type : undefined;
    if (type !== undefined && type in BODY_PARSER_TYPES) {
      const code = BODY_PARSER_TYPES[type] as ErrorCode;
      return { status: ERROR_STATUS[code], body: { error: { code, message: bodyParserMessage(code) } } };
    }
    const code = typeof err.code === 'string' ? FOREIGN_CODES[err.code] : undefined;
    if (code !== undefined && typeof err.message === 'string') {
      const body: ErrorBody = { error: { code, message: err.message } };
      if (err.details !== undefined) body.error.details = err.details;
      return { status: ERROR_STATUS[code], body };
    }
  }
  return { status: 500, body: { error: { code: 'INTERNAL', message: internalMessage(err) } } };
}

function summarise(error: z.ZodError): string {
  const first = error.issues[0];
  if (first === undefined) return 'invalid request';
  const where = first.path.length > 0 ? first.path.map(String).join('.') : 'body';
  const more = error.issues.length > 1 ? ` (and ${error.issues.length - 1} more)` : '';
  return `${where}: ${first.message}${more}`;
}

function bodyParserMessage(code: ErrorCode): string {
  switch (code) {
    case 'BAD_JSON':
      return 'the request body is not valid JSON (send a JSON object with Content-Type: application/json)';
    case 'PAYLOAD_TOO_LARGE':
      return 'the request body is larger than 1 MiB';
    case 'UNSUPPORTED_MEDIA_TYPE':
      return 'unsupported body encoding or charset; send UTF-8 JSON';
    default:
      return 'the request body could not be read';
  }
}

function internalMessage(err: unknown): string {
  // The message is redacted by the caller before it is sent; keep it short.
  if (err instanceof Error && err.message) return `internal error: ${err.message.slice(0, 300)}`;
  return 'internal error';
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null;
}

/** Parse input with a zod schema; a failure becomes a 400 VALIDATION_FAILED. */
export function parse<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const result = schema.safeParse(input);
  if (!result.success) throw result.error;
  return result.data;
}
