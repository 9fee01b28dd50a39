// The lease table: Graphile Worker records which worker locked a job, but not whether that
// worker is still alive (it only releases locks after 4 hours). Every running run therefore
// holds a row here that its worker process refreshes every few seconds; a row whose heartbeat
// is older than `lostAfter` belongs to a dead worker, and the reaper takes over from there.
// Graphile Worker 0.17 locks jobs in the name of a worker pool (one per process), also jobs
// fetched into the pool's local queue that no task has started yet; so each worker process
// also refreshes a row of its pool in `flowsafe_queue_pools`, and the reaper unlocks a pool's
// jobs (force_unlock_workers) only when that row is missing or stale: never a live pool's.
// The queue creates these tables itself (idempotently): they are the queue's, not the store's.
import type pg from 'pg';
import type { RunJob } from './types';

export const LEASES_TABLE = 'flowsafe_run_leases';
export const POOLS_TABLE = 'flowsafe_queue_pools';
export const TASK_IDENTIFIER = 'flowsafe_run';
export const DONE_CHANNEL = 'flowsafe_run_done';
export const CANCEL_CHANNEL = 'flowsafe_run_cancel';

// any constant works: it only has to be the same in every flowsafe process
const SETUP_LOCK = 0x666c6f77_0001;

type Queryable = Pick<pg.Pool, 'query'> | Pick<pg.PoolClient, 'query'>;

/** Creates the lease table if it is missing; serialised so concurrent starts do not collide. */
export async function ensureLeaseTable(pool: pg.Pool): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock($1)', [SETUP_LOCK]);
    await client.query(`
      CREATE TABLE IF NOT EXISTS ${LEASES_TABLE} (
        run_id text PRIMARY KEY,
        job_id bigint NOT NULL,
        worker_id text NOT NULL,
        job json NOT NULL,
        heartbeat_at timestamptz NOT NULL DEFAULT now()
      )`);
    await client.query(
      `CREATE INDEX IF NOT EXISTS ${LEASES_TABLE}_heartbeat_idx ON ${LEASES_TABLE} (heartbeat_at)`,
    );
    await client.query(`
      CREATE TABLE IF NOT EXISTS ${POOLS_TABLE} (
        pool_id text PRIMARY KEY,
        heartbeat_at timestamptz NOT NULL DEFAULT now()
      )`);
    await client.query('COMMIT');
    client.release();
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    client.release(err instanceof Error ? err : true);
    throw err;
  }
}

/**
 * Takes (or takes over) the lease of a run and answers the job's current key: Graphile's
 * remove_job clears the key of a locked job, so a key that is no longer the run id means the
 * run was cancelled between being locked and being leased.
 */
export async function takeLease(
  db: Queryable,
  lease: { job: RunJob; jobId: string; workerId: string },
  /** a read (a SELECT returning one row, parameters $1…$n) sent in the same statement */
  read?: { sql: string; params: unknown[] },
): Promise<{ key: string | null; row?: Record<string, unknown> }> {
  const n = read?.params.length ?? 0;
  const upsert = `INSERT INTO ${LEASES_TABLE} (run_id, job_id, worker_id, job, heartbeat_at)
     VALUES ($${n + 1}, $${n + 2}, $${n + 3}, $${n + 4}, now())
     ON CONFLICT (run_id) DO UPDATE
       SET job_id = excluded.job_id, worker_id = excluded.worker_id, job = excluded.job, heartbeat_at = now()
     RETURNING (SELECT key FROM graphile_worker._private_jobs WHERE id = $${n + 2}::bigint) AS flowsafe_key`;
  const params = [
    ...(read?.params ?? []),
    lease.job.runId,
    lease.jobId,
    lease.workerId,
    JSON.stringify(lease.job),
  ];
  if (!read) {
    const result = await db.query<{ flowsafe_key: string | null }>(upsert, params);
    return { key: result.rows[0]?.flowsafe_key ?? null };
  }
  const result = await db.query<Record<string, unknown> & { flowsafe_key: string | null }>(
    `WITH lease AS (${upsert}), preloaded AS (${read.sql})
     SELECT lease.flowsafe_key, preloaded.* FROM lease LEFT JOIN preloaded ON true`,
    params,
  );
  const row = result.rows[0];
  if (!row) return { key: null };
  const { flowsafe_key: key, ...rest } = row;
  return { key: key ?? null, row: rest };
}

/** Drops the lease of a finished run and tells every API process that it finished. */
export async function releaseLease(db: Queryable, runId: string, jobId: string): Promise<void> {
  await db.query(
    `WITH gone AS (DELETE FROM ${LEASES_TABLE} WHERE run_id = $1 AND job_id = $2::bigint)
     SELECT pg_notify('${DONE_CHANNEL}', $1)`,
    [runId, jobId],
  );
}

/** Longest NOTIFY payload we send (PostgreSQL's limit is 8000 bytes). */
export const MAX_NOTIFY_BYTES = 7900;

/**
 * Saves a run's final record (`save`: a statement returning a row only when it stored the
 * record, with more data-modifying CTEs in `save.with` if any), drops its lease and announces it, in one statement (one round trip, one
 * transaction). The announcement carries `payload` (the run id, a space and the finished
 * record) only when this record was stored; otherwise just the run id, so listeners look up
 * the record that won. Answers whether the record was stored.
 */
export async function finishRun(
  db: Queryable,
  lease: { runId: string; jobId: string },
  save: { sql: string; params: unknown[]; with?: string },
  payload: string,
): Promise<boolean> {
  const n = save.params.length;
  const result = await db.query<{ applied: boolean }>(
    `WITH ${save.with ? `${save.with},` : ''} saved AS (${save.sql}),
          gone AS (DELETE FROM ${LEASES_TABLE} WHERE run_id = $${n + 1}::text AND job_id = $${n + 2}::bigint),
          done AS (SELECT EXISTS (SELECT 1 FROM saved) AS applied)
     SELECT d.applied, pg_notify('${DONE_CHANNEL}', CASE WHEN d.applied THEN $${n + 3}::text ELSE $${n + 1}::text END)
       FROM done d`,
    [...save.params, lease.runId, lease.jobId, payload],
  );
  return result.rows[0]?.applied === true;
}

/** Drops a lease without announcing anything (the run did not finish). */
export async function dropLease(db: Queryable, runId: string, jobId: string): Promise<void> {
  await db.query(`DELETE FROM ${LEASES_TABLE} WHERE run_id = $1 AND job_id = $2::bigint`, [runId, jobId]);
}

/**
 * Refreshes the given leases and, when given, the row of this process's worker pool (in the
 * same statement); answers the run ids whose lease still exists.
 */
export async function heartbeat(
  db: Queryable,
  leases: readonly { runId: string; jobId: string }[],
  poolId?: string,
): Promise<Set<string>> {
  if (leases.length === 0 && poolId === undefined) return new Set();
  const result = await db.query<{ run_id: string }>(
    `WITH pool AS (
       INSERT INTO ${POOLS_TABLE} (pool_id, heartbeat_at) SELECT $3::text, now() WHERE $3::text IS NOT NULL
       ON CONFLICT (pool_id) DO UPDATE SET heartbeat_at = now())
     UPDATE ${LEASES_TABLE} AS l SET heartbeat_at = now()
     FROM unnest($1::text[], $2::bigint[]) AS u(run_id, job_id)
     WHERE l.run_id = u.run_id AND l.job_id = u.job_id
     RETURNING l.run_id`,
    [leases.map((l) => l.runId), leases.map((l) => l.jobId), poolId ?? null],
  );
  return new Set(result.rows.map((row) => row.run_id));
}

/** Forgets a pool that stopped cleanly (its jobs are returned or finished). */
export async function dropPool(db: Queryable, poolId: string): Promise<void> {
  await db.query(`DELETE FROM ${POOLS_TABLE} WHERE pool_id = $1`, [poolId]);
}

/** Whether some worker holds a lease on the run (it is running somewhere). */
export async function hasLease(db: Queryable, runId: string): Promise<boolean> {
  const result = await db.query(`SELECT 1 FROM ${LEASES_TABLE} WHERE run_id = $1`, [runId]);
  return (result.rowCount ?? 0) > 0;
}
