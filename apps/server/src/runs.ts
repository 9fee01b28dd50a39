// Runs (SPEC §11): POST …/runs records a queued run, hands its ids to the run queue and waits
// up to waitMs for it to finish — 200 with the finished record, else 202 with the record as it
// stands. The queue's execute loads the flow, the project's settings for the environment and
// the project's redactor, and runs the flow; the runner saves records through the store.
// The in-process queue and a PostgreSQL queue both fit behind RunQueue, so the API does not
// change when runs move to workers.
import { randomUUID } from 'node:crypto';
import type { Runner, RunRecord, RunSink } from '@flowsafe/runner';
import type { Page, Project, Setting, Store, StoredRun } from '@flowsafe/store';
import { ServerError } from './errors';
import type { ProjectSecrets } from './project-secrets';
import { FINAL_STATUSES, type RunRecords } from './run-records';

/** What the server needs of a run queue (packages/queue). */
export interface RunQueueLike {
  enqueue(job: RunJob): Promise<unknown>;
  waitFor(runId: string, ms: number): Promise<RunRecord | undefined>;
  cancel(runId: string): Promise<boolean>;
  start(): Promise<void>;
  stop(opts?: { graceMs?: number }): Promise<void>;
}

export interface RunJob {
  runId: string;
  workspaceId: string;
  projectId: string;
  flowId: string;
  environment: string;
}

export const DEFAULT_WAIT_MS = 30_000;

export interface StartRunInput {
  project: Project;
  flowId: string;
  environment: string;
  input?: Record<string, unknown>;
  waitMs: number;
  actor: string;
}

export interface RunService {
  start(input: StartRunInput): Promise<{ finished: boolean; record: StoredRun }>;
  cancel(project: Project, runId: string): Promise<StoredRun>;
  get(projectId: string, runId: string): Promise<StoredRun | undefined>;
  list(
    projectId: string,
    opts: { flowId?: string; limit: number; cursor?: string },
  ): Promise<Page<StoredRun>>;
  stop(graceMs: number): Promise<void>;
}

/** The record sink the runner writes through (in-flight snapshots stay in memory). */
export function recordsSink(records: RunRecords): RunSink {
  return { save: (record) => records.save(toStored(record)) };
}

export function toStored(record: RunRecord): StoredRun {
  const out: StoredRun = {
    id: record.id,
    projectId: record.projectId,
    flowId: record.flowId,
    environment: record.environment,
    status: record.status,
    queuedAt: record.queuedAt,
    steps: record.steps,
  };
  if (record.startedAt !== undefined) out.startedAt = record.startedAt;
  if (record.durationMs !== undefined) out.durationMs = record.durationMs;
  if (record.output !== undefined) out.output = record.output;
  if (record.error !== undefined) out.error = record.error;
  if (record.actor !== undefined) out.actor = record.actor;
  return out;
}

/** Settings of a project resolved for one environment: the override, else the default. */
export function resolveSettings(settings: Setting[], environment: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const s of settings) {
    const v = s.values[environment] ?? s.values.default;
    if (v !== undefined) out[s.name] = v;
  }
  return out;
}

export interface RunExecutorDeps {
  store: Store;
  records: RunRecords;
  secrets: ProjectSecrets;
  runner: Pick<Runner, 'run'>;
}

/**
 * The queue's execute: ids in, a finished record out. Inputs of runs started by this process
 * are handed over in memory (`inputs`); the queue payload holds ids only.
 */
export function createRunExecutor(deps: RunExecutorDeps, inputs: Map<string, Record<string, unknown>>) {
  return async (job: RunJob, signal: AbortSignal): Promise<RunRecord> => {
    const { store } = deps;
    const stored = await deps.records.get(job.projectId, job.runId);
    const flow = await store.flows.get(job.projectId, job.flowId);
    const queuedAt = stored?.queuedAt ?? new Date().toISOString();
    const input = inputs.get(job.runId);
    inputs.delete(job.runId);
    if (!flow) {
      const failed: RunRecord = {
        id: job.runId,
        flowId: job.flowId,
        projectId: job.projectId,
        environment: job.environment,
        status: 'failed',
        queuedAt,
        steps: [],
        error: { code: 'FLOW_NOT_FOUND', message: 'the flow was deleted before the run started' },
        ...(stored?.actor !== undefined ? { actor: stored.actor } : {}),
      };
      await deps.records.finish(toStored(failed));
      return failed;
    }
    const entry = await deps.secrets.entry(job.projectId);
    const settings = resolveSettings(await store.settings.list(job.projectId), job.environment);
    return deps.runner.run({
      definition: flow.definition as never,
      run: {
        runId: job.runId,
        flowId: job.flowId,
        projectId: job.projectId,
        workspaceId: job.workspaceId,
        environment: job.environment,
        ...(stored?.actor !== undefined ? { actor: stored.actor } : {}),
      },
      ...(input !== undefined ? { input } : {}),
      settings,
      redactor: entry.redactor.child(),
      signal,
      queuedAt,
    });
  };
}

/** The run service over a queue (whose execute is createRunExecutor's). */
export function createRunService(
  records: RunRecords,
  queue: RunQueueLike,
  inputs: Map<string, Record<string, unknown>>,
): RunService {
  const current = async (projectId: string, runId: string): Promise<StoredRun> => {
    const run = await records.get(projectId, runId);
    if (!run) throw new ServerError('RUN_NOT_FOUND', 'run not found in this project');
    return run;
  };

  return {
    async start({ project, flowId, environment, input, waitMs, actor }) {
      const run: StoredRun = {
        id: randomUUID(),
        projectId: project.id,
        flowId,
        environment,
        status: 'queued',
        queuedAt: new Date().toISOString(),
        steps: [],
        actor,
      };
      records.track(run);
      if (input !== undefined) inputs.set(run.id, input);
      await queue.enqueue({
        runId: run.id,
        workspaceId: project.workspaceId,
        projectId: project.id,
        flowId,
        environment,
      });
      const done = waitMs > 0 ? await queue.waitFor(run.id, waitMs) : undefined;
      if (done && FINAL_STATUSES.has(done.status)) return { finished: true, record: toStored(done) };
      const now = await current(project.id, run.id);
      return { finished: FINAL_STATUSES.has(now.status), record: now };
    },

    async cancel(project, runId) {
      const run = await current(project.id, runId);
      if (FINAL_STATUSES.has(run.status)) {
        throw new ServerError(
          'RUN_NOT_CANCELLABLE',
          `run ${run.id} already ${run.status}; only queued or running runs can be cancelled`,
        );
      }
      const known = await queue.cancel(run.id);
      if (known) await queue.waitFor(run.id, 5_000);
      const now = await current(project.id, run.id);
      if (FINAL_STATUSES.has(now.status)) return now;
      // The queue does not hold it (a run left over from a previous process) or did not
      // record the cancellation: record it here so no run stays queued forever.
      const cancelled: StoredRun = {
        ...now,
        status: 'cancelled',
        error: { code: 'CANCELLED', message: 'the run was cancelled' },
      };
      await records.finish(cancelled);
      inputs.delete(run.id);
      return cancelled;
    },

    get: (projectId, runId) => records.get(projectId, runId),
    list: (projectId, opts) => records.list(projectId, opts),

    async stop(graceMs) {
      await queue.stop({ graceMs });
      await records.flushAll();
    },
  };
}
