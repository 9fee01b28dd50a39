// The PostgreSQL run queue (SPEC §11): runs go through Graphile Worker, an existing job queue
// on PostgreSQL (LISTEN/NOTIFY, SKIP LOCKED). The API process enqueues ids and waits; any number
// of worker processes execute. What Graphile Worker does not give, built on its documented
// hooks (see docs/decisions.md): a lease + heartbeat per running run and a reaper for dead
// workers (postgres-reaper.ts), cancellation of running runs over NOTIFY, and "run finished"
// notifications so waitFor answers within milliseconds from the store (`lookup`).
import { EventEmitter } from 'node:events';
import pg from 'pg';
import { Logger, run, runMigrations, type Runner, type Task, type WorkerEvents } from 'graphile-worker';
import type { RunnerLogger, RunRecord } from '@flowsafe/runner';
import { delay, idsOnly, MAX_TIMER_MS, messageOf } from './job-helpers';
import { QueueError } from './queue-error';
import {
  CANCEL_CHANNEL,
  DONE_CHANNEL,
  dropLease,
  dropPool,
  ensureLeaseTable,
  finishRun,
  hasLease,
  MAX_NOTIFY_BYTES,
  heartbeat,
  releaseLease,
  takeLease,
  TASK_IDENTIFIER,
} from './postgres-leases';
import { createPostgresListener, type PostgresListener } from './postgres-listener';
import { createReaper, type LostInfo, type OnLost } from './postgres-reaper';
import { isFinished, type ExecuteJob, type RunJob, type RunQueue } from './types';

export type { LostInfo, OnLost };

export interface PostgresQueueOptions {
  /** a postgres:// URL (the queue creates and ends its own pool) … */
  connectionString?: string;
  /** … or a pool shared with the caller (never ended by the queue) */
  pool?: pg.Pool;
  /** api: enqueue/wait/cancel only; worker: execute runs; both: the two in one process */
  role: 'api' | 'worker' | 'both';
  /** required for worker and both */
  execute?: ExecuteJob;
  /** runs this process executes at once (Graphile Worker's concurrency); default 8 */
  concurrency?: number;
  /** reads a run record from the store; used by waitFor and to skip a retried run that already finished */
  lookup: (runId: string) => Promise<RunRecord | undefined>;
  /**
   * The save of a run's final record (what execute returned) as a statement that returns a
   * row only when it stored the record (a final record already stored wins). When given, the
   * queue sends it with the lease release and the "finished" notification in one statement,
   * and the notification carries the record (when it fits) so waitFor needs no lookup; execute
   * must then not store the final record itself.
   */
  finalStatement?: (record: RunRecord) => FinalStatement;
  /**
   * A read of what execute needs (a SELECT returning one row, parameters $1…$n), sent in the
   * same statement as the run's lease; its row is execute's third argument.
   */
  leaseStatement?: (job: RunJob) => AlongsideStatement;
  /** a queued run was cancelled: mark its stored record cancelled (may return that record) */
  onCancelledWhileQueued?: (job: RunJob) => Promise<RunRecord | void>;
  /**
   * a run's worker is gone: mark it failed ("worker lost") when !info.retrying, or back to
   * queued when Graphile will retry it. Only change a record that is not finished yet (the
   * reaper may, rarely, report a run whose worker wrote its final record just before dying).
   * A rejection is retried on the next reaper pass. Only processes given onLost look for lost
   * runs: give it to every process (API and workers) so any survivor settles them.
   */
  onLost?: OnLost;
  /** a run whose worker stopped heartbeating for this long is lost; default 60000 */
  lostAfterMs?: number;
  /** how often a worker refreshes its leases; default 5000 (at most lostAfterMs / 3) */
  heartbeatMs?: number;
  /** how often this process looks for lost runs; default min(5000, lostAfterMs / 3) */
  reapIntervalMs?: number;
  /** retries a run gets when its worker is lost or its execution throws; default 0 */
  retriesFor?: (job: RunJob) => number | Promise<number>;
  /** Graphile Worker's poll interval, for retries and unlocked jobs (new jobs arrive by NOTIFY); default 1000 */
  pollIntervalMs?: number;
  /**
   * jobs a worker process fetches (and locks) at once into Graphile's local queue, handed to
   * its free slots without another query; default `concurrency`; 0 fetches one job per slot.
   * Jobs wait there at most min(300000, lostAfterMs / 3) ms before they are returned.
   */
  localQueueSize?: number;
  /** Graphile batches the completions of finished jobs over this window (ms); default 50, -1: off */
  completeBatchDelayMs?: number;
  /** how long stop() waits for aborted runs to settle after the grace period; default 5000 */
  abortWaitMs?: number;
  /** pool size when the queue creates its pool; default max(10, concurrency + 6) */
  maxPoolSize?: number;
  /** finished records kept in memory for waitFor; default 1000 */
  recentLimit?: number;
  logger?: RunnerLogger;
}

/**
 * A data-modifying statement sent in the same statement (one round trip, one transaction) as
 * an enqueue, e.g. the INSERT of the queued run's record. Its parameters are $1…$n; it must
 * return exactly one row with an integer (or null) column `retries`, which then sets the
 * run's retries instead of `retriesFor`.
 */
export interface AlongsideStatement {
  sql: string;
  params: unknown[];
}

/** finalStatement's answer: the save ($1…$n), and more CTEs sent with it. */
export interface FinalStatement extends AlongsideStatement {
  /** more data-modifying CTEs (`name AS (…)`, comma-separated, same parameters) in the statement */
  with?: string;
  /** called when the statement could not be committed (the database stayed out of reach) */
  failed?: () => void;
}

export interface PostgresQueue extends RunQueue {
  /** queues a run, committing `alongside` with it when given */
  enqueue(job: RunJob, alongside?: AlongsideStatement): Promise<void>;
  /** false while the database cannot be reached (for /healthz "degraded") */
  healthy(): boolean;
  /** runs this process is executing */
  stats(): { running: number; waiting: number };
  /** settles lost runs now (the reaper also runs on its own timer); answers how many */
  reapNow(): Promise<number>;
  /** stop() and release everything; safe to call twice */
  close(): Promise<void>;
}

interface RunningEntry {
  job: RunJob;
  jobId: string;
  controller: AbortController;
  leased: boolean;
}

interface Waiter {
  check(): void;
}

const MAX_RETRIES = 100;

function parseJob(payload: unknown): RunJob | undefined {
  try {
    return idsOnly(payload as RunJob);
  } catch {
    return undefined;
  }
}

/** The finished record of a "finished" notification, if it is one for this run. */
function parseRecord(json: string, runId: string): RunRecord | undefined {
  try {
    const record = JSON.parse(json) as RunRecord;
    return typeof record === 'object' && record !== null && record.id === runId && isFinished(record)
      ? record
      : undefined;
  } catch {
    return undefined;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function shutdownError(): QueueError {
  return new QueueError('SHUTDOWN', 'run cancelled: the worker stopped before it finished');
}

function cancelledRecord(job: RunJob, message: string): RunRecord {
  return {
    id: job.runId,
    flowId: job.flowId,
    projectId: job.projectId,
    environment: job.environment,
    status: 'cancelled',
    queuedAt: new Date().toISOString(),
    steps: [],
    error: { code: 'CANCELLED', message },
  };
}

function positiveInt(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new QueueError('INVALID_JOB', `${name} must be a positive integer, got ${value}`);
  }
  return value;
}

/** Graphile Worker's log lines go to our logger (warnings and errors only). */
function graphileLogger(logger: RunnerLogger | undefined): Logger {
  return new Logger((scope) => (level, message, meta) => {
    if (!logger) return;
    const obj = {
      scope: { label: scope.label, workerId: scope.workerId, jobId: scope.jobId },
      err:
        (meta as { error?: unknown } | undefined)?.error === undefined
          ? undefined
          : messageOf((meta as { error?: unknown }).error),
    };
    if (level === 'error') logger.error(obj, `graphile-worker: ${message}`);
    else if (level === 'warning') logger.warn(obj, `graphile-worker: ${message}`);
  });
}

/** Creates the PostgreSQL queue. Call start() to connect (and, for workers, to take runs). */
export function createPostgresQueue(options: PostgresQueueOptions): PostgresQueue {
  const { role, logger } = options;
  const works = role === 'worker' || role === 'both';
  // only processes that answer API calls wait for runs: a worker's connection does not LISTEN
  // for "finished" notifications (each carries a whole record), and its waitFor polls the store
  const listensDone = role !== 'worker';
  const execute = options.execute;
  if (works && !execute) throw new QueueError('INVALID_JOB', `a ${role} queue needs an execute function`);
  if (!options.pool && !options.connectionString) {
    throw new QueueError('INVALID_JOB', 'the PostgreSQL queue needs a connectionString or a pool');
  }
  const concurrency = positiveInt('concurrency', options.concurrency ?? 8);
  const lostAfterMs = positiveInt('lostAfterMs', options.lostAfterMs ?? 60_000);
  const heartbeatMs = Math.min(
    positiveInt('heartbeatMs', options.heartbeatMs ?? 5000),
    Math.max(1, Math.floor(lostAfterMs / 3)),
  );
  const reapIntervalMs = positiveInt(
    'reapIntervalMs',
    options.reapIntervalMs ?? Math.max(1, Math.min(5000, Math.floor(lostAfterMs / 3))),
  );
  const pollInterval = positiveInt('pollIntervalMs', options.pollIntervalMs ?? 1000);
  const localQueueSize = options.localQueueSize ?? concurrency;
  if (!Number.isSafeInteger(localQueueSize) || localQueueSize < 0) {
    throw new QueueError('INVALID_JOB', `localQueueSize must be an integer >= 0, got ${localQueueSize}`);
  }
  // a job waiting in a local queue has no lease: it must go back well before the reaper could
  // count it as never leased (which it also never does while its pool heartbeats)
  const localQueueTtl = Math.max(1, Math.min(300_000, Math.floor(lostAfterMs / 3)));
  const completeBatchDelay = Math.floor(options.completeBatchDelayMs ?? 50);
  const abortWaitMs = options.abortWaitMs ?? 5000;
  const recentLimit = options.recentLimit ?? 1000;

  const ownPool = !options.pool;
  const pool =
    options.pool ??
    new pg.Pool({
      connectionString: options.connectionString,
      max: options.maxPoolSize ?? Math.max(10, concurrency + 6),
    });

  // health: the last database operation of each kind that failed, cleared when one succeeds
  const failing = new Set<string>();
  const ok = (what: string): void => {
    failing.delete(what);
    failing.delete('pool'); // something reached the database again
  };
  const fail = (what: string, err: unknown): void => {
    if (!failing.has(what))
      logger?.warn({ err: messageOf(err), what }, 'run queue database operation failed');
    failing.add(what);
  };
  // an idle client that loses its connection must not crash the process
  const onPoolError = (err: Error): void => fail('pool', err);
  pool.on('error', onPoolError);
  // … nor one that errors while checked out (what Graphile Worker asks of a pool it is given)
  const onClientError = (err: Error): void => fail('pool', err);
  const onConnect = (client: pg.PoolClient): void => {
    client.on('error', onClientError);
  };
  pool.on('connect', onConnect);

  const running = new Map<string, RunningEntry>();
  const recent = new Map<string, RunRecord>();
  const waiters = new Map<string, Set<Waiter>>();
  let runner: Runner | undefined;
  // Graphile's worker pool in this process (it locks jobs in this name); refreshed by heartbeats
  let poolId: string | undefined;
  let poolRow: string | undefined;
  let listener: PostgresListener | undefined;
  let heartbeatTimer: NodeJS.Timeout | undefined;
  let reapTimer: NodeJS.Timeout | undefined;
  let started = false;
  let accepting = true;
  let stopping: Promise<void> | undefined;
  // set once the grace period is over: a run that registers after that is aborted at once
  let abortAll = false;
  let closed = false;

  // Runs this process enqueued, with the listener's epoch at the time, and the runs whose
  // "finished" notification arrived lately: a run enqueued here while the listener stayed
  // connected cannot have finished unnoticed, so waitFor needs no first lookup for it.
  let listenEpoch = 0;
  const enqueuedHere = new Map<string, number>();
  const doneLately = new Set<string>();
  const bounded = (set: { size: number; keys(): IterableIterator<string>; delete(k: string): boolean }) => {
    while (set.size > 10_000) {
      const oldest = set.keys().next().value;
      if (oldest === undefined) break;
      set.delete(oldest);
    }
  };

  const reaper = createReaper({ pool, lostAfterMs, onLost: options.onLost, parseJob, logger });

  const remember = (record: RunRecord): void => {
    recent.delete(record.id);
    if (recentLimit > 0) recent.set(record.id, record);
    while (recent.size > recentLimit) {
      const oldest = recent.keys().next().value;
      if (oldest === undefined) break;
      recent.delete(oldest);
    }
    for (const waiter of waiters.get(record.id) ?? []) waiter.check();
  };

  /** the finished record from memory or the store, else undefined */
  const finishedRecord = async (runId: string): Promise<RunRecord | undefined> => {
    const local = recent.get(runId);
    if (local) return local;
    try {
      const found = await options.lookup(runId);
      return found && isFinished(found) ? found : undefined;
    } catch (err) {
      logger?.warn({ runId, err: messageOf(err) }, 'run lookup failed');
      return undefined;
    }
  };

  /** retries a database step with backoff for up to about lostAfterMs / 2 */
  const withRetry = async <T>(what: string, step: () => Promise<T>): Promise<T> => {
    const deadline = Date.now() + lostAfterMs / 2;
    let wait = 50;
    for (;;) {
      try {
        const result = await step();
        ok(what);
        return result;
      } catch (err) {
        fail(what, err);
        if (Date.now() + wait > deadline) throw err;
        await sleep(wait);
        wait = Math.min(wait * 2, 2000);
      }
    }
  };

  const notify = async (channel: string, runId: string): Promise<void> => {
    await pool.query('SELECT pg_notify($1, $2)', [channel, runId]);
  };

  const cancelledWhileQueued = async (job: RunJob, message: string): Promise<void> => {
    let record: RunRecord | void = undefined;
    try {
      record = await options.onCancelledWhileQueued?.(job);
    } catch (err) {
      logger?.error({ runId: job.runId, err: messageOf(err) }, 'could not mark a queued run cancelled');
    }
    remember(record ?? cancelledRecord(job, message));
  };

  const task: Task = async (payload, helpers) => {
    const job = parseJob(payload);
    if (!job) {
      // nothing we can run or report; completing it keeps it from coming back
      logger?.error({ jobId: helpers.job.id }, 'a flowsafe_run job without valid ids was dropped');
      return;
    }
    const jobId = String(helpers.job.id);
    const workerId = helpers.job.locked_by ?? 'unknown';
    // registered before the lease so a cancel NOTIFY arriving meanwhile still finds it
    const entry: RunningEntry = { job, jobId, controller: new AbortController(), leased: false };
    running.set(job.runId, entry);
    if (abortAll) entry.controller.abort(shutdownError());
    try {
      if (helpers.job.attempts > 1) {
        // a retry: the previous attempt may have finished the run before its worker died
        const prior = await finishedRecord(job.runId);
        if (prior) {
          remember(prior);
          await withRetry('lease', () => releaseLease(pool, job.runId, jobId));
          return;
        }
      }
      const read = options.leaseStatement?.(job);
      const { key, row } = await withRetry('lease', () => takeLease(pool, { job, jobId, workerId }, read));
      entry.leased = true;
      if (key !== job.runId || entry.controller.signal.aborted) {
        // graphile_worker.remove_job cleared the key between locking and leasing, a cancel
        // NOTIFY came first, or stop() ran out of grace: the run never starts
        await cancelledWhileQueued(job, 'run cancelled before it started');
        await withRetry('lease', () => releaseLease(pool, job.runId, jobId));
        return;
      }
      let record: RunRecord;
      try {
        record = await execute!({ ...job }, entry.controller.signal, row);
      } catch (err) {
        // the message may hold anything: log it through the caller's (redacting) logger, and
        // give Graphile a fixed one so nothing of the run reaches its last_error column
        logger?.error({ runId: job.runId, err: messageOf(err) }, 'run execution failed');
        await dropLease(pool, job.runId, jobId).catch(() => undefined);
        throw new Error('the run could not be executed');
      }
      const final = options.finalStatement;
      if (!final) {
        remember(record);
        await withRetry('lease', () => releaseLease(pool, job.runId, jobId));
        return;
      }
      const statement = final(record);
      const withRecord = `${job.runId} ${JSON.stringify(record)}`;
      const payload = Buffer.byteLength(withRecord) <= MAX_NOTIFY_BYTES ? withRecord : job.runId;
      let applied: boolean;
      try {
        applied = await withRetry('lease', () =>
          finishRun(pool, { runId: job.runId, jobId }, statement, payload),
        );
      } catch (err) {
        // the record is not stored: the job fails (a retry, if any, runs it again) and the
        // reaper settles the run if the lease cannot be dropped either
        logger?.error({ runId: job.runId, err: messageOf(err) }, 'the final record could not be saved');
        statement.failed?.();
        await dropLease(pool, job.runId, jobId).catch(() => undefined);
        throw new Error('the run could not be executed');
      }
      // another final record won (the reaper's, a cancellation's): waitFor looks that one up
      if (applied) remember(record);
    } finally {
      running.delete(job.runId);
    }
  };

  const beat = async (): Promise<void> => {
    const leased = [...running.values()].filter((entry) => entry.leased);
    if (leased.length === 0 && poolId === undefined) return;
    try {
      const alive = await heartbeat(
        pool,
        leased.map((entry) => ({ runId: entry.job.runId, jobId: entry.jobId })),
        poolId,
      );
      ok('heartbeat');
      for (const entry of leased) {
        // the reaper took this run over (we were unreachable for too long): stop working on it
        if (
          !alive.has(entry.job.runId) &&
          running.get(entry.job.runId) === entry &&
          !entry.controller.signal.aborted
        ) {
          logger?.warn({ runId: entry.job.runId }, 'lease on a running run was lost; aborting it');
          entry.controller.abort(new QueueError('SHUTDOWN', 'run aborted: this worker lost its lease'));
        }
      }
    } catch (err) {
      fail('heartbeat', err);
    }
  };

  const reap = async (): Promise<number> => {
    try {
      const settled = await reaper.reapOnce();
      ok('reaper');
      return settled;
    } catch (err) {
      fail('reaper', err);
      return 0;
    }
  };

  const onNotify = (channel: string, payload: string): void => {
    if (channel === DONE_CHANNEL) {
      // "<run id>" or "<run id> <finished record as JSON>" (finishRun)
      const space = payload.indexOf(' ');
      const runId = space < 0 ? payload : payload.slice(0, space);
      if (space >= 0 && (enqueuedHere.has(runId) || waiters.has(runId))) {
        const record = parseRecord(payload.slice(space + 1), runId);
        if (record) remember(record);
      }
      if (enqueuedHere.has(runId)) {
        doneLately.add(runId);
        bounded(doneLately);
      }
      for (const waiter of waiters.get(runId) ?? []) waiter.check();
    } else if (channel === CANCEL_CHANNEL) {
      const runId = payload;
      const entry = running.get(runId);
      if (entry && !entry.controller.signal.aborted) {
        entry.controller.abort(new QueueError('CANCELLED', 'run cancelled'));
      }
    }
  };

  const releaseResources = async (): Promise<void> => {
    if (heartbeatTimer) clearInterval(heartbeatTimer);
    if (reapTimer) clearInterval(reapTimer);
    heartbeatTimer = undefined;
    reapTimer = undefined;
    await listener?.stop().catch(() => undefined);
    listener = undefined;
    if (!closed) {
      closed = true;
      if (ownPool) await pool.end().catch(() => undefined);
      else {
        pool.off('error', onPoolError);
        pool.off('connect', onConnect);
      }
    }
  };

  const doStop = async (graceMs: number): Promise<void> => {
    accepting = false;
    const runnerStopped = runner?.stop().catch((err: unknown) => {
      logger?.warn({ err: messageOf(err) }, 'graphile-worker did not stop cleanly');
    });
    const inFlight = (): Promise<unknown> =>
      new Promise<void>((resolve) => {
        const check = (): void => {
          if (running.size === 0) resolve();
          else setTimeout(check, 10).unref();
        };
        check();
      });
    if (running.size > 0) {
      const grace = delay(graceMs);
      await Promise.race([inFlight(), grace.promise]);
      grace.cancel();
    }
    abortAll = true;
    for (const entry of running.values()) {
      if (!entry.controller.signal.aborted) entry.controller.abort(shutdownError());
    }
    // Graphile's stop resolves once its workers are idle; a job it locked just before stop
    // registers late and is aborted on registration (abortAll)
    const settle = delay(abortWaitMs);
    await Promise.race([Promise.all([inFlight(), runnerStopped]), settle.promise]);
    settle.cancel();
    if (running.size > 0) logger?.warn({ runs: [...running.keys()] }, 'runs did not end after being aborted');
    runner = undefined;
    started = false;
    // Graphile returned the jobs of its local queue and completed the finished ones: the pool
    // holds nothing now (if a run did not end, its lease goes stale and the reaper takes over)
    poolId = undefined;
    if (poolRow !== undefined && running.size === 0) await dropPool(pool, poolRow).catch(() => undefined);
    await releaseResources();
  };

  const queue: PostgresQueue = {
    async enqueue(job, alongside) {
      const ids = idsOnly(job);
      if (!accepting || stopping)
        throw new QueueError('QUEUE_STOPPED', 'the run queue is stopping and takes no new runs');
      // before the statement: its "finished" notification may be read before its own answer
      enqueuedHere.set(ids.runId, listenEpoch);
      bounded(enqueuedHere);
      let result: pg.QueryResult<{ revision: number }>;
      if (alongside) {
        // one statement, one transaction: the caller's write and the job commit together, and
        // the write's `retries` sets the job's attempts (clamped to 0…MAX_RETRIES)
        const n = alongside.params.length;
        result = await pool.query<{ revision: number }>(
          `WITH alongside AS (${alongside.sql})
           SELECT j.revision FROM alongside a, graphile_worker.add_job($${n + 1}, $${n + 2}::json,
             max_attempts := 1 + least(greatest(coalesce(a.retries, 0), 0), ${MAX_RETRIES}),
             job_key := $${n + 3}, job_key_mode := 'unsafe_dedupe') j`,
          [...alongside.params, TASK_IDENTIFIER, JSON.stringify(ids), ids.runId],
        );
        if (result.rows.length !== 1) {
          throw new QueueError('INVALID_JOB', 'the statement sent alongside the enqueue must return one row');
        }
      } else {
        const retries = (await options.retriesFor?.(ids)) ?? 0;
        if (!Number.isSafeInteger(retries) || retries < 0 || retries > MAX_RETRIES) {
          throw new QueueError(
            'INVALID_JOB',
            `retries must be an integer from 0 to ${MAX_RETRIES}, got ${retries}`,
          );
        }
        // unsafe_dedupe: an existing job with this key is left alone and comes back with revision > 0
        result = await pool.query<{ revision: number }>(
          `SELECT revision FROM graphile_worker.add_job($1, $2::json, max_attempts := $3, job_key := $4, job_key_mode := 'unsafe_dedupe')`,
          [TASK_IDENTIFIER, JSON.stringify(ids), retries + 1, ids.runId],
        );
      }
      ok('enqueue');
      if ((result.rows[0]?.revision ?? 0) > 0) {
        throw new QueueError('DUPLICATE_RUN', `run ${ids.runId} is already queued or running`);
      }
    },

    async waitFor(runId, ms) {
      const local = recent.get(runId);
      if (local) return local;
      if (!(ms > 0)) return finishedRecord(runId);
      if (!listensDone) {
        const deadline = Date.now() + Math.min(ms, MAX_TIMER_MS);
        for (;;) {
          const record = recent.get(runId) ?? (await finishedRecord(runId));
          if (record || Date.now() >= deadline) return record;
          await sleep(Math.min(250, Math.max(1, deadline - Date.now())));
        }
      }
      const epoch = enqueuedHere.get(runId);
      enqueuedHere.delete(runId);
      const unnoticed =
        epoch === undefined || epoch !== listenEpoch || !listener?.connected() || doneLately.delete(runId);
      return new Promise<RunRecord | undefined>((resolve) => {
        let settled = false;
        let checking = false;
        let again = false;
        const set = waiters.get(runId) ?? new Set<Waiter>();
        waiters.set(runId, set);
        const finish = (record: RunRecord | undefined): void => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          set.delete(waiter);
          if (set.size === 0 && waiters.get(runId) === set) waiters.delete(runId);
          resolve(record);
        };
        // one lookup at a time per waiter; a notification during a lookup triggers one more
        const check = (): void => {
          if (settled) return;
          if (checking) {
            again = true;
            return;
          }
          checking = true;
          void finishedRecord(runId).then((record) => {
            checking = false;
            if (record) finish(record);
            else if (again) {
              again = false;
              check();
            }
          });
        };
        const waiter: Waiter = { check };
        set.add(waiter);
        const timer = setTimeout(
          () => {
            void finishedRecord(runId).then(finish);
          },
          Math.min(ms, MAX_TIMER_MS),
        );
        // a run that may have finished before this waiter existed is looked up now
        if (unnoticed) check();
      });
    },

    async cancel(runId) {
      if (closed) return false;
      // remove_job deletes an unlocked job; a locked (running) one loses its key and its retries
      const removed = await pool.query<{ id: string | null; locked_at: Date | null; payload: unknown }>(
        'SELECT id, locked_at, payload FROM graphile_worker.remove_job($1)',
        [runId],
      );
      const row = removed.rows[0];
      if (row && row.id !== null) {
        const job = parseJob(row.payload);
        if (row.locked_at === null && job) {
          await cancelledWhileQueued(job, 'run cancelled before it started');
          await notify(DONE_CHANNEL, runId).catch(() => undefined);
          return true;
        }
        if (recent.has(runId)) return false; // finished here; Graphile has yet to delete the job
        const leased = running.has(runId) || (await hasLease(pool, runId));
        if (!leased && (await finishedRecord(runId))) {
          return false; // finished elsewhere, its job is being completed
        }
        // running (the signal aborts it), or locked and not started: waiting in a worker's local
        // queue or about to be leased; that worker sees the cleared key and never starts it
        onNotify(CANCEL_CHANNEL, runId);
        await notify(CANCEL_CHANNEL, runId);
        if (!leased && job) {
          await cancelledWhileQueued(job, 'run cancelled before it started');
          await notify(DONE_CHANNEL, runId).catch(() => undefined);
        }
        return true;
      }
      if (running.has(runId) || (await hasLease(pool, runId))) {
        onNotify(CANCEL_CHANNEL, runId);
        await notify(CANCEL_CHANNEL, runId);
        return true;
      }
      return false;
    },

    async start() {
      if (started) return;
      if (closed) throw new QueueError('QUEUE_STOPPED', 'the run queue was closed');
      try {
        await runMigrations({ pgPool: pool, logger: graphileLogger(logger) });
        await ensureLeaseTable(pool);
        listener = createPostgresListener({
          pool,
          channels: [...(listensDone ? [DONE_CHANNEL] : []), ...(works ? [CANCEL_CHANNEL] : [])],
          onNotify,
          onReconnect: () => {
            listenEpoch += 1;
            ok('listen');
            for (const set of waiters.values()) for (const waiter of set) waiter.check();
          },
          logger,
        });
        await listener.start();
        if (works) {
          const events: WorkerEvents = new EventEmitter();
          events.on('pool:create', ({ workerPool }) => {
            poolId = workerPool.id;
            poolRow = workerPool.id;
          });
          runner = await run({
            pgPool: pool,
            concurrency,
            noHandleSignals: true,
            pollInterval,
            taskList: { [TASK_IDENTIFIER]: task },
            parsedCronItems: [],
            logger: graphileLogger(logger),
            events,
            preset: {
              worker: {
                ...(localQueueSize > 0 ? { localQueue: { size: localQueueSize, ttl: localQueueTtl } } : {}),
                completeJobBatchDelay: completeBatchDelay,
              },
            },
          });
          // a pool that stopped taking or completing jobs must look dead to the reaper
          runner.promise.then(
            () => (poolId = undefined),
            (err: unknown) => {
              poolId = undefined;
              fail('runner', err);
            },
          );
          await beat();
          heartbeatTimer = setInterval(() => void beat(), heartbeatMs);
          heartbeatTimer.unref();
        }
      } catch (err) {
        await runner?.stop().catch(() => undefined);
        runner = undefined;
        await listener?.stop().catch(() => undefined);
        listener = undefined;
        throw err;
      }
      // a process without onLost could only settle lost runs silently, so it leaves them to others
      if (options.onLost) {
        reapTimer = setInterval(() => void reap(), reapIntervalMs);
        reapTimer.unref();
      }
      started = true;
      accepting = true;
    },

    async stop(opts = {}) {
      stopping ??= doStop(opts.graceMs ?? 30_000);
      return stopping;
    },

    async close() {
      await queue.stop({ graceMs: 0 });
    },

    healthy() {
      if (closed) return false;
      if (started && listener && !listener.connected()) return false;
      return failing.size === 0;
    },

    stats() {
      let waiting = 0;
      for (const set of waiters.values()) waiting += set.size;
      return { running: running.size, waiting };
    },

    reapNow: reap,
  };
  return queue;
}
