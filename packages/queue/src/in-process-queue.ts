// The embedded run queue: runs execute in this process, first in first out, at most
// `concurrency` at a time. It keeps a bounded map of recently finished records so waitFor
// works for a run that ended before anyone asked, and can fall back to the store (`lookup`).
// Nothing survives a restart: stop() marks jobs that never started as cancelled by default.
import { isoNow, type RunnerLogger, type RunRecord } from '@flowsafe/runner';
import { delay, idsOnly, MAX_TIMER_MS, messageOf } from './job-helpers';
import { QueueError } from './queue-error';
import { isFinished, type ExecuteJob, type RunJob, type RunQueue } from './types';

export interface InProcessQueueOptions {
  execute: ExecuteJob;
  /** runs executing at once; default 8 */
  concurrency?: number;
  /** a queued run was cancelled (cancel() or stop()): mark its stored record; may return that record */
  onCancelledWhileQueued?: (job: RunJob) => Promise<RunRecord | void>;
  /** finds a finished record this queue no longer remembers (e.g. the store's runs repository) */
  lookup?: (runId: string) => Promise<RunRecord | undefined>;
  /** finished records kept for waitFor; default 1000 */
  recentLimit?: number;
  /** how long stop() waits for aborted runs to settle after the grace period; default 5000 */
  abortWaitMs?: number;
  logger?: RunnerLogger;
}

export interface InProcessQueue extends RunQueue {
  stop(opts?: { graceMs?: number; cancelQueued?: boolean }): Promise<void>;
  /** counts for health checks and tests */
  stats(): { queued: number; running: number; recent: number };
}

interface QueuedEntry {
  job: RunJob;
  queuedAt: string;
}

interface RunningEntry extends QueuedEntry {
  controller: AbortController;
  done: Promise<void>;
}

function recordFor(
  entry: QueuedEntry,
  status: 'failed' | 'cancelled',
  error: { code: string; message: string },
): RunRecord {
  return {
    id: entry.job.runId,
    flowId: entry.job.flowId,
    projectId: entry.job.projectId,
    environment: entry.job.environment,
    status,
    queuedAt: entry.queuedAt,
    steps: [],
    error,
  };
}

/** Creates the embedded queue. Call start() to begin executing. */
export function createInProcessQueue(options: InProcessQueueOptions): InProcessQueue {
  const concurrency = options.concurrency ?? 8;
  const recentLimit = options.recentLimit ?? 1000;
  const abortWaitMs = options.abortWaitMs ?? 5000;
  if (!Number.isSafeInteger(concurrency) || concurrency < 1) {
    throw new QueueError('INVALID_JOB', `concurrency must be a positive integer, got ${concurrency}`);
  }
  if (!Number.isSafeInteger(recentLimit) || recentLimit < 0) {
    throw new QueueError('INVALID_JOB', `recentLimit must be a non-negative integer, got ${recentLimit}`);
  }
  const { execute, logger } = options;

  // a Map keeps insertion order: iteration is FIFO and cancel removes from the middle in O(1)
  const queued = new Map<string, QueuedEntry>();
  const running = new Map<string, RunningEntry>();
  const recent = new Map<string, RunRecord>();
  const waiters = new Map<string, Set<(record: RunRecord) => void>>();
  let started = false;
  let accepting = true;

  const remember = (record: RunRecord): void => {
    recent.delete(record.id);
    if (recentLimit > 0) recent.set(record.id, record);
    while (recent.size > recentLimit) {
      const oldest = recent.keys().next().value;
      if (oldest === undefined) break;
      recent.delete(oldest);
    }
    const pending = waiters.get(record.id);
    waiters.delete(record.id);
    for (const resolve of pending ?? []) resolve(record);
  };

  const launch = (entry: QueuedEntry): void => {
    const controller = new AbortController();
    const runningEntry: RunningEntry = { ...entry, controller, done: Promise.resolve() };
    running.set(entry.job.runId, runningEntry);
    runningEntry.done = (async () => {
      let record: RunRecord;
      try {
        record = await execute({ ...entry.job }, controller.signal);
      } catch (err) {
        // the message may come from anywhere; the logger is the caller's (redacting) one
        logger?.error({ runId: entry.job.runId, err: messageOf(err) }, 'run execution failed');
        record = recordFor(entry, 'failed', {
          code: 'EXECUTE_FAILED',
          message: 'the run could not be executed',
        });
      }
      running.delete(entry.job.runId);
      remember(record);
      pump();
    })();
  };

  const pump = (): void => {
    if (!started) return;
    while (running.size < concurrency) {
      const next = queued.values().next();
      if (next.done) return;
      queued.delete(next.value.job.runId);
      launch(next.value);
    }
  };

  const cancelQueued = async (entry: QueuedEntry, message: string): Promise<void> => {
    queued.delete(entry.job.runId);
    let record: RunRecord | void = undefined;
    try {
      record = await options.onCancelledWhileQueued?.({ ...entry.job });
    } catch (err) {
      logger?.error({ runId: entry.job.runId, err: messageOf(err) }, 'could not mark a queued run cancelled');
    }
    remember(record ?? recordFor(entry, 'cancelled', { code: 'CANCELLED', message }));
  };

  return {
    async enqueue(job) {
      const ids = idsOnly(job);
      if (!accepting)
        throw new QueueError('QUEUE_STOPPED', 'the run queue is stopping and takes no new runs');
      if (queued.has(ids.runId) || running.has(ids.runId)) {
        throw new QueueError('DUPLICATE_RUN', `run ${ids.runId} is already queued or running`);
      }
      queued.set(ids.runId, { job: ids, queuedAt: isoNow() });
      pump();
    },

    async waitFor(runId, ms) {
      const known = recent.get(runId);
      if (known) return known;
      if (!queued.has(runId) && !running.has(runId)) {
        let found: RunRecord | undefined;
        try {
          found = await options.lookup?.(runId);
        } catch (err) {
          logger?.warn({ runId, err: messageOf(err) }, 'run lookup failed');
        }
        if (found && isFinished(found)) return found;
        const finishedMeanwhile = recent.get(runId);
        if (finishedMeanwhile) return finishedMeanwhile;
        if (!queued.has(runId) && !running.has(runId)) return undefined;
      }
      if (!(ms > 0)) return undefined;
      return new Promise<RunRecord | undefined>((resolve) => {
        const set = waiters.get(runId) ?? new Set();
        waiters.set(runId, set);
        const onDone = (record: RunRecord): void => {
          clearTimeout(timer);
          resolve(record);
        };
        const timer = setTimeout(
          () => {
            set.delete(onDone);
            if (set.size === 0 && waiters.get(runId) === set) waiters.delete(runId);
            resolve(undefined);
          },
          Math.min(ms, MAX_TIMER_MS),
        );
        set.add(onDone);
      });
    },

    async cancel(runId) {
      const waiting = queued.get(runId);
      if (waiting) {
        await cancelQueued(waiting, 'run cancelled before it started');
        return true;
      }
      const active = running.get(runId);
      if (active) {
        if (!active.controller.signal.aborted)
          active.controller.abort(new QueueError('CANCELLED', 'run cancelled'));
        return true;
      }
      return false;
    },

    async start() {
      started = true;
      accepting = true;
      pump();
    },

    async stop(opts = {}) {
      const graceMs = opts.graceMs ?? 30_000;
      accepting = false;
      started = false;
      if (opts.cancelQueued ?? true) {
        await Promise.all(
          [...queued.values()].map((entry) =>
            cancelQueued(entry, 'run cancelled: the server stopped before it started'),
          ),
        );
      }
      const inFlight = (): Promise<unknown> => Promise.all([...running.values()].map((entry) => entry.done));
      if (running.size > 0) {
        const grace = delay(graceMs);
        await Promise.race([inFlight(), grace.promise]);
        grace.cancel();
      }
      if (running.size > 0) {
        for (const entry of running.values()) {
          entry.controller.abort(
            new QueueError('SHUTDOWN', 'run cancelled: the worker stopped before it finished'),
          );
        }
        const settle = delay(abortWaitMs);
        await Promise.race([inFlight(), settle.promise]);
        settle.cancel();
        if (running.size > 0) {
          logger?.warn({ runs: [...running.keys()] }, 'runs did not end after being aborted');
        }
      }
    },

    stats() {
      return { queued: queued.size, running: running.size, recent: recent.size };
    },
  };
}
