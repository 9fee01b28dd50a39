// Wires the packages into the AppContext the routes use: the project secrets service, the
// runner with the builtin, api and function block plugins (the api block dispatching through
// the egress guard), and the in-process run queue. server.ts and the tests share it.
import type { Logger } from 'pino';
import { createApiBlockPlugin, createEgressGuard, parseEgressAllow } from '@flowsafe/api-block';
import type pg from 'pg';
import { createInProcessQueue, createPostgresQueue, type PostgresQueue } from '@flowsafe/queue';
import { Redactor } from '@flowsafe/redact';
import { builtinPlugins, createRunner, type RunRecord } from '@flowsafe/runner';
import { createFunctionBlockPlugin } from '@flowsafe/sandbox';
import type { KeyRing } from '@flowsafe/secrets';
import type { Store, StoredRun } from '@flowsafe/store';
import type { PostgresStore } from '@flowsafe/store-postgres';
import type { AppContext } from './context';
import {
  AuditBuffer,
  durableSink,
  queueHooks,
  RunScopedSecrets,
  secretsFingerprint,
  withBufferedAudit,
} from './postgres-mode';
import { ProjectSecrets } from './project-secrets';
import { RunRecords } from './run-records';
import {
  createRunExecutor,
  createRunService,
  recordsSink,
  toStored,
  type RunJob,
  type RunQueueLike,
} from './runs';

export interface ServicesOptions {
  store: Store;
  keyRing: KeyRing;
  logger: Logger;
  /** the global redactor (the logger's); a new one when absent */
  global?: Redactor;
  /** FLOWSAFE_EGRESS_ALLOW */
  egressAllow?: string;
  /** runs executing at once (default 8) */
  concurrency?: number;
  /** PostgreSQL mode: runs go through the PostgreSQL queue on this pool (the store's) */
  postgres?: {
    pool: pg.Pool;
    /** api: enqueue and wait only; worker: execute only; both */
    role: 'api' | 'worker' | 'both';
    /** a run whose worker stopped heartbeating this long is lost (default 60000) */
    lostAfterMs?: number;
  };
}

export interface Services {
  ctx: AppContext;
  /** 'degraded' while the database (PostgreSQL mode) cannot be reached */
  health(): Promise<'ok' | 'degraded'>;
  /** stop taking runs, finish in-flight ones within graceMs, release isolates */
  close(graceMs?: number): Promise<void>;
}

export async function createServices(opts: ServicesOptions): Promise<Services> {
  const { store, keyRing, logger } = opts;
  const secretsOptions = { store, keyRing, global: opts.global ?? new Redactor() };
  const secrets = new ProjectSecrets(secretsOptions);
  const pgStore = store as Partial<PostgresStore>;
  const finalStatement = opts.postgres ? pgStore.finalRunStatement?.bind(pgStore) : undefined;
  const appendAudit = pgStore.appendAudit?.bind(pgStore);
  // PostgreSQL workers: `secret.use` rows are group-committed, most of them with the final record
  const auditBuffer =
    finalStatement && appendAudit
      ? new AuditBuffer(appendAudit, (err) => logger.error({ err }, 'audit of secret uses failed'))
      : undefined;
  // another process may change secrets: each run of PostgreSQL mode reads its own snapshot
  const runSecrets = opts.postgres
    ? new RunScopedSecrets(
        auditBuffer ? { ...secretsOptions, store: withBufferedAudit(store, auditBuffer) } : secretsOptions,
        secrets,
        secretsFingerprint(opts.postgres.pool),
      )
    : undefined;
  const guard = createEgressGuard({ allow: parseEgressAllow(opts.egressAllow ?? '') });
  const api = createApiBlockPlugin({
    secrets: runSecrets ?? secrets,
    dispatcher: guard.agent({ keepAliveTimeout: 10_000, keepAliveMaxTimeout: 60_000 }),
    tlsDispatcher: (tls) => guard.agent({ connect: tls }),
    audit: (event) => {
      // PostgreSQL mode: the run's own snapshot of the secrets knows the secret (no lookup)
      (runSecrets ?? secrets)
        .auditUse(event)
        .catch((err: unknown) => logger.error({ err, secret: event.secret }, 'audit of a secret use failed'));
    },
  });
  const fn = createFunctionBlockPlugin();
  const records = new RunRecords(
    store,
    (err, record) => logger.error({ err, runId: record.id }, 'could not save the run record'),
    250,
    // in PostgreSQL mode a run this process does not hold may be running elsewhere
    !opts.postgres,
  );
  // PostgreSQL mode: the queue is told a run finished only once its final record is stored
  const durable = opts.postgres
    ? durableSink(records, store, undefined, finalStatement !== undefined)
    : undefined;
  const runner = createRunner({
    plugins: [...builtinPlugins(), api, fn],
    sink: durable?.sink ?? recordsSink(records),
    logger,
  });
  const inputs = new Map<string, Record<string, unknown>>();
  if (opts.postgres) {
    const { pool, role } = opts.postgres;
    const hooks = queueHooks({ store, pool, records });
    // one read for the run's record, flow, settings and secrets fingerprint when the store can
    const context = pgStore.runContext?.bind(pgStore);
    const execute = createRunExecutor(
      {
        store,
        records,
        secrets: runSecrets!,
        runner,
        ...(context
          ? {
              context: async (job: RunJob, preloaded?: unknown) =>
                preloaded && pgStore.parseRunContext
                  ? pgStore.parseRunContext(preloaded as Record<string, unknown>)
                  : context(job.projectId, job.runId, job.flowId),
            }
          : {}),
      },
      inputs,
    );
    const pgQueue: PostgresQueue = createPostgresQueue({
      pool,
      role,
      ...(role === 'api'
        ? {}
        : {
            execute: async (job, signal, preloaded) => {
              try {
                const record = await execute(job, signal, preloaded);
                await durable!.settle(record);
                return record;
              } finally {
                runSecrets!.release(job.runId);
              }
            },
          }),
      // the run's context read with its lease, in one statement
      ...(pgStore.runContextStatement
        ? {
            leaseStatement: (job: RunJob) =>
              pgStore.runContextStatement!(job.projectId, job.runId, job.flowId),
          }
        : {}),
      // the final record, the lease release and the "finished" notification in one statement
      ...(finalStatement
        ? {
            finalStatement: (record: RunRecord) => {
              const audit = auditBuffer?.take(record.id) ?? [];
              return {
                ...finalStatement(toStored(record), audit),
                failed: () => auditBuffer?.putBack(audit),
              };
            },
          }
        : {}),
      concurrency: opts.concurrency ?? 8,
      lookup: hooks.lookup,
      onLost: hooks.onLost,
      onCancelledWhileQueued: hooks.onCancelledWhileQueued,
      retriesFor: hooks.retriesFor,
      ...(opts.postgres.lostAfterMs !== undefined ? { lostAfterMs: opts.postgres.lostAfterMs } : {}),
      logger,
    });
    await pgQueue.start();
    const queuedRun = pgStore.queuedRunStatement?.bind(pgStore);
    const runs = createRunService(records, pgQueue as RunQueueLike, inputs, {
      store,
      // the queued record and its job in one statement (one round trip, one transaction)
      ...(queuedRun
        ? {
            async enqueue(stored: StoredRun, job: RunJob) {
              const statement = queuedRun(stored);
              await pgQueue.enqueue(job, statement);
              await statement
                .inserted()
                .catch((err: unknown) => logger.warn({ err }, 'run retention trim failed'));
            },
          }
        : {}),
      redactor: (projectId) => secrets.redactor(projectId),
      started: hooks.started,
      settled: hooks.settled,
    });
    return {
      ctx: { store, secrets, runner, runs, logger },
      async health() {
        if (!pgQueue.healthy()) return 'degraded';
        try {
          await pool.query('SELECT 1');
          return 'ok';
        } catch {
          return 'degraded';
        }
      },
      async close(graceMs = 10_000) {
        await runs.stop(graceMs);
        await auditBuffer?.flush();
        fn.close();
      },
    };
  }
  const queue = createInProcessQueue({
    execute: createRunExecutor({ store, records, secrets, runner }, inputs),
    concurrency: opts.concurrency ?? 8,
    // the run service reads finished runs from RunRecords; the queue only bridges the moment
    // between a run's end and its waitFor (a thousand records kept there cost memory and GC)
    recentLimit: 64,
    logger,
    onCancelledWhileQueued: async (job) => {
      const run = await records.get(job.projectId, job.runId);
      inputs.delete(job.runId);
      if (!run || run.status !== 'queued') return undefined;
      const cancelled = {
        ...run,
        status: 'cancelled' as const,
        error: { code: 'CANCELLED', message: 'the run was cancelled before it started' },
      };
      await records.finish(cancelled);
      return cancelled as unknown as RunRecord;
    },
  });
  await queue.start();
  const runs = createRunService(records, queue, inputs);
  return {
    ctx: { store, secrets, runner, runs, logger },
    health: async () => 'ok',
    async close(graceMs = 10_000) {
      await runs.stop(graceMs);
      fn.close();
    },
  };
}
