// The reaper: what Graphile Worker does not do for a worker that died mid-run. Every queue
// process runs it every few seconds; a session advisory lock lets one of them work at a time.
// It finds runs whose worker is gone and settles each in its own transaction:
//   - a lease whose heartbeat is older than lostAfter (the worker process died or lost the
//     database for that long),
//   - a job locked longer than lostAfter that never got a lease (died right after locking it),
//   - a job Graphile gave up on (attempts exhausted after the task threw).
// Graphile Worker 0.17 locks jobs in the name of a worker pool (one per process), so a job is
// only ever unlocked when its pool's row in flowsafe_queue_pools is missing or older than
// lostAfter: a live pool finishes its jobs or returns them itself (local queue TTL, graceful
// stop). Settling uses Graphile's documented admin functions: force_unlock_workers (the
// pool's jobs become available again, and Graphile retries one if attempts remain),
// reschedule_jobs (a job that never got a lease never started: it gets one more attempt, so
// runs waiting in a dead pool's local queue run elsewhere instead of failing) or complete_jobs
// (no attempts left: the job is removed). The public jobs view has no payload, so the ids of
// a job that never got a lease are read from graphile_worker._private_jobs (read only).
// onLost runs inside the transaction, so when it fails nothing is
// committed and the next pass tries again: a run is never left `running` and never lost.
import type pg from 'pg';
import type { RunnerLogger } from '@flowsafe/runner';
import { DONE_CHANNEL, LEASES_TABLE, POOLS_TABLE, TASK_IDENTIFIER } from './postgres-leases';
import type { RunJob } from './types';

export interface LostInfo {
  /** true: Graphile will run the job again (attempts remain); false: the run is over */
  retrying: boolean;
  /** attempts made so far (Graphile's count) */
  attempts: number;
  /** why the reaper took the run over */
  reason: 'heartbeat-lost' | 'never-leased' | 'attempts-exhausted';
}

export type OnLost = (job: RunJob, info: LostInfo) => Promise<void>;

export interface ReaperOptions {
  pool: pg.Pool;
  lostAfterMs: number;
  onLost?: OnLost;
  /** turns a stored payload back into a RunJob; undefined if it is not one */
  parseJob(payload: unknown): RunJob | undefined;
  logger?: RunnerLogger;
}

// any constant works: it only has to be the same in every flowsafe process
const REAPER_LOCK = 0x666c6f77_0002;
const BATCH = 100;
// a never-started job gets its attempt back at most up to this many attempts in all
const MAX_ATTEMPTS_GIVEN_BACK = 250;

interface JobRow {
  id: string;
  locked_by: string | null;
  attempts: number;
  max_attempts: number;
  payload: unknown;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Creates the reaper; reapOnce() settles what it finds and answers how many runs it settled. */
export function createReaper(options: ReaperOptions) {
  const { pool, lostAfterMs, logger } = options;
  const lostAfter = `${Math.max(1, Math.floor(lostAfterMs))} milliseconds`;

  /** Runs `work` in a transaction; commits only if it (and onLost inside it) succeeded. */
  const settle = async (
    client: pg.PoolClient,
    work: () => Promise<{ job: RunJob; info: LostInfo } | undefined>,
  ): Promise<boolean> => {
    await client.query('BEGIN');
    try {
      const lost = await work();
      if (lost) {
        await options.onLost?.(lost.job, lost.info);
        if (!lost.info.retrying)
          await client.query(`SELECT pg_notify('${DONE_CHANNEL}', $1)`, [lost.job.runId]);
      }
      await client.query('COMMIT');
      return lost !== undefined;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      logger?.error({ err: messageOf(err) }, 'could not settle a lost run; will try again');
      return false;
    }
  };

  /** Whether the worker pool that locked a job still refreshes its row. */
  const poolAlive = async (client: pg.PoolClient, poolId: string): Promise<boolean> => {
    const result = await client.query(
      `SELECT 1 FROM ${POOLS_TABLE} WHERE pool_id = $1 AND heartbeat_at >= now() - $2::interval`,
      [poolId, lostAfter],
    );
    return (result.rowCount ?? 0) > 0;
  };

  /**
   * Unlocks every job of a dead pool. Those without a lease never started (they waited in the
   * pool's local queue, or it died between locking and leasing): each gets its attempt back.
   * Their attempts stay counted (> 1 on the next try), so the retry still asks whether the run
   * finished — a job also lacks a lease when it finished just before its pool died. Answers
   * the ids given an attempt back. `started`: a job known to have started (its lease is gone).
   */
  const unlockPool = async (
    client: pg.PoolClient,
    poolId: string,
    started?: string,
  ): Promise<Set<string>> => {
    const { rows } = await client.query<{ id: string; next: number }>(
      `SELECT j.id::text AS id, greatest(j.max_attempts, j.attempts) + 1 AS next
       FROM graphile_worker._private_jobs j
       WHERE j.locked_by = $1 AND j.id IS DISTINCT FROM $2::bigint
         AND greatest(j.max_attempts, j.attempts) < ${MAX_ATTEMPTS_GIVEN_BACK}
         AND NOT EXISTS (SELECT 1 FROM ${LEASES_TABLE} l WHERE l.job_id = j.id)`,
      [poolId, started ?? null],
    );
    await client.query('SELECT graphile_worker.force_unlock_workers($1::text[])', [[poolId]]);
    const byNext = new Map<number, string[]>();
    for (const row of rows) byNext.set(row.next, [...(byNext.get(row.next) ?? []), row.id]);
    for (const [next, ids] of byNext) {
      await client.query(
        'SELECT id FROM graphile_worker.reschedule_jobs($1::bigint[], max_attempts := $2::int)',
        [ids, next],
      );
    }
    await client.query(
      `DELETE FROM ${POOLS_TABLE} WHERE pool_id = $1 AND heartbeat_at < now() - $2::interval`,
      [poolId, lostAfter],
    );
    return new Set(rows.map((row) => row.id));
  };

  /**
   * Unlocks the jobs of the dead pool that held `row`; then its job is retried (attempts left,
   * or never started) or removed (none left). Answers whether it will run again.
   */
  const release = async (client: pg.PoolClient, row: JobRow, started: boolean): Promise<boolean> => {
    if (row.locked_by !== null) {
      const givenBack = await unlockPool(client, row.locked_by, started ? row.id : undefined);
      if (givenBack.has(row.id)) return true;
    }
    if (row.attempts < row.max_attempts) return true;
    await client.query('SELECT graphile_worker.complete_jobs($1::bigint[])', [[row.id]]);
    return false;
  };

  const jobRow = async (client: pg.PoolClient, jobId: string): Promise<JobRow | undefined> => {
    const result = await client.query<JobRow>(
      `SELECT id::text AS id, locked_by, attempts, max_attempts, payload
       FROM graphile_worker._private_jobs WHERE id = $1::bigint`,
      [jobId],
    );
    return result.rows[0];
  };

  const staleLeases = async (client: pg.PoolClient): Promise<number> => {
    const { rows } = await client.query<{ run_id: string; job_id: string; worker_id: string; job: unknown }>(
      `SELECT run_id, job_id::text AS job_id, worker_id, job FROM ${LEASES_TABLE}
       WHERE heartbeat_at < now() - $1::interval ORDER BY heartbeat_at LIMIT ${BATCH}`,
      [lostAfter],
    );
    let settled = 0;
    for (const lease of rows) {
      const job = options.parseJob(lease.job);
      const done = await settle(client, async () => {
        const row = await jobRow(client, lease.job_id);
        // a live pool still holds the job (its task ended without dropping the lease): the pool
        // completes or fails the job itself, and the lease is settled once it has
        if (row?.locked_by != null && (await poolAlive(client, row.locked_by))) return undefined;
        const gone = await client.query(
          `DELETE FROM ${LEASES_TABLE} WHERE run_id = $1 AND job_id = $2::bigint AND heartbeat_at < now() - $3::interval`,
          [lease.run_id, lease.job_id, lostAfter],
        );
        if (gone.rowCount === 0 || !job) return undefined; // it came back to life, or is not ours
        if (!row) {
          // the job is gone (its task ended but could not drop the lease): the run is over
          return { job, info: { retrying: false, attempts: 0, reason: 'heartbeat-lost' } };
        }
        if (row.locked_by !== null && row.locked_by !== lease.worker_id) return undefined; // retried elsewhere
        const retrying = await release(client, row, true);
        return { job, info: { retrying, attempts: row.attempts, reason: 'heartbeat-lost' } };
      });
      if (done) settled += 1;
    }
    return settled;
  };

  const neverLeased = async (client: pg.PoolClient): Promise<number> => {
    const { rows } = await client.query<{ id: string }>(
      `SELECT j.id::text AS id FROM graphile_worker.jobs j
       WHERE j.task_identifier = '${TASK_IDENTIFIER}' AND j.locked_at < now() - $1::interval
         AND NOT EXISTS (SELECT 1 FROM ${LEASES_TABLE} l WHERE l.job_id = j.id)
         AND NOT EXISTS (SELECT 1 FROM ${POOLS_TABLE} p
                         WHERE p.pool_id = j.locked_by AND p.heartbeat_at >= now() - $1::interval)
       LIMIT ${BATCH}`,
      [lostAfter],
    );
    let settled = 0;
    for (const { id } of rows) {
      const done = await settle(client, async () => {
        const check = await client.query<JobRow>(
          `SELECT j.id::text AS id, j.locked_by, j.attempts, j.max_attempts, j.payload FROM graphile_worker._private_jobs j
           WHERE j.id = $1::bigint AND j.locked_at < now() - $2::interval
             AND NOT EXISTS (SELECT 1 FROM ${LEASES_TABLE} l WHERE l.job_id = j.id)
             AND NOT EXISTS (SELECT 1 FROM ${POOLS_TABLE} p
                             WHERE p.pool_id = j.locked_by AND p.heartbeat_at >= now() - $2::interval)`,
          [id, lostAfter],
        );
        const row = check.rows[0];
        const job = row && options.parseJob(row.payload);
        if (!row || !job) return undefined;
        const retrying = await release(client, row, false);
        return { job, info: { retrying, attempts: row.attempts, reason: 'never-leased' } };
      });
      if (done) settled += 1;
    }
    return settled;
  };

  const exhausted = async (client: pg.PoolClient): Promise<number> => {
    const { rows } = await client.query<{ id: string }>(
      `SELECT id::text AS id FROM graphile_worker.jobs
       WHERE task_identifier = '${TASK_IDENTIFIER}' AND locked_at IS NULL AND attempts >= max_attempts
       LIMIT ${BATCH}`,
    );
    let settled = 0;
    for (const { id } of rows) {
      const done = await settle(client, async () => {
        const removed = await client.query<JobRow>(
          `SELECT id::text AS id, locked_by, attempts, max_attempts, payload
           FROM graphile_worker.complete_jobs($1::bigint[]) WHERE attempts >= max_attempts`,
          [[id]],
        );
        const row = removed.rows[0];
        const job = row && options.parseJob(row.payload);
        if (!row || !job) return undefined;
        return { job, info: { retrying: false, attempts: row.attempts, reason: 'attempts-exhausted' } };
      });
      if (done) settled += 1;
    }
    return settled;
  };

  return {
    async reapOnce(): Promise<number> {
      const client = await pool.connect();
      let broken: Error | undefined;
      try {
        const lock = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1) AS ok', [
          REAPER_LOCK,
        ]);
        if (!lock.rows[0]?.ok) return 0;
        try {
          return (await staleLeases(client)) + (await neverLeased(client)) + (await exhausted(client));
        } finally {
          await client.query('SELECT pg_advisory_unlock($1)', [REAPER_LOCK]);
        }
      } catch (err) {
        broken = err instanceof Error ? err : new Error(String(err));
        throw err;
      } finally {
        // a broken connection is destroyed, which also drops a session lock it may still hold
        client.release(broken ?? false);
      }
    },
  };
}
