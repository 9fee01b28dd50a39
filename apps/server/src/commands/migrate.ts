// `flowsafe migrate`: applies pending PostgreSQL migrations in order (each in a transaction),
// one progress line per migration on a terminal, quiet when piped; the embedded store needs none.
import { loadMigrations } from '@flowsafe/store-postgres';
import { openPostgres, prepareSchema, progress, readConfig } from './runtime';

export async function migrateCommand(): Promise<void> {
  const config = readConfig();
  if (config.databaseUrl === undefined) {
    process.stderr.write(
      'flowsafe: the embedded store needs no migrations (FLOWSAFE_DATABASE_URL is not set)\n',
    );
    return;
  }
  const store = await openPostgres(config, 2);
  try {
    const bar = progress();
    const applied = await prepareSchema(store, 'apply', (e) =>
      bar.update(`applying migration ${e.index + 1}/${e.total}: ${e.id}`),
    );
    bar.done();
    const total = (await loadMigrations()).length;
    process.stdout.write(
      applied.length === 0
        ? `flowsafe: the database is up to date (${total} migrations)\n`
        : `flowsafe: applied ${applied.length} migration${applied.length === 1 ? '' : 's'}: ${applied.join(', ')}\n`,
    );
  } finally {
    await store.close().catch(() => undefined);
  }
}
