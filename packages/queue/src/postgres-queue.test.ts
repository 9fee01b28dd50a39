import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import type { RunRecord } from '@flowsafe/runner';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestPostgres, type TestPostgres } from '../../../test/utils/postgres';
import {
  createPostgresQueue,
  type LostInfo,
  type PostgresQueue,
  type PostgresQueueOptions,
} from './postgres-queue';
import {
  controllableExecutor,
  describeRunQueueContract,
  makeJob,
  recordOf,
  until,
} from './run-queue-contract';
import type { RunJob } from './types';

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '../../..');
const childScript = path.join(here, 'postgres-worker-child.ts');

let server: TestPostgres;
let contractUrl: string;

beforeAll(async () => {
  server = await startTestPostgres();
  contractUrl = server.url;
});

afterAll(async () => {
  await server?.stop();
});

async function sql<T extends pg.QueryResultRow>(
  url: string,
  text: string,
  values: unknown[] = [],
): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(text, values)).rows;
  } finally {
    await client.end();
  }
}

async function untilAsync(check: () => Promise<boolean>, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describeRunQueueContract('postgres (Graphile Worker)', async (opts) => {
  // the store the server would have: execute and cancel write records, lookup reads them
  const store = new Map<string, RunRecord>();
  const queue = createPostgresQueue({
    connectionString: contractUrl,
    role: 'both',
    concurrency: opts.concurrency,
    pollIntervalMs: 200,
    execute: async (job, signal) => {
      const record = await opts.execute(job, signal);
      store.set(job.runId, record);
      return record;
    },
    lookup: async (runId) => store.get(runId),
    onCancelledWhileQueued: async (job) => {
      await opts.onCancelledWhileQueued(job);
      store.set(job.runId, recordOf(job, 'cancelled'));
    },
  });
  return {
    queue,
    close: async () => {
      await queue.close();
      // jobs a test left queued must not run in the next test's queue
      await sql(contractUrl, 'DELETE FROM graphile_worker._private_jobs; DELETE FROM flowsafe_run_leases');
    },
  };
});

describe('postgres queue', () => {
  const queues: PostgresQueue[] = [];
  const children: ChildProcess[] = [];
  let url: string;

  beforeAll(async () => {
    url = await server.createDatabase();
  });

  afterEach(async () => {
    for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
    await Promise.all(queues.splice(0).map((queue) => queue.close()));
    await sql(
      url,
      'DELETE FROM graphile_worker._private_jobs; DELETE FROM flowsafe_run_leases; DELETE FROM flowsafe_queue_pools',
    ).catch(() => undefined);
  });

  async function open(
    options: Partial<PostgresQueueOptions> & Pick<PostgresQueueOptions, 'role'>,
  ): Promise<PostgresQueue> {
    const queue = createPostgresQueue({
      connectionString: url,
      lookup: async () => undefined,
      pollIntervalMs: 200,
      ...options,
    });
    queues.push(queue);
    await queue.start();
    return queue;
  }

  /** a real worker process (postgres-worker-child.ts) whose runs never end */
  async function startChildWorker(lostAfterMs: number) {
    const child = spawn(process.execPath, ['--import', 'tsx', childScript, url, String(lostAfterMs)], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    children.push(child);
    const started: string[] = [];
    let ready = false;
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (line === 'ready') ready = true;
      else if (line.startsWith('started ')) started.push(line.slice('started '.length));
    });
    await until(() => ready || child.exitCode !== null, 20_000);
    expect(child.exitCode).toBeNull();
    return { child, started };
  }

  async function kill(child: ChildProcess): Promise<void> {
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    await exited;
  }

  it('a worker killed with SIGKILL mid-run: onLost within lostAfterMs, no retry without retries', async () => {
    const lostAfterMs = 1500;
    const lost: { job: RunJob; info: LostInfo }[] = [];
    const api = await open({
      role: 'api',
      lostAfterMs,
      onLost: async (job, info) => {
        lost.push({ job, info });
      },
    });
    const { child, started } = await startChildWorker(lostAfterMs);
    const job = makeJob();
    await api.enqueue(job);
    await until(() => started.includes(job.runId), 10_000);
    const leases = await sql<{ run_id: string }>(url, 'SELECT run_id FROM flowsafe_run_leases');
    expect(leases.map((row) => row.run_id)).toEqual([job.runId]);

    await kill(child);
    const killedAt = Date.now();
    // a live worker in this process must not pick the run up again
    const ex = controllableExecutor({ autoMs: 0 });
    await open({ role: 'worker', execute: ex.execute, lostAfterMs });
    await until(() => lost.length > 0, lostAfterMs + 5000);
    console.log(`worker lost -> onLost after ${Date.now() - killedAt} ms (lostAfterMs ${lostAfterMs})`);
    expect(lost).toEqual([{ job, info: { retrying: false, attempts: 1, reason: 'heartbeat-lost' } }]);
    expect(await sql(url, 'SELECT id FROM graphile_worker.jobs')).toEqual([]);
    expect(await sql(url, 'SELECT run_id FROM flowsafe_run_leases')).toEqual([]);
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(ex.started).toEqual([]);
    expect(lost).toHaveLength(1);
  });

  it('a worker killed with SIGKILL mid-run: a run with retries=1 is retried once elsewhere', async () => {
    const lostAfterMs = 1500;
    const lost: { job: RunJob; info: LostInfo }[] = [];
    const store = new Map<string, RunRecord>();
    const api = await open({
      role: 'api',
      lostAfterMs,
      retriesFor: () => 1,
      lookup: async (runId) => store.get(runId),
      onLost: async (job, info) => {
        lost.push({ job, info });
      },
    });
    const { child, started } = await startChildWorker(lostAfterMs);
    const job = makeJob();
    await api.enqueue(job);
    await until(() => started.includes(job.runId), 10_000);
    await kill(child);

    const ex = controllableExecutor({ autoMs: 0 });
    await open({
      role: 'worker',
      lostAfterMs,
      lookup: async (runId) => store.get(runId),
      execute: async (run, signal) => {
        const record = await ex.execute(run, signal);
        store.set(run.runId, record);
        return record;
      },
    });
    expect(await api.waitFor(job.runId, lostAfterMs + 10_000)).toMatchObject({
      id: job.runId,
      status: 'succeeded',
    });
    expect(lost).toEqual([{ job, info: { retrying: true, attempts: 1, reason: 'heartbeat-lost' } }]);
    expect(ex.started).toEqual([job.runId]);
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(ex.started).toEqual([job.runId]);
    expect(await sql(url, 'SELECT id FROM graphile_worker.jobs')).toEqual([]);
  });

  it('a job locked by a worker that died before taking its lease is settled too: it never started, so it runs elsewhere', async () => {
    const lostAfterMs = 600;
    const lost: { job: RunJob; info: LostInfo }[] = [];
    const api = await open({
      role: 'api',
      lostAfterMs,
      onLost: async (job, info) => {
        lost.push({ job, info });
      },
    });
    const job = makeJob();
    await api.enqueue(job);
    // what a worker pool does in Graphile's get_job, right before it would have died
    await sql(
      url,
      `UPDATE graphile_worker._private_jobs SET locked_at = now(), locked_by = 'dead-worker', attempts = attempts + 1`,
    );
    await until(() => lost.length > 0, lostAfterMs + 5000);
    expect(lost).toEqual([{ job, info: { retrying: true, attempts: 1, reason: 'never-leased' } }]);
    expect(
      await sql(url, 'SELECT attempts, max_attempts, locked_by FROM graphile_worker._private_jobs'),
    ).toEqual([{ attempts: 1, max_attempts: 2, locked_by: null }]);
    const ex = controllableExecutor({ autoMs: 0 });
    await open({ role: 'worker', execute: ex.execute, lostAfterMs });
    await until(() => ex.started.includes(job.runId), 5000);
    await untilAsync(async () => (await sql(url, 'SELECT id FROM graphile_worker.jobs')).length === 0, 5000);
    expect(ex.started).toEqual([job.runId]);
    expect(lost).toHaveLength(1);
  });

  it('a job locked by a live worker pool is never taken from it, however long it waits', async () => {
    const lostAfterMs = 600;
    const lost: RunJob[] = [];
    const api = await open({
      role: 'api',
      lostAfterMs,
      onLost: async (job) => {
        lost.push(job);
      },
    });
    const job = makeJob();
    await api.enqueue(job);
    // a pool that heartbeats holds the job (in its local queue, say)
    await sql(
      url,
      `UPDATE graphile_worker._private_jobs SET locked_at = now() - interval '1 hour', locked_by = 'live-pool', attempts = 1;
       INSERT INTO flowsafe_queue_pools (pool_id, heartbeat_at) VALUES ('live-pool', now() + interval '1 hour')`,
    );
    await api.reapNow();
    await new Promise((resolve) => setTimeout(resolve, lostAfterMs));
    await api.reapNow();
    expect(lost).toEqual([]);
    expect(await sql(url, 'SELECT locked_by FROM graphile_worker._private_jobs')).toEqual([
      { locked_by: 'live-pool' },
    ]);
    await sql(url, `DELETE FROM flowsafe_queue_pools WHERE pool_id = 'live-pool'`);
  });

  it('a worker killed with SIGKILL: its running runs are lost, the runs waiting in its local queue run elsewhere', async () => {
    const lostAfterMs = 1500;
    const lost: { job: RunJob; info: LostInfo }[] = [];
    const api = await open({
      role: 'api',
      lostAfterMs,
      onLost: async (job, info) => {
        lost.push({ job, info });
      },
    });
    const { child, started } = await startChildWorker(lostAfterMs);
    // the child runs 2 at a time (never ending) and fetches more into its local queue
    const jobs = [makeJob(), makeJob(), makeJob(), makeJob()];
    for (const job of jobs) await api.enqueue(job);
    await until(() => started.length === 2, 10_000);
    await untilAsync(
      async () =>
        (await sql(url, 'SELECT id FROM graphile_worker.jobs WHERE locked_by IS NOT NULL')).length >= 3,
      10_000,
    );
    await kill(child);
    const ex = controllableExecutor({ autoMs: 0 });
    await open({ role: 'worker', execute: ex.execute, lostAfterMs, concurrency: 4 });
    const waiting = jobs.map((job) => job.runId).filter((id) => !started.includes(id));
    await until(() => lost.length === 2 && ex.started.length === 2, lostAfterMs + 10_000);
    expect(lost.map((l) => l.job.runId).sort()).toEqual([...started].sort());
    expect(lost.map((l) => l.info)).toEqual([
      { retrying: false, attempts: 1, reason: 'heartbeat-lost' },
      { retrying: false, attempts: 1, reason: 'heartbeat-lost' },
    ]);
    expect([...ex.started].sort()).toEqual([...waiting].sort());
    await untilAsync(async () => (await sql(url, 'SELECT id FROM graphile_worker.jobs')).length === 0, 5000);
  });

  it('a worker stopping gracefully returns the runs waiting in its local queue', async () => {
    const ex = controllableExecutor();
    const api = await open({ role: 'api' });
    const jobs = [makeJob(), makeJob(), makeJob()];
    for (const job of jobs) await api.enqueue(job);
    // opened after the enqueues, so its first fetch takes all three (one runs, two wait locally)
    const worker = await open({ role: 'worker', execute: ex.execute, concurrency: 1, localQueueSize: 3 });
    await until(() => ex.started.length === 1, 5000);
    await untilAsync(
      async () =>
        (await sql(url, 'SELECT id FROM graphile_worker.jobs WHERE locked_by IS NOT NULL')).length === 3,
      5000,
    );
    const stopped = worker.stop({ graceMs: 5000 });
    ex.finish(ex.started[0]!);
    await stopped;
    const left = await sql<{ locked_by: string | null; attempts: number }>(
      url,
      'SELECT locked_by, attempts FROM graphile_worker.jobs',
    );
    expect(left).toEqual([
      { locked_by: null, attempts: 0 },
      { locked_by: null, attempts: 0 },
    ]);
    expect(await sql(url, 'SELECT pool_id FROM flowsafe_queue_pools')).toEqual([]);
    expect(ex.started).toHaveLength(1);
  });

  it('a failing onLost is retried on the next pass, so the run is not left running', async () => {
    const lostAfterMs = 600;
    let failures = 1;
    const lost: RunJob[] = [];
    const api = await open({
      role: 'api',
      lostAfterMs,
      onLost: async (job) => {
        if (failures-- > 0) throw new Error('store unreachable');
        lost.push(job);
      },
    });
    const job = makeJob();
    await api.enqueue(job);
    await sql(
      url,
      `UPDATE graphile_worker._private_jobs SET locked_at = now(), locked_by = 'dead-worker', attempts = attempts + 1`,
    );
    await until(() => lost.length > 0, lostAfterMs + 5000);
    expect(lost).toEqual([job]);
    expect(failures).toBe(-1);
  });

  it('finalStatement: the record, the lease release and the notification in one statement; waitFor answers from the notification, or looks up the record that won', async () => {
    await sql(
      url,
      'CREATE TABLE IF NOT EXISTS final_records (run_id text PRIMARY KEY, record json NOT NULL)',
    );
    const lookups: string[] = [];
    const api = await open({
      role: 'api',
      lookup: async (runId) => {
        lookups.push(runId);
        const rows = await sql<{ record: RunRecord }>(
          url,
          'SELECT record FROM final_records WHERE run_id = $1',
          [runId],
        );
        return rows[0]?.record;
      },
    });
    const big = 'x'.repeat(9000);
    await open({
      role: 'worker',
      execute: async (job) => ({
        ...recordOf(job, 'succeeded'),
        output: job.flowId === 'big' ? big : { ok: job.runId },
      }),
      finalStatement: (record) => ({
        sql: 'INSERT INTO final_records (run_id, record) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING 1',
        params: [record.id, JSON.stringify(record)],
      }),
    });

    // stored by this worker: the notification carries it, no lookup
    const fresh = makeJob();
    await api.enqueue(fresh);
    const done = await api.waitFor(fresh.runId, 10_000);
    expect(done).toMatchObject({ id: fresh.runId, status: 'succeeded', output: { ok: fresh.runId } });
    expect(lookups).toEqual([]);
    const stored = await sql<{ record: RunRecord }>(
      url,
      'SELECT record FROM final_records WHERE run_id = $1',
      [fresh.runId],
    );
    expect(stored[0]?.record).toEqual(done);
    expect(await sql(url, 'SELECT run_id FROM flowsafe_run_leases')).toEqual([]);

    // another final record was stored first: it wins, and waitFor looks it up
    const settled = makeJob();
    const winner = { ...recordOf(settled, 'failed'), error: { code: 'WORKER_LOST', message: 'lost' } };
    await sql(url, 'INSERT INTO final_records (run_id, record) VALUES ($1, $2)', [
      settled.runId,
      JSON.stringify(winner),
    ]);
    await api.enqueue(settled);
    expect(await api.waitFor(settled.runId, 10_000)).toEqual(winner);
    expect(lookups).toContain(settled.runId);

    // a record too large for a notification: ids only, then a lookup
    const large = makeJob({ flowId: 'big' });
    await api.enqueue(large);
    const answered = await api.waitFor(large.runId, 10_000);
    expect(answered).toMatchObject({ id: large.runId, status: 'succeeded', output: big });
    expect(lookups).toContain(large.runId);
  });

  it('leaseStatement: its row is read in the statement that takes the lease and handed to execute', async () => {
    const seen: unknown[] = [];
    await open({
      role: 'worker',
      execute: async (job, _signal, preloaded) => {
        seen.push(preloaded);
        const leases = await sql<{ run_id: string }>(url, 'SELECT run_id FROM flowsafe_run_leases');
        seen.push(leases.map((l) => l.run_id));
        return recordOf(job, 'succeeded');
      },
      leaseStatement: (job) => ({ sql: 'SELECT $1::text AS run, $2::int AS n', params: [job.runId, 7] }),
    });
    const api = await open({ role: 'api' });
    const job = makeJob();
    await api.enqueue(job);
    await until(() => seen.length === 2, 10_000);
    expect(seen).toEqual([{ run: job.runId, n: 7 }, [job.runId]]);
  });

  it('cancel reaches a run running in another queue instance', async () => {
    const store = new Map<string, RunRecord>();
    const lookup = async (runId: string) => store.get(runId);
    const api = await open({ role: 'api', lookup });
    const ex = controllableExecutor();
    await open({
      role: 'worker',
      lookup,
      execute: async (job, signal) => {
        const record = await ex.execute(job, signal);
        store.set(job.runId, record);
        return record;
      },
    });
    const job = makeJob();
    await api.enqueue(job);
    await until(() => ex.started.includes(job.runId));
    const waiting = api.waitFor(job.runId, 10_000);
    expect(await api.cancel(job.runId)).toBe(true);
    expect(await waiting).toMatchObject({ id: job.runId, status: 'cancelled' });
    expect(ex.inFlight).toBe(0);
    expect(await api.cancel(job.runId)).toBe(false);
  });

  it('waitFor in a worker process (which does not listen for "finished" notifications) reads the store', async () => {
    const store = new Map<string, RunRecord>();
    const lookup = async (runId: string) => store.get(runId);
    const worker = await open({
      role: 'worker',
      lookup,
      execute: async (job) => {
        const record = recordOf(job, 'succeeded');
        store.set(job.runId, record);
        return record;
      },
    });
    const job = makeJob();
    const waiting = worker.waitFor(job.runId, 10_000);
    await worker.enqueue(job);
    expect(await waiting).toMatchObject({ id: job.runId, status: 'succeeded' });
    expect(await worker.waitFor(makeJob().runId, 300)).toBeUndefined();
  });

  it('cancel of a queued run from an API process removes the job', async () => {
    const cancelled: RunJob[] = [];
    const api = await open({
      role: 'api',
      onCancelledWhileQueued: async (job) => {
        cancelled.push(job);
      },
    });
    const job = makeJob();
    await api.enqueue(job);
    expect(await api.cancel(job.runId)).toBe(true);
    expect(cancelled).toEqual([job]);
    expect(await sql(url, 'SELECT id FROM graphile_worker.jobs')).toEqual([]);
  });

  it('keeps ids only in the graphile_worker jobs table', async () => {
    const api = await open({ role: 'api' });
    const job = makeJob();
    await api.enqueue({ ...job, input: { token: 'canary-not-for-the-queue' } } as RunJob);
    const rows = await sql<{ payload: unknown; key: string }>(
      url,
      'SELECT j.payload, j.key FROM graphile_worker._private_jobs j JOIN graphile_worker._private_tasks t ON t.id = j.task_id WHERE t.identifier = $1',
      ['flowsafe_run'],
    );
    expect(rows).toEqual([{ payload: job, key: job.runId }]);
    expect(JSON.stringify(rows)).not.toContain('canary');
  });

  it('reports healthy while the database answers', async () => {
    const ex = controllableExecutor({ autoMs: 0 });
    const queue = await open({ role: 'both', execute: ex.execute });
    expect(queue.healthy()).toBe(true);
    await queue.stop({ graceMs: 0 });
    expect(queue.healthy()).toBe(false);
  });

  it('survives its database connections being killed and takes runs again', async () => {
    const store = new Map<string, RunRecord>();
    const warnings: string[] = [];
    const queue = await open({
      role: 'both',
      lookup: async (runId) => store.get(runId),
      onLost: async () => undefined,
      execute: async (job) => {
        const record = recordOf(job, 'succeeded');
        store.set(job.runId, record);
        return record;
      },
      logger: { warn: (_obj, msg) => warnings.push(msg ?? ''), error: () => undefined },
    });
    const first = makeJob();
    await queue.enqueue(first);
    expect(await queue.waitFor(first.runId, 5000)).toMatchObject({ status: 'succeeded' });

    const database = new URL(url).pathname.slice(1);
    const killed = await sql<{ pid: number }>(
      server.adminUrl,
      `WITH victims AS MATERIALIZED (SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid())
       SELECT pid FROM victims WHERE pg_terminate_backend(pid)`,
      [database],
    );
    expect(killed.length).toBeGreaterThan(0);
    await until(() => warnings.some((msg) => msg.includes('LISTEN connection lost')), 5000);
    await until(() => queue.healthy(), 10_000);

    const second = makeJob();
    await queue.enqueue(second);
    expect(await queue.waitFor(second.runId, 10_000)).toMatchObject({ status: 'succeeded' });
    expect(queue.healthy()).toBe(true);
  });

  it('pickup latency from enqueue to execute (printed, not asserted)', async () => {
    const store = new Map<string, RunRecord>();
    const startedAt = new Map<string, number>();
    const api = await open({ role: 'api', lookup: async (runId) => store.get(runId) });
    await open({
      role: 'worker',
      concurrency: 4,
      lookup: async (runId) => store.get(runId),
      execute: async (job) => {
        startedAt.set(job.runId, performance.now());
        const record = recordOf(job, 'succeeded');
        store.set(job.runId, record);
        return record;
      },
    });
    const latencies: number[] = [];
    const roundTrips: number[] = [];
    for (let i = 0; i < 60; i += 1) {
      const job = makeJob();
      const t0 = performance.now();
      await api.enqueue(job);
      const record = await api.waitFor(job.runId, 5000);
      expect(record).toMatchObject({ status: 'succeeded' });
      if (i >= 10) {
        latencies.push(startedAt.get(job.runId)! - t0);
        roundTrips.push(performance.now() - t0);
      }
    }
    const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
    console.log(
      `pickup p50 ${median(latencies).toFixed(1)} ms, enqueue→waitFor p50 ${median(roundTrips).toFixed(1)} ms (${latencies.length} runs)`,
    );
  });
});
