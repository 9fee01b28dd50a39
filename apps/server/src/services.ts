// Wires the packages into the AppContext the routes use: the project secrets service, the
// runner with the builtin, api and function block plugins (the api block dispatching through
// the egress guard), and the in-process run queue. server.ts and the tests share it.
import type { Logger } from 'pino';
import { createApiBlockPlugin, createEgressGuard, parseEgressAllow } from '@flowsafe/api-block';
import { createInProcessQueue } from '@flowsafe/queue';
import { Redactor } from '@flowsafe/redact';
import { builtinPlugins, createRunner, type RunRecord } from '@flowsafe/runner';
import { createFunctionBlockPlugin } from '@flowsafe/sandbox';
import type { KeyRing } from '@flowsafe/secrets';
import type { Store } from '@flowsafe/store';
import type { AppContext } from './context';
import { ProjectSecrets } from './project-secrets';
import { RunRecords } from './run-records';
import { createRunExecutor, createRunService, recordsSink } from './runs';

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
}

export interface Services {
  ctx: AppContext;
  /** stop taking runs, finish in-flight ones within graceMs, release isolates */
  close(graceMs?: number): Promise<void>;
}

export async function createServices(opts: ServicesOptions): Promise<Services> {
  const { store, keyRing, logger } = opts;
  const secrets = new ProjectSecrets({ store, keyRing, global: opts.global ?? new Redactor() });
  const guard = createEgressGuard({ allow: parseEgressAllow(opts.egressAllow ?? '') });
  const api = createApiBlockPlugin({
    secrets,
    dispatcher: guard.agent({ keepAliveTimeout: 10_000, keepAliveMaxTimeout: 60_000 }),
    tlsDispatcher: (tls) => guard.agent({ connect: tls }),
    audit: (event) => {
      secrets
        .auditUse(event)
        .catch((err: unknown) => logger.error({ err, secret: event.secret }, 'audit of a secret use failed'));
    },
  });
  const fn = createFunctionBlockPlugin();
  const records = new RunRecords(store, (err, record) =>
    logger.error({ err, runId: record.id }, 'could not save the run record'),
  );
  const runner = createRunner({
    plugins: [...builtinPlugins(), api, fn],
    sink: recordsSink(records),
    logger,
  });
  const inputs = new Map<string, Record<string, unknown>>();
  const queue = createInProcessQueue({
    execute: createRunExecutor({ store, records, secrets, runner }, inputs),
    concurrency: opts.concurrency ?? 8,
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
    async close(graceMs = 10_000) {
      await runs.stop(graceMs);
      fn.close();
    },
  };
}
