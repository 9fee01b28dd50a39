// `flowsafe start`: the HTTP API and the editor. Embedded mode (no FLOWSAFE_DATABASE_URL)
// executes runs in this process. PostgreSQL mode applies pending migrations first (or, with
// --no-migrate, refuses with one line naming them) and by default runs no flows itself:
// `flowsafe worker` processes do; `--workers N` also executes up to N runs at once here.
import { checkDatabaseUrl } from '@flowsafe/store-postgres';
import { startServer } from '../server';
import { openPostgres, prepareSchema, readConfig, requireSharedKey } from './runtime';

export interface StartOptions {
  migrate: boolean;
  workers?: number;
}

export async function startCommand(opts: StartOptions): Promise<void> {
  const config = readConfig();
  requireSharedKey(config);
  if (config.databaseUrl === undefined) {
    if (opts.workers !== undefined && opts.workers > 0) {
      await startServer(config, { concurrency: opts.workers });
    } else await startServer(config);
    return;
  }
  const workers = opts.workers ?? 0;
  const url = checkDatabaseUrl(config.databaseUrl);
  const store = await openPostgres(config, Math.max(10, workers + 10));
  await prepareSchema(store, opts.migrate ? 'apply' : 'refuse').catch(async (err: unknown) => {
    await store.close().catch(() => undefined);
    throw err;
  });
  await startServer(config, {
    openStore: async () => store,
    postgres: {
      pool: store.pool,
      role: workers > 0 ? 'both' : 'api',
      lostAfterMs: config.workerLostMs,
    },
    ...(workers > 0 ? { concurrency: workers } : {}),
    dataLabel: `PostgreSQL ${url.hostname}:${url.port || 5432}${url.pathname}`,
  });
  if (workers === 0) {
    process.stdout.write(
      'flowsafe: PostgreSQL mode — this process runs no flows; start `flowsafe worker` processes (or pass --workers N)\n',
    );
  }
}
