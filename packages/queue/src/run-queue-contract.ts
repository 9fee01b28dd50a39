// The behaviour every RunQueue adapter must show, as one vitest suite. The in-process queue
// runs it in in-process-queue.test.ts; the PostgreSQL adapter should run it too (import this
// file from its own test), so an adapter is done when this suite passes against it.
// Not exported from index.ts: it imports vitest.
import type { RunRecord } from '@flowsafe/runner';
import { afterEach, describe, expect, it } from 'vitest';
import type { ExecuteJob, RunJob, RunQueue } from './types';

export interface QueueHarness {
  queue: RunQueue;
  /** release resources (stop the queue if the test did not, close pools, …) */
  close(): Promise<void>;
}

export type MakeQueue = (opts: {
  execute: ExecuteJob;
  concurrency: number;
  onCancelledWhileQueued: (job: RunJob) => Promise<void>;
}) => Promise<QueueHarness>;

let counter = 0;
export function makeJob(overrides: Partial<RunJob> = {}): RunJob {
  counter += 1;
  return {
    runId: `run_${process.pid}_${Date.now()}_${counter}`,
    workspaceId: 'ws_1',
    projectId: 'proj_1',
    flowId: 'flow_1',
    environment: 'development',
    ...overrides,
  };
}

export function recordOf(job: RunJob, status: RunRecord['status']): RunRecord {
  return {
    id: job.runId,
    flowId: job.flowId,
    projectId: job.projectId,
    environment: job.environment,
    status,
    queuedAt: new Date().toISOString(),
    steps: [],
  };
}

/** Resolves once `check` holds, polling every 5 ms; throws after `ms`. */
export async function until(check: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** An execute function whose runs end when the test says so (or when their signal aborts). */
export function controllableExecutor(opts: { autoMs?: number } = {}) {
  const started: string[] = [];
  const jobs: RunJob[] = [];
  const release = new Map<string, (status: RunRecord['status']) => void>();
  let inFlight = 0;
  let maxInFlight = 0;
  const execute: ExecuteJob = async (job, signal) => {
    started.push(job.runId);
    jobs.push(job);
    inFlight += 1;
    maxInFlight = Math.max(maxInFlight, inFlight);
    try {
      const status = await new Promise<RunRecord['status']>((resolve) => {
        release.set(job.runId, resolve);
        signal.addEventListener('abort', () => resolve('cancelled'), { once: true });
        if (opts.autoMs !== undefined) setTimeout(() => resolve('succeeded'), opts.autoMs);
      });
      return recordOf(job, status);
    } finally {
      inFlight -= 1;
    }
  };
  return {
    execute,
    started,
    jobs,
    get inFlight() {
      return inFlight;
    },
    get maxInFlight() {
      return maxInFlight;
    },
    finish(runId: string, status: RunRecord['status'] = 'succeeded') {
      const resolve = release.get(runId);
      if (!resolve) throw new Error(`run ${runId} has not started`);
      resolve(status);
    },
  };
}

export function describeRunQueueContract(name: string, makeQueue: MakeQueue): void {
  describe(`RunQueue contract: ${name}`, () => {
    let harness: QueueHarness | undefined;
    const cancelledWhileQueued: RunJob[] = [];

    async function setup(executor: { execute: ExecuteJob }, concurrency = 2): Promise<RunQueue> {
      cancelledWhileQueued.length = 0;
      harness = await makeQueue({
        execute: executor.execute,
        concurrency,
        onCancelledWhileQueued: async (job) => {
          cancelledWhileQueued.push(job);
        },
      });
      await harness.queue.start();
      return harness.queue;
    }

    afterEach(async () => {
      await harness?.queue.stop({ graceMs: 0 });
      await harness?.close();
      harness = undefined;
    });

    it('executes a job that holds ids only and hands the finished record to waitFor', async () => {
      const ex = controllableExecutor();
      const queue = await setup(ex);
      const job = makeJob();
      await queue.enqueue(job);
      const waiting = queue.waitFor(job.runId, 5000);
      await until(() => ex.started.includes(job.runId));
      expect(ex.jobs[0]).toEqual(job);
      ex.finish(job.runId);
      expect(await waiting).toMatchObject({ id: job.runId, status: 'succeeded' });
    });

    it('answers waitFor for a run that finished before anyone asked', async () => {
      const ex = controllableExecutor({ autoMs: 0 });
      const queue = await setup(ex);
      const job = makeJob();
      await queue.enqueue(job);
      await until(() => ex.started.includes(job.runId) && ex.inFlight === 0);
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(await queue.waitFor(job.runId, 0)).toMatchObject({ id: job.runId, status: 'succeeded' });
      expect(await queue.waitFor(job.runId, 1000)).toMatchObject({ id: job.runId, status: 'succeeded' });
    });

    it('answers waitFor with undefined when the time is up, and the run goes on', async () => {
      const ex = controllableExecutor();
      const queue = await setup(ex);
      const job = makeJob();
      await queue.enqueue(job);
      expect(await queue.waitFor(job.runId, 30)).toBeUndefined();
      await until(() => ex.started.includes(job.runId));
      ex.finish(job.runId);
      expect(await queue.waitFor(job.runId, 5000)).toMatchObject({ status: 'succeeded' });
    });

    it('answers waitFor for an unknown run with undefined', async () => {
      const queue = await setup(controllableExecutor());
      expect(await queue.waitFor('run_that_never_was', 50)).toBeUndefined();
    });

    it('cancels a queued run: it never executes and is marked cancelled', async () => {
      const ex = controllableExecutor();
      const queue = await setup(ex, 1);
      const first = makeJob();
      const second = makeJob();
      await queue.enqueue(first);
      await queue.enqueue(second);
      await until(() => ex.started.includes(first.runId));
      const waiting = queue.waitFor(second.runId, 5000);
      expect(await queue.cancel(second.runId)).toBe(true);
      expect(cancelledWhileQueued).toEqual([second]);
      expect(await waiting).toMatchObject({ id: second.runId, status: 'cancelled' });
      ex.finish(first.runId);
      expect(await queue.waitFor(first.runId, 5000)).toMatchObject({ status: 'succeeded' });
      expect(ex.started).not.toContain(second.runId);
    });

    it('cancels a running run by aborting its signal', async () => {
      const ex = controllableExecutor();
      const queue = await setup(ex);
      const job = makeJob();
      await queue.enqueue(job);
      await until(() => ex.started.includes(job.runId));
      expect(await queue.cancel(job.runId)).toBe(true);
      expect(await queue.waitFor(job.runId, 5000)).toMatchObject({ status: 'cancelled' });
    });

    it('answers cancel with false for unknown and finished runs', async () => {
      const ex = controllableExecutor({ autoMs: 0 });
      const queue = await setup(ex);
      expect(await queue.cancel('run_that_never_was')).toBe(false);
      const job = makeJob();
      await queue.enqueue(job);
      await queue.waitFor(job.runId, 5000);
      expect(await queue.cancel(job.runId)).toBe(false);
    });

    it('runs many jobs concurrently without exceeding the concurrency limit', async () => {
      const ex = controllableExecutor({ autoMs: 3 });
      const queue = await setup(ex, 3);
      const jobs = Array.from({ length: 40 }, () => makeJob());
      await Promise.all(jobs.map((job) => queue.enqueue(job)));
      const records = await Promise.all(jobs.map((job) => queue.waitFor(job.runId, 20_000)));
      expect(records.map((r) => r?.status)).toEqual(jobs.map(() => 'succeeded'));
      expect(new Set(ex.started).size).toBe(40);
      expect(ex.maxInFlight).toBe(3);
    });

    it('starts runs in the order they were queued', async () => {
      const ex = controllableExecutor();
      const queue = await setup(ex, 1);
      const jobs = Array.from({ length: 5 }, () => makeJob());
      for (const job of jobs) await queue.enqueue(job);
      for (const job of jobs) {
        await until(() => ex.started.includes(job.runId));
        ex.finish(job.runId);
      }
      await queue.waitFor(jobs.at(-1)!.runId, 5000);
      expect(ex.started).toEqual(jobs.map((job) => job.runId));
    });

    it('stops gracefully: in-flight runs finish within the grace period, nothing new is taken', async () => {
      const ex = controllableExecutor();
      const queue = await setup(ex);
      const job = makeJob();
      await queue.enqueue(job);
      await until(() => ex.started.includes(job.runId));
      const stopping = queue.stop({ graceMs: 10_000 });
      await expect(queue.enqueue(makeJob())).rejects.toMatchObject({ code: 'QUEUE_STOPPED' });
      setTimeout(() => ex.finish(job.runId), 30);
      await stopping;
      expect(await queue.waitFor(job.runId, 1000)).toMatchObject({ status: 'succeeded' });
    });

    it('aborts in-flight runs that outlast the grace period', async () => {
      const ex = controllableExecutor();
      const queue = await setup(ex);
      const jobs = [makeJob(), makeJob()];
      for (const job of jobs) await queue.enqueue(job);
      await until(() => ex.inFlight === 2);
      await queue.stop({ graceMs: 30 });
      expect(ex.inFlight).toBe(0);
      for (const job of jobs)
        expect(await queue.waitFor(job.runId, 1000)).toMatchObject({ status: 'cancelled' });
    });

    it('refuses a job without ids and a run id that is already queued', async () => {
      const ex = controllableExecutor();
      const queue = await setup(ex);
      await expect(queue.enqueue({ runId: 'x' } as RunJob)).rejects.toMatchObject({ code: 'INVALID_JOB' });
      const job = makeJob();
      await queue.enqueue(job);
      await expect(queue.enqueue(job)).rejects.toMatchObject({ code: 'DUPLICATE_RUN' });
    });
  });
}
