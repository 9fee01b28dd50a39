// PostgreSQL mode (SPEC §11): runs go through the PostgreSQL queue and may execute in any
// process sharing the database. What that needs beyond the embedded wiring:
//   - secrets are read fresh for each run (another process may have changed them since this
//     one last looked), as a snapshot the run keeps until it ends, so the redactor always knows
//     every value the run can use;
//   - the queue's hooks: lookup (the stored record by run id), onLost (a run whose worker died:
//     failed "worker lost", or back to queued when it will be retried), cancellation of a
//     queued run, and the retries a flow asks for.
import type pg from 'pg';
import type { SecretMeta } from '@flowsafe/api-block';
import type { RunInfo, RunRecord, RunSink } from '@flowsafe/runner';
import type { SecretValue } from '@flowsafe/secrets';
import { randomUUID } from 'node:crypto';
import type { AuditEvent, AuditRepo, Store, StoredRun } from '@flowsafe/store';
import type { LostInfo, RunJob } from '@flowsafe/queue';
import { ProjectSecrets, type ProjectSecretsOptions } from './project-secrets';
import { FINAL_STATUSES, type RunRecords } from './run-records';
import { toStored } from './runs';

type Entry = Awaited<ReturnType<ProjectSecrets['entry']>>;

/**
 * The api-block's secret access and the executor's `entry` over one snapshot of a project's
 * secrets per run: `entry(projectId, runId)` loads it, `release(runId)` forgets it.
 */
export class RunScopedSecrets {
  private readonly runs = new Map<string, ProjectSecrets>();
  /** the last snapshot of each project, reused while the secrets' fingerprint is unchanged */
  private readonly latest = new Map<string, { fingerprint: string; snapshot: ProjectSecrets }>();
  constructor(
    private readonly options: ProjectSecretsOptions,
    /** used for calls outside a run (none expected) */
    private readonly fallback: ProjectSecrets,
    /** one cheap query naming the current state of a project's secrets (ids and update times) */
    private readonly fingerprint?: (projectId: string) => Promise<string>,
  ) {}

  /** `known`: the fingerprint when the caller already read it (with the rest of the run's context) */
  async entry(projectId: string, runId?: string, known?: string): Promise<Entry> {
    if (runId === undefined) return this.fallback.entry(projectId);
    const fingerprint = known ?? (this.fingerprint ? await this.fingerprint(projectId) : undefined);
    const latest = this.latest.get(projectId);
    let snapshot: ProjectSecrets;
    if (fingerprint !== undefined && latest?.fingerprint === fingerprint) snapshot = latest.snapshot;
    else {
      snapshot = new ProjectSecrets(this.options);
      if (fingerprint !== undefined) this.latest.set(projectId, { fingerprint, snapshot });
    }
    this.runs.set(runId, snapshot);
    return snapshot.entry(projectId);
  }

  release(runId: string): void {
    this.runs.delete(runId);
  }

  describe(run: RunInfo, name: string): SecretMeta | undefined {
    return (this.runs.get(run.runId) ?? this.fallback).describe(run, name);
  }

  open(run: RunInfo, name: string): Promise<SecretValue> {
    return (this.runs.get(run.runId) ?? this.fallback).open(run, name);
  }

  /** audits a secret use with the run's snapshot (which knows the secret: no lookup) */
  auditUse(event: Parameters<ProjectSecrets['auditUse']>[0]): Promise<void> {
    return (this.runs.get(event.run.runId) ?? this.fallback).auditUse(event);
  }
}

/**
 * Group commit of a worker's `secret.use` audit rows: an event waits at most `windowMs` in
 * memory; a run that finishes sooner takes its events (`take`) into the statement that stores
 * its final record, and the timer writes whatever is left of every run in one multi-row
 * INSERT. `flush()` on a graceful stop writes the rest. A SIGKILL loses at most the last
 * window's events (see docs/decisions.md).
 */
export class AuditBuffer {
  private readonly pending = new Map<string, AuditEvent[]>();
  private timer: NodeJS.Timeout | undefined;
  private readonly writes = new Set<Promise<void>>();

  constructor(
    private readonly write: (events: readonly AuditEvent[]) => Promise<void>,
    private readonly onError: (err: unknown) => void,
    private readonly windowMs = 20,
  ) {}

  /** The audit repository's append, buffered (keyed by run; events without a run go at once). */
  readonly append = (input: Parameters<AuditRepo['append']>[0]): Promise<AuditEvent> => {
    const event: AuditEvent = { ...input, id: randomUUID(), at: input.at ?? new Date().toISOString() };
    const key = event.runId ?? '';
    const list = this.pending.get(key);
    if (list) list.push(event);
    else this.pending.set(key, [event]);
    this.timer ??= setTimeout(() => void this.flush(), this.windowMs);
    return Promise.resolve(event);
  };

  /** The events of a run still waiting, removed (the caller writes them). */
  take(runId: string): AuditEvent[] {
    const list = this.pending.get(runId) ?? [];
    this.pending.delete(runId);
    return list;
  }

  /** Gives back events a caller took but could not write. */
  putBack(events: readonly AuditEvent[]): void {
    for (const event of events) {
      const key = event.runId ?? '';
      this.pending.set(key, [...(this.pending.get(key) ?? []), event]);
    }
    if (events.length > 0) this.timer ??= setTimeout(() => void this.flush(), this.windowMs);
  }

  /** Writes every waiting event now and waits for every write in flight. */
  async flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const events = [...this.pending.values()].flat();
    this.pending.clear();
    if (events.length > 0) {
      const write = this.write(events)
        .catch((err: unknown) => this.onError(err))
        .finally(() => this.writes.delete(write));
      this.writes.add(write);
    }
    await Promise.allSettled([...this.writes]);
  }
}

/** The store with `audit.append` going through an AuditBuffer (for the run's secret snapshots). */
export function withBufferedAudit(store: Store, buffer: AuditBuffer): Store {
  return { ...store, audit: { ...store.audit, append: buffer.append } };
}

const LOST_MESSAGE = 'the worker running this run stopped before it finished (worker lost)';

export interface QueueHooksOptions {
  store: Store;
  pool: pg.Pool;
  records: RunRecords;
}

/** lookup, onLost, onCancelledWhileQueued and retriesFor for createPostgresQueue. */
export function queueHooks({ store, pool, records }: QueueHooksOptions) {
  // the project of each run this process started (the queue looks runs up by id only)
  const projectOf = new Map<string, string>();

  const findProject = async (runId: string): Promise<string | undefined> => {
    const known = projectOf.get(runId);
    if (known !== undefined) return known;
    const result = await pool.query<{ project_id: string }>('SELECT project_id FROM runs WHERE id = $1', [
      runId,
    ]);
    return result.rows[0]?.project_id;
  };

  return {
    started(runId: string, projectId: string): void {
      projectOf.set(runId, projectId);
    },
    settled(runId: string): void {
      projectOf.delete(runId);
    },

    async lookup(runId: string): Promise<RunRecord | undefined> {
      const projectId = await findProject(runId);
      if (projectId === undefined) return undefined;
      return (await records.get(projectId, runId)) as RunRecord | undefined;
    },

    /** only a record that is not finished changes (the store also refuses to replace a final one) */
    async onLost(job: RunJob, info: LostInfo): Promise<void> {
      const run = await store.runs.get(job.projectId, job.runId);
      if (run && FINAL_STATUSES.has(run.status)) return;
      const base: StoredRun = run ?? {
        id: job.runId,
        projectId: job.projectId,
        flowId: job.flowId,
        environment: job.environment,
        status: 'queued',
        queuedAt: new Date().toISOString(),
        steps: [],
      };
      if (info.retrying) {
        await store.runs.save({ ...base, status: 'queued' });
      } else {
        await store.runs.save({
          ...base,
          status: 'failed',
          error: { code: 'WORKER_LOST', message: LOST_MESSAGE },
        });
      }
    },

    async onCancelledWhileQueued(job: RunJob): Promise<RunRecord | undefined> {
      const run = await records.get(job.projectId, job.runId);
      if (!run || run.status !== 'queued') return undefined;
      const cancelled: StoredRun = {
        ...run,
        status: 'cancelled',
        error: { code: 'CANCELLED', message: 'the run was cancelled before it started' },
      };
      await records.finish(cancelled);
      const { input: _input, ...record } = cancelled;
      return record as unknown as RunRecord;
    },

    async retriesFor(job: RunJob): Promise<number> {
      const flow = await store.flows.get(job.projectId, job.flowId);
      const retries = (flow?.definition as { retries?: unknown } | undefined)?.retries;
      return typeof retries === 'number' && Number.isSafeInteger(retries) && retries > 0 ? retries : 0;
    },
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The runner's sink where the final record must be in the database before the queue is told
 * the run finished. With `queueSaves` the queue itself stores it (in the statement that
 * releases the lease and announces the run); otherwise `settle(record)` waits for its write and, if the database was out of
 * reach, saves it again with backoff (up to `retryMs`); it throws only when that fails too,
 * so the queue retries the job or the reaper settles the run.
 */
export function durableSink(records: RunRecords, store: Store, retryMs = 30_000, queueSaves = false) {
  const finals = new Map<string, Promise<void>>();
  const sink: RunSink = {
    save(record) {
      const stored = toStored(record);
      // queueSaves: the queue stores the final record with its lease release (finalStatement)
      if (FINAL_STATUSES.has(stored.status) && queueSaves) records.forget(record.id);
      else if (FINAL_STATUSES.has(stored.status)) finals.set(record.id, records.finish(stored));
      else records.track(stored);
      return Promise.resolve();
    },
  };
  return {
    sink,
    async settle(record: RunRecord): Promise<void> {
      if (queueSaves) return;
      const pending = finals.get(record.id);
      finals.delete(record.id);
      try {
        if (!pending) throw new Error('the final record was not written');
        await pending;
        return;
      } catch {
        // written again below
      }
      const deadline = Date.now() + retryMs;
      let wait = 100;
      for (;;) {
        try {
          await store.runs.save(toStored(record));
          return;
        } catch (err) {
          if (Date.now() + wait > deadline) throw err;
          await sleep(wait);
          wait = Math.min(wait * 2, 2000);
        }
      }
    },
  };
}

/** The fingerprint of a project's secrets in PostgreSQL: every id with its update time. */
export function secretsFingerprint(pool: pg.Pool) {
  return async (projectId: string): Promise<string> => {
    const result = await pool.query<{ f: string | null }>(
      `SELECT count(*) || ':' || coalesce(md5(string_agg(id || '@' || updated_at::text, ',' ORDER BY id)), '') AS f
         FROM secrets WHERE project_id = $1`,
      [projectId],
    );
    return result.rows[0]?.f ?? '';
  };
}
