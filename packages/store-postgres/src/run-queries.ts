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
//     stored, optionally with the run's buffered `secret.use` audit rows (appendAudit writes
//     such rows in one multi-row INSERT when they cannot wait for the final record).
import type { Pool } from 'pg';
import type { AuditEvent, Flow, Setting, StoredRun } from '@flowsafe/store';
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
  /** runContext's read as SQL to send with other work (the run queue's lease); one row */
  runContextStatement(projectId: string, runId: string, flowId: string): { sql: string; params: unknown[] };
  /** the RunContext of that row */
  parseRunContext(row: Record<string, unknown>): RunContext;
  queuedRunStatement(run: StoredRun): QueuedRunStatement;
  /**
   * The save of a finished record as a statement to send with other work (the run queue's
   * lease release and notification): the same upsert as runs.save, returning one row only
   * when this record was stored (the first final record wins). Parameters are $1…$n.
   */
  finalRunStatement(run: StoredRun, audit?: readonly AuditEvent[]): FinalRunStatement;
  /** Several audit events (complete, with id and at) in one multi-row INSERT. */
  appendAudit(events: readonly AuditEvent[]): Promise<void>;
}

/** finalRunStatement's answer: `with` holds the audit rows' INSERT as a CTE (same parameters). */
export interface FinalRunStatement {
  sql: string;
  params: unknown[];
  with?: string;
}

const AUDIT_COLUMNS =
  'id, at, workspace_id, project_id, actor, action, secret, environment, flow_id, run_id, details';
const AUDIT_TYPES = [
  'text',
  'timestamptz',
  'text',
  'text',
  'text',
  'text',
  'text',
  'text',
  'text',
  'text',
  'jsonb',
];

/** The audit rows as 11 arrays (one per column) for unnest. */
function auditArrays(events: readonly AuditEvent[]): unknown[][] {
  return [
    events.map((e) => e.id),
    events.map((e) => e.at),
    events.map((e) => e.workspaceId),
    events.map((e) => e.projectId ?? null),
    events.map((e) => e.actor),
    events.map((e) => e.action),
    events.map((e) => e.secret ?? null),
    events.map((e) => e.environment ?? null),
    events.map((e) => e.flowId ?? null),
    events.map((e) => e.runId ?? null),
    events.map((e) => (e.details ? JSON.stringify(e.details) : null)),
  ];
}

/** INSERT … SELECT FROM unnest($offset+1 … $offset+11) */
function auditInsert(offset: number): string {
  const args = AUDIT_TYPES.map((type, i) => `$${offset + i + 1}::${type}[]`).join(', ');
  // an event written twice (a retried statement that had committed) is kept once
  return `INSERT INTO audit_events (${AUDIT_COLUMNS}) SELECT * FROM unnest(${args}) ON CONFLICT (id) DO NOTHING`;
}

/** Audit retention, as often as audit.append trims (1 in 100 events); $1 workspace, $2 kept. */
const TRIM_AUDIT = `DELETE FROM audit_events WHERE workspace_id = $1 AND seq <= (
   SELECT seq FROM audit_events WHERE workspace_id = $1 ORDER BY seq DESC OFFSET $2 LIMIT 1)`;

/** runContext's read as a statement ($1 project, $2 run, $3 flow) answering one row. */
function runContextStatement(
  projectId: string,
  runId: string,
  flowId: string,
): { sql: string; params: unknown[] } {
  return {
    sql: `SELECT
           (SELECT row_to_json(r) FROM runs r WHERE r.project_id = $1 AND r.id = $2) AS run,
           (SELECT row_to_json(f) FROM flows f WHERE f.project_id = $1 AND f.id = $3) AS flow,
           (SELECT coalesce(json_agg(s ORDER BY s.name), '[]'::json) FROM settings s WHERE s.project_id = $1) AS settings,
           (SELECT count(*) || ':' || coalesce(md5(string_agg(id || '@' || updated_at::text, ',' ORDER BY id)), '')
              FROM secrets WHERE project_id = $1) AS secrets`,
    params: [projectId, runId, flowId],
  };
}

/** The RunContext of a row of runContextStatement. */
function parseRunContext(input: Record<string, unknown>): RunContext {
  const row = input as { run: Json | null; flow: Json | null; settings: Json[]; secrets: string };
  const run = withDates(row.run, ['queued_at', 'started_at']);
  const flow = withDates(row.flow, ['created_at', 'updated_at']);
  const out: RunContext = {
    settings: row.settings.map((s) => toSetting(withDates(s, ['created_at', 'updated_at'])!)),
    secretsFingerprint: row.secrets,
  };
  if (run) out.run = toRun(run);
  if (flow) out.flow = toFlow(flow);
  return out;
}

export function runQueries(pool: Pool, retention: number, auditRetention: number): RunQueries {
  let sinceTrim = 0;
  return {
    async runContext(projectId, runId, flowId) {
      const statement = runContextStatement(projectId, runId, flowId);
      const result = await pool.query<Json>(statement.sql, statement.params);
      return parseRunContext(result.rows[0]!);
    },

    runContextStatement,
    parseRunContext,

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

    finalRunStatement(run, audit = []) {
      const sql = `${UPSERT_RUN} RETURNING 1 AS applied`;
      const params = runParams(run);
      if (audit.length === 0) return { sql, params };
      const trims = [...new Set(audit.map((e) => e.workspaceId))].filter(
        () => Math.random() < 0.01 * audit.length,
      );
      const ctes = [`flowsafe_audit AS (${auditInsert(params.length)})`];
      params.push(...auditArrays(audit));
      for (const workspaceId of trims) {
        const n = params.length;
        ctes.push(
          `flowsafe_trim_${n} AS (${TRIM_AUDIT.replace(/\$([12])/g, (_, i: string) => (i === '1' ? `$${n + 1}::text` : `$${n + 2}::int`))})`,
        );
        params.push(workspaceId, auditRetention);
      }
      return { sql, params, with: ctes.join(', ') };
    },

    async appendAudit(events) {
      if (events.length === 0) return;
      await pool.query(auditInsert(0), auditArrays(events));
      for (const workspaceId of new Set(events.map((e) => e.workspaceId))) {
        if (Math.random() < 0.01 * events.length) await pool.query(TRIM_AUDIT, [workspaceId, auditRetention]);
      }
    },
  };
}
