// The one error class of @flowsafe/secret-stores. Callers (the server's code -> status table,
// the API block's step error) switch on `code`. Messages name the secret, the store and the
// ref, never a value and never a store credential.

export type SecretStoreErrorCode =
  | 'STORE_CONFIG_INVALID'
  | 'STORE_NOT_FOUND'
  | 'STORE_UNREACHABLE'
  | 'STORE_AUTH_FAILED'
  | 'STORE_REQUEST_FAILED'
  | 'REF_INVALID'
  | 'REF_NOT_FOUND'
  | 'VALUE_SHAPE_INVALID';

export interface SecretStoreErrorContext {
  store?: string;
  ref?: string;
  secretName?: string;
}

export class SecretStoreError extends Error {
  override readonly name = 'SecretStoreError';
  readonly code: SecretStoreErrorCode;
  readonly store: string | undefined;
  readonly ref: string | undefined;
  readonly secretName: string | undefined;

  constructor(code: SecretStoreErrorCode, message: string, context: SecretStoreErrorContext = {}) {
    super(message);
    this.code = code;
    this.store = context.store;
    this.ref = context.ref;
    this.secretName = context.secretName;
  }
}
