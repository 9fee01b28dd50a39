// The one error class of @flowsafe/store. Codes are shared with the PostgreSQL adapter
// where they mean the same thing (CONFLICT).

export type StoreErrorCode =
  'STORE_FILE_INVALID' | 'CONFLICT' | 'INVALID_INPUT' | 'NOT_FOUND' | 'STORE_CLOSED';

export class StoreError extends Error {
  override readonly name = 'StoreError';
  readonly code: StoreErrorCode;

  constructor(code: StoreErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** Where the store reports recoverable trouble (a torn last line). pino loggers fit. */
export interface StoreLogger {
  warn(obj: Record<string, unknown>, msg: string): void;
}
