// The run queue contract (SPEC §11). The server enqueues ids and waits; an adapter (in-process
// here, a PostgreSQL job queue elsewhere) decides where and when the run executes. Callers
// never learn which adapter they talk to.
import type { RunRecord } from '@flowsafe/runner';

/** A queued run: ids only, never a secret value, never a rendered request. */
export interface RunJob {
  runId: string;
  workspaceId: string;
  projectId: string;
  flowId: string;
  environment: string;
}

export interface RunQueue {
  /** queues a run; rejects with QueueError QUEUE_STOPPED while stopping, DUPLICATE_RUN for a known run id */
  enqueue(job: RunJob): Promise<void>;
  /** the finished record, or undefined if the run has not finished within `ms` (or is unknown) */
  waitFor(runId: string, ms: number): Promise<RunRecord | undefined>;
  /** queued: removed and marked cancelled; running: its signal aborts. false if the run is unknown or finished */
  cancel(runId: string): Promise<boolean>;
  /** begins taking jobs */
  start(): Promise<void>;
  /** takes nothing new, waits up to graceMs for in-flight runs, then aborts them */
  stop(opts?: { graceMs?: number }): Promise<void>;
}

/** Executes one job (load the flow, build the redactor, call runner.run) and returns its final record. */
/** `preloaded`: the row of the PostgreSQL queue's `leaseStatement`, read with the run's lease */
export type ExecuteJob = (job: RunJob, signal: AbortSignal, preloaded?: unknown) => Promise<RunRecord>;

export const TERMINAL_STATUSES: ReadonlySet<RunRecord['status']> = new Set([
  'succeeded',
  'failed',
  'cancelled',
]);

export function isFinished(record: RunRecord): boolean {
  return TERMINAL_STATUSES.has(record.status);
}
