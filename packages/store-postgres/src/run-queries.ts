// Reads and writes of PostgreSQL mode's hot path, each one round trip (issue 16's throughput):
//   - runContext: what a worker needs to start a run — the queued record (with its input),
//     the flow, the project's settings and a fingerprint of its secrets — in one statement
//     instead of four;
//   - queuedRunStatement: the INSERT of a queued run as SQL that the run queue sends in the
//     same statement as its enqueue (so the record and the job are committed together), also
//     answering the flow's `retries`. Runs inserted this way count towards retention like
//     runs.save's;
//   - finalRunStatement: the save of a finished record as SQL that the run queue sends with
//     its lease release and "finished" notification (one round trip), telling whether it was
//     stored.
import type { Pool } from 'pg';
import type { Flow, Setting, StoredRun } from '@flowsafe/store';
import { runParams, toFlow, toRun, toSetting, UPSERT_RUN } from './pg-store';

type Json = Record<string, unknown>;

/** row_to_json writes timestamps as text: make them Dates again for the row mappers. */
function withDates(row: Json | null, columns: readonly string[]): Json | null {
  if (!row) return row;
  const out = { ...row };
  for (const c of columns) if (typeof out[c] === 'string') out[c] = new Date(out[c] as string);
  return out;
}

export interface RunContext {
  run?: StoredRun;
  flow?: Flow;
  settings: Setting[];
  /** changes whenever a secret of the project is added, changed or deleted */
  secretsFingerprint: string;
}

/** A statement for the run queue to send alongside its enqueue: parameters are $1…$n. */
export interface QueuedRunStatement {
  sql: string;
  params: unknown[];
  /** call once the statement committed (retention bookkeeping) */
  inserted(): Promise<void>;
}

export interface RunQueries {
  runContext(projectId: string, runId: string, flowId: string): Promise<RunContext>;
  queuedRunStatement(run: StoredRun): QueuedRunStatement;
  /**
   * The save of a finished record as a statement to send with other work (the run queue's
   * lease release and notification): the same upsert as runs.save, returning one row only
   * when this record was stored (the first final record wins). Parameters are $1…$n.
   */
  finalRunStatement(run: StoredRun): { sql: string; params: unknown[] };
}

export function runQueries(pool: Pool, retention: number): RunQueries {
  let sinceTrim = 0;
  return {
    async runContext(projectId, runId, flowId) {
      const result = await pool.query<{
        run: Json | null;
        flow: Json | null;
        settings: Json[];
        secrets: string;
      }>(
        `SELECT
           (SELECT row_to_json(r) FROM runs r WHERE r.project_id = $1 AND r.id = $2) AS run,
           (SELECT row_to_json(f) FROM flows f WHERE f.project_id = $1 AND f.id = $3) AS flow,
           (SELECT coalesce(json_agg(s ORDER BY s.name), '[]'::json) FROM settings s WHERE s.project_id = $1) AS settings,
           (SELECT count(*) || ':' || coalesce(md5(string_agg(id || '@' || updated_at::text, ',' ORDER BY id)), '')
              FROM secrets WHERE project_id = $1) AS secrets`,
        [projectId, runId, flowId],
      );
      const row = result.rows[0]!;
      const run = withDates(row.run, ['queued_at', 'started_at']);
      const flow = withDates(row.flow, ['created_at', 'updated_at']);
      const out: RunContext = {
        settings: row.settings.map((s) => toSetting(withDates(s, ['created_at', 'updated_at'])!)),
        secretsFingerprint: row.secrets,
      };
      if (run) out.run = toRun(run);
      if (flow) out.flow = toFlow(flow);
      return out;
    },

    queuedRunStatement(run) {
      return {
        sql: `INSERT INTO runs (id, project_id, flow_id, environment, status, queued_at, started_at, duration_ms, steps, output, error, actor, input)
              VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
              RETURNING (SELECT CASE WHEN jsonb_typeof(f.definition -> 'retries') = 'number'
                                      AND (f.definition ->> 'retries') ~ '^[0-9]{1,3}$'
                                     THEN (f.definition ->> 'retries')::int ELSE 0 END
                           FROM flows f WHERE f.project_id = $2 AND f.id = $3) AS retries`,
        params: runParams(run),
        async inserted() {
          if (++sinceTrim < 500) return;
          sinceTrim = 0;
          await pool.query(
            `DELETE FROM runs WHERE project_id = $1 AND seq <= (
               SELECT seq FROM runs WHERE project_id = $1 ORDER BY seq DESC OFFSET $2 LIMIT 1)`,
            [run.projectId, retention],
          );
        },
      };
    },

    finalRunStatement(run) {
      return { sql: `${UPSERT_RUN} RETURNING 1 AS applied`, params: runParams(run) };
    },
  };
}
