// The worker of bench:scale's `graphile` baseline: Graphile Worker with the settings flowsafe's
// queue gives it (concurrency, local queue, batched completion, a pool of concurrency + 6) and
// a task that only reports that it ran (one pg_notify) — the least a worker of a run queue does
// for a job whose caller waits for it. Env: URL, CONCURRENCY; prints `ready` once it takes jobs;
// SIGTERM stops it gracefully.
import { Logger, run } from 'graphile-worker';
import pg from 'pg';

const concurrency = Number(process.env.CONCURRENCY ?? 16);
const pool = new pg.Pool({ connectionString: process.env.URL, max: concurrency + 6 });
// what Graphile Worker asks of a pool it is given: idle and checked-out clients may error
pool.on('error', () => undefined);
pool.on('connect', (client) => client.on('error', () => undefined));
const runner = await run({
  pgPool: pool,
  concurrency,
  noHandleSignals: true,
  pollInterval: 1000,
  taskList: {
    noop: async (payload, helpers) => {
      await helpers.query('SELECT pg_notify($1, $2)', ['bench_noop_done', String(payload.id)]);
    },
  },
  parsedCronItems: [],
  logger: new Logger(() => () => undefined),
  preset: { worker: { localQueue: { size: concurrency, ttl: 20_000 }, completeJobBatchDelay: 50 } },
});
process.stdout.write('ready\n');
process.once('SIGTERM', () => {
  void runner
    .stop()
    .then(() => pool.end())
    .finally(() => process.exit(0));
});
