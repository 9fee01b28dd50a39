import type { RunRecord } from '@flowsafe/runner';
import { afterEach, describe, expect, it } from 'vitest';
import { createInProcessQueue, type InProcessQueue } from './in-process-queue';
import {
  controllableExecutor,
  describeRunQueueContract,
  makeJob,
  recordOf,
  until,
} from './run-queue-contract';
import type { RunJob } from './types';

describeRunQueueContract('in-process', async (opts) => {
  const queue = createInProcessQueue(opts);
  return { queue, close: async () => undefined };
});

describe('in-process queue', () => {
  let queue: InProcessQueue | undefined;
  afterEach(async () => {
    await queue?.stop({ graceMs: 0 });
    queue = undefined;
  });

  it('holds jobs until start()', async () => {
    const ex = controllableExecutor({ autoMs: 0 });
    queue = createInProcessQueue({ execute: ex.execute });
    const job = makeJob();
    await queue.enqueue(job);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(ex.started).toEqual([]);
    expect(queue.stats()).toMatchObject({ queued: 1, running: 0 });
    await queue.start();
    expect(await queue.waitFor(job.runId, 5000)).toMatchObject({ status: 'succeeded' });
  });

  it('passes execute the ids and nothing else', async () => {
    const ex = controllableExecutor({ autoMs: 0 });
    queue = createInProcessQueue({ execute: ex.execute });
    await queue.start();
    const job = makeJob();
    await queue.enqueue({ ...job, input: { token: 'not-for-the-queue' } } as RunJob);
    await queue.waitFor(job.runId, 5000);
    expect(ex.jobs).toEqual([job]);
  });

  it('keeps a bounded map of finished records and falls back to lookup', async () => {
    const ex = controllableExecutor({ autoMs: 0 });
    const looked: string[] = [];
    const stored = new Map<string, RunRecord>();
    queue = createInProcessQueue({
      execute: async (job, signal) => {
        const record = await ex.execute(job, signal);
        stored.set(job.runId, { ...record, output: 'from store' });
        return record;
      },
      recentLimit: 2,
      lookup: async (runId) => {
        looked.push(runId);
        return stored.get(runId);
      },
    });
    await queue.start();
    const jobs = [makeJob(), makeJob(), makeJob()];
    for (const job of jobs) {
      await queue.enqueue(job);
      await queue.waitFor(job.runId, 5000);
    }
    expect(queue.stats().recent).toBe(2);
    expect(await queue.waitFor(jobs[2]!.runId, 0)).toMatchObject({ status: 'succeeded' });
    expect(looked).toEqual([]);
    expect(await queue.waitFor(jobs[0]!.runId, 0)).toMatchObject({
      status: 'succeeded',
      output: 'from store',
    });
    expect(looked).toEqual([jobs[0]!.runId]);
  });

  it('does not answer waitFor with an unfinished record from lookup', async () => {
    queue = createInProcessQueue({
      execute: async (job) => recordOf(job, 'succeeded'),
      lookup: async (runId) => ({ ...recordOf(makeJob({ runId }), 'running') }),
    });
    await queue.start();
    expect(await queue.waitFor('run_elsewhere', 20)).toBeUndefined();
  });

  it('turns an execute that throws into a failed record without its message', async () => {
    const logged: unknown[] = [];
    queue = createInProcessQueue({
      execute: async () => {
        throw new Error('connection string postgres://user:hunter2-secret@db');
      },
      logger: { warn: () => undefined, error: (obj) => logged.push(obj) },
    });
    await queue.start();
    const job = makeJob();
    await queue.enqueue(job);
    const record = await queue.waitFor(job.runId, 5000);
    expect(record).toMatchObject({
      id: job.runId,
      flowId: job.flowId,
      status: 'failed',
      error: { code: 'EXECUTE_FAILED', message: 'the run could not be executed' },
    });
    expect(JSON.stringify(record)).not.toContain('hunter2');
    expect(logged).toHaveLength(1);
  });

  it('uses the record onCancelledWhileQueued returns', async () => {
    const ex = controllableExecutor();
    queue = createInProcessQueue({
      execute: ex.execute,
      concurrency: 1,
      onCancelledWhileQueued: async (job) => ({ ...recordOf(job, 'cancelled'), output: 'stored record' }),
    });
    await queue.start();
    const [first, second] = [makeJob(), makeJob()];
    await queue.enqueue(first);
    await queue.enqueue(second);
    await queue.cancel(second.runId);
    expect(await queue.waitFor(second.runId, 0)).toMatchObject({
      status: 'cancelled',
      output: 'stored record',
    });
  });

  it('cancels jobs that never started when it stops, unless told to keep them', async () => {
    const ex = controllableExecutor();
    const cancelled: string[] = [];
    queue = createInProcessQueue({
      execute: ex.execute,
      concurrency: 1,
      onCancelledWhileQueued: async (job) => {
        cancelled.push(job.runId);
      },
    });
    await queue.start();
    const jobs = [makeJob(), makeJob(), makeJob()];
    for (const job of jobs) await queue.enqueue(job);
    await until(() => ex.started.length === 1);
    await queue.stop({ graceMs: 0, cancelQueued: false });
    expect(queue.stats()).toMatchObject({ queued: 2, running: 0 });
    expect(cancelled).toEqual([]);

    await queue.start();
    await until(() => ex.started.length === 2);
    await queue.stop({ graceMs: 0 });
    expect(cancelled).toEqual([jobs[2]!.runId]);
    expect(await queue.waitFor(jobs[2]!.runId, 0)).toMatchObject({
      status: 'cancelled',
      error: { code: 'CANCELLED' },
    });
    expect(ex.started).toEqual([jobs[0]!.runId, jobs[1]!.runId]);
  });

  it('refuses a bad concurrency', () => {
    expect(() =>
      createInProcessQueue({ execute: async (job) => recordOf(job, 'succeeded'), concurrency: 0 }),
    ).toThrow(/concurrency/);
  });
});
