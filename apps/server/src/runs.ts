// Runs (SPEC §11): POST …/runs records a queued run, hands its ids to the run queue and waits
// up to waitMs for it to finish — 200 with the finished record, else 202 with the record as it
// stands. The queue's execute loads the flow, the project's settings for the environment and
// the project's redactor, and runs the flow; the runner saves records through the store.
// The in-process queue and a PostgreSQL queue both fit behind RunQueue, so the API does not
// change when runs move to workers.
import { randomUUID } from 'node:crypto';
import { isoNow, type Runner, type RunRecord, type RunSink } from '@flowsafe/runner';
import type { Flow, Page, Project, Setting, Store, StoredRun } from '@flowsafe/store';
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
  /** the project's secrets and redactor (PostgreSQL mode: a fresh snapshot per run) */
  secrets: Pick<ProjectSecrets, 'entry'> & {
    entry(projectId: string, runId?: string, fingerprint?: string): ReturnType<ProjectSecrets['entry']>;
  };
  runner: Pick<Runner, 'run'>;
  /** PostgreSQL mode: the queued record, the flow, the settings and the secrets' fingerprint in one read */
  context?(job: RunJob, preloaded?: unknown): Promise<RunContextLike>;
}

export interface RunContextLike {
  run?: StoredRun;
  flow?: Flow;
  settings: Setting[];
  secretsFingerprint?: string;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Where runs are executed by other processes (PostgreSQL mode), the run service stores the
 *  queued record with its input before enqueueing, and never shows the stored input. */
export interface DistributedRuns {
  /** the project's redactor, applied to the input before it is stored */
  redactor(projectId: string): Promise<{ redactJson<T>(value: T): T }>;
  store: Store;
  /** stores the queued record and enqueues its job in one round trip (else save, then enqueue) */
  enqueue?(stored: StoredRun, job: RunJob): Promise<void>;
  /** called with the project of each run this process starts (for the queue's lookup) */
  started?(runId: string, projectId: string): void;
  settled?(runId: string): void;
}

function withoutInput(run: StoredRun): StoredRun {
  if (!('input' in run)) return run;
  const { input: _input, ...rest } = run;
  return rest;
}

/**
 * The queue's execute: ids in, a finished record out. Inputs of runs started by this process
 * are handed over in memory (`inputs`); the queue payload holds ids only.
 */
export function createRunExecutor(deps: RunExecutorDeps, inputs: Map<string, Record<string, unknown>>) {
  return async (job: RunJob, signal: AbortSignal, preloaded?: unknown): Promise<RunRecord> => {
    const { store } = deps;
    // preloaded: the queue read the context with the run's lease (PostgreSQL mode)
    const context = deps.context ? await deps.context(job, preloaded) : undefined;
    // read only (queuedAt, input, actor): the live record needs no copy
    const stored = context
      ? context.run
      : (deps.records.peek(job.projectId, job.runId) ?? (await deps.records.get(job.projectId, job.runId)));
    const flow = context ? context.flow : await store.flows.get(job.projectId, job.flowId);
    const queuedAt = stored?.queuedAt ?? new Date().toISOString();
    // in memory when this process started the run; in the stored record when another did
    const input =
      inputs.get(job.runId) ??
      (isPlainObject(stored?.input) ? (stored.input as Record<string, unknown>) : undefined);
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
    const entry = await deps.secrets.entry(job.projectId, job.runId, context?.secretsFingerprint);
    const settings = resolveSettings(
      context ? context.settings : await store.settings.list(job.projectId),
      job.environment,
    );
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
  distributed?: DistributedRuns,
): RunService {
  const current = async (projectId: string, runId: string): Promise<StoredRun> => {
    const run = await records.get(projectId, runId);
    if (!run) throw new ServerError('RUN_NOT_FOUND', 'run not found in this project');
    return withoutInput(run);
  };

  return {
    async start({ project, flowId, environment, input, waitMs, actor }) {
      const run: StoredRun = {
        id: randomUUID(),
        projectId: project.id,
        flowId,
        environment,
        status: 'queued',
        queuedAt: isoNow(),
        steps: [],
        actor,
      };
      const job = {
        runId: run.id,
        workspaceId: project.workspaceId,
        projectId: project.id,
        flowId,
        environment,
      };
      if (distributed) {
        // a worker elsewhere reads the record (and its input) from the database
        const stored =
          input === undefined
            ? run
            : { ...run, input: (await distributed.redactor(project.id)).redactJson(input) };
        if (!distributed.enqueue) await distributed.store.runs.save(stored);
        distributed.started?.(run.id, project.id);
        try {
          if (distributed.enqueue) await distributed.enqueue(stored, job);
          else await queue.enqueue(job);
        } catch (err) {
          await distributed.store.runs
            .save({
              ...run,
              status: 'failed',
              error: { code: 'QUEUE_UNAVAILABLE', message: 'the run could not be queued; start it again' },
            })
            .catch(() => undefined);
          distributed.settled?.(run.id);
          throw err;
        }
      } else {
        records.track(run);
        if (input !== undefined) inputs.set(run.id, input);
        await queue.enqueue(job);
      }
      try {
        const done = waitMs > 0 ? await queue.waitFor(run.id, waitMs) : undefined;
        if (done && FINAL_STATUSES.has(done.status)) return { finished: true, record: toStored(done) };
        const now = await current(project.id, run.id);
        return { finished: FINAL_STATUSES.has(now.status), record: now };
      } finally {
        distributed?.settled?.(run.id);
      }
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

    async get(projectId, runId) {
      const run = await records.get(projectId, runId);
      return run && withoutInput(run);
    },
    async list(projectId, opts) {
      const page = await records.list(projectId, opts);
      return { ...page, items: page.items.map(withoutInput) };
    },

    async stop(graceMs) {
      await queue.stop({ graceMs });
      await records.flushAll();
    },
  };
}
