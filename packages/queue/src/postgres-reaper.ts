// The reaper: what Graphile Worker does not do for a worker that died mid-run. Every queue
// process runs it every few seconds; a session advisory lock lets one of them work at a time.
// It finds runs whose worker is gone and settles each in its own transaction:
//   - a lease whose heartbeat is older than lostAfter (the worker process died or lost the
//     database for that long),
//   - a job locked longer than lostAfter that never got a lease (died right after locking it),
//   - a job Graphile gave up on (attempts exhausted after the task threw).
// Settling uses Graphile's documented admin functions: force_unlock_workers (the job becomes
// available again, and Graphile retries it if attempts remain) or complete_jobs (no attempts
// left: the job is removed). The public jobs view has no payload, so the ids of a job that
// never got a lease are read from graphile_worker._private_jobs (read only, never written).
// onLost runs inside the transaction, so when it fails nothing is
// committed and the next pass tries again: a run is never left `running` and never lost.
import type pg from 'pg';
import type { RunnerLogger } from '@flowsafe/runner';
import { DONE_CHANNEL, LEASES_TABLE, TASK_IDENTIFIER } from './postgres-leases';
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

  /** Unlocks (attempts left) or removes (none left) a job locked by a dead worker. */
  const release = async (client: pg.PoolClient, row: JobRow): Promise<boolean> => {
    if (row.locked_by !== null) {
      await client.query('SELECT graphile_worker.force_unlock_workers($1::text[])', [[row.locked_by]]);
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
        const gone = await client.query(
          `DELETE FROM ${LEASES_TABLE} WHERE run_id = $1 AND job_id = $2::bigint AND heartbeat_at < now() - $3::interval`,
          [lease.run_id, lease.job_id, lostAfter],
        );
        if (gone.rowCount === 0 || !job) return undefined; // it came back to life, or is not ours
        const row = await jobRow(client, lease.job_id);
        if (!row) {
          // the job is gone (its task ended but could not drop the lease): the run is over
          return { job, info: { retrying: false, attempts: 0, reason: 'heartbeat-lost' } };
        }
        if (row.locked_by !== null && row.locked_by !== lease.worker_id) return undefined; // retried elsewhere
        const retrying = await release(client, row);
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
       LIMIT ${BATCH}`,
      [lostAfter],
    );
    let settled = 0;
    for (const { id } of rows) {
      const done = await settle(client, async () => {
        const check = await client.query<JobRow>(
          `SELECT j.id::text AS id, j.locked_by, j.attempts, j.max_attempts, j.payload FROM graphile_worker._private_jobs j
           WHERE j.id = $1::bigint AND j.locked_at < now() - $2::interval
             AND NOT EXISTS (SELECT 1 FROM ${LEASES_TABLE} l WHERE l.job_id = j.id)`,
          [id, lostAfter],
        );
        const row = check.rows[0];
        const job = row && options.parseJob(row.payload);
        if (!row || !job) return undefined;
        const retrying = await release(client, row);
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
