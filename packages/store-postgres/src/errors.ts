// The one error class of @flowsafe/store-postgres, with stable codes.
export type PostgresStoreErrorCode =
  'DATABASE_URL_INVALID' | 'DATABASE_UNREACHABLE' | 'MIGRATION_FAILED' | 'MIGRATIONS_PENDING' | 'CONFLICT';

export class PostgresStoreError extends Error {
  override readonly name = 'PostgresStoreError';
  constructor(
    readonly code: PostgresStoreErrorCode,
    message: string,
  ) {
    super(message);
  }
}
