// @flowsafe/store-postgres: the PostgreSQL adapter of @flowsafe/store's interfaces, with
// versioned SQL migrations.
export { openPostgresStore, checkDatabaseUrl } from './pg-store';
export type { PostgresStore, PostgresStoreOptions } from './pg-store';
export type { FinalRunStatement, QueuedRunStatement, RunContext, RunQueries } from './run-queries';
export { migrate, pendingMigrations, loadMigrations, defaultMigrationsDir } from './migrate';
export type { Migration, MigrateOptions } from './migrate';
export { PostgresStoreError } from './errors';
export type { PostgresStoreErrorCode } from './errors';
