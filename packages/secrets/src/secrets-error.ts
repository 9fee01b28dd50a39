// The one error class of @flowsafe/secrets. Callers switch on `code` (stable strings);
// messages name secrets, environments and files but never contain a value or a key.

export type SecretsErrorCode =
  | 'SEAL_AUTH_FAILED'
  | 'SEAL_CONTEXT_INVALID'
  | 'SEALED_VALUE_INVALID'
  | 'MASTER_KEY_INVALID'
  | 'MASTER_KEY_MISMATCH'
  | 'KEY_NOT_IN_RING'
  | 'SECRET_VALUE_INVALID'
  | 'SECRET_VALUE_MISSING';

export class SecretsError extends Error {
  override readonly name = 'SecretsError';
  readonly code: SecretsErrorCode;

  constructor(code: SecretsErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}
