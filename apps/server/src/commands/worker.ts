// `flowsafe worker --concurrency N` (PostgreSQL mode only): takes runs from the PostgreSQL
// queue and executes them with the same executor as the embedded server (flow, settings and
// a fresh snapshot of the project's secrets from the database, the project's redactor, the
// builtin, api and function blocks, the egress guard of FLOWSAFE_EGRESS_ALLOW). SIGTERM or
// SIGINT drains: nothing new is taken, in-flight runs get the grace period
// (FLOWSAFE_SHUTDOWN_GRACE_MS or --grace-ms) and are cancelled after it.
import { Redactor } from '@flowsafe/redact';
import { createServerLogger, flushLogger } from '../logger';
import { createServices } from '../services';
import { CliError, openRuntime, readConfig, untilSignal } from './runtime';

export interface WorkerOptions {
  concurrency: number;
  migrate: boolean;
  graceMs?: number;
}

export async function workerCommand(opts: WorkerOptions): Promise<void> {
  const config = readConfig();
  if (config.databaseUrl === undefined) {
    throw new CliError(
      'flowsafe: `flowsafe worker` needs FLOWSAFE_DATABASE_URL (PostgreSQL mode); in the embedded mode `flowsafe start` runs the flows',
      2,
    );
  }
  const runtime = await openRuntime(config, {
    migrate: opts.migrate ? 'apply' : 'refuse',
    owner: false,
    poolSize: opts.concurrency + 10,
  });
  const store = runtime.postgres!;
  const global = new Redactor();
  const logger = createServerLogger(global, { level: config.logLevel });
  let services;
  try {
    services = await createServices({
      store,
      keyRing: runtime.keyRing,
      logger,
      global,
      egressAllow: config.egressAllow,
      concurrency: opts.concurrency,
      postgres: { pool: store.pool, role: 'worker', lostAfterMs: config.workerLostMs },
    });
  } catch (err) {
    await store.close().catch(() => undefined);
    throw err;
  }
  process.stdout.write(
    `flowsafe: worker ${process.pid} taking runs from ${runtime.label} (concurrency ${opts.concurrency})\n`,
  );
  const signal = await untilSignal();
  const graceMs = opts.graceMs ?? config.shutdownGraceMs;
  logger.info({ signal, graceMs }, 'worker draining');
  await services.close(graceMs);
  await store.close().catch(() => undefined);
  await flushLogger(logger);
  process.stdout.write(`flowsafe: worker ${process.pid} stopped\n`);
}
