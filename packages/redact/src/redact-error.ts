// The one error class of @flowsafe/redact, with a stable string `code` so callers (the
// server's code -> status table) never have to parse messages.

export type RedactErrorCode = 'VALUE_TOO_SHORT' | 'INVALID_NAME' | 'INVALID_VALUE';

export class RedactError extends Error {
  override readonly name = 'RedactError';
  readonly code: RedactErrorCode;

  constructor(code: RedactErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}
