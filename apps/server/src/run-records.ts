// Run records of runs in flight. A run's intermediate snapshots (queued, running) live in
// memory and reach the store only if the run is still going after `flushMs`; a run that ends
// quickly — most of them — costs one append to its project's run log instead of three. The
// final record is handed to the store at once and served from memory until the store has it,
// so answering a run does not wait behind the other appends to the same log (at concurrency
// 16 that wait doubled the latency of a run). Shutdown waits for every pending write.
import type { Page, Store, StoredRun } from '@flowsafe/store';

export const FINAL_STATUSES: ReadonlySet<string> = new Set(['succeeded', 'failed', 'cancelled']);

interface Live {
  record: StoredRun;
  /** the final record is being written */
  final?: boolean;
  /** the store holds this run (some snapshot of it) */
  flushed: boolean;
  timer?: NodeJS.Timeout;
}

export class RunRecords {
  private readonly live = new Map<string, Live>();
  private readonly writes = new Set<Promise<void>>();

  constructor(
    private readonly store: Store,
    private readonly onError: (err: unknown, record: StoredRun) => void = () => undefined,
    private readonly flushMs = 250,
    /** this process executes every run (the in-process queue): a stored run that is neither
     *  finished nor in memory was left by an earlier process and is reported failed */
    private readonly orphansFail = true,
  ) {}

  /** A snapshot of a run in flight (queued or running). */
  track(record: StoredRun): void {
    let live = this.live.get(record.id);
    if (live) live.record = record;
    else {
      live = { record, flushed: false };
      this.live.set(record.id, live);
    }
    if (!live.timer) {
      live.timer = setTimeout(() => {
        this.flush(record.id).catch(() => undefined);
      }, this.flushMs);
      live.timer.unref();
    }
  }

  /** The final record: handed to the store now; resolves once it is written. */
  finish(record: StoredRun): Promise<void> {
    let live = this.live.get(record.id);
    if (live?.timer) clearTimeout(live.timer);
    if (live) {
      delete live.timer;
      live.record = record;
      live.final = true;
    } else {
      live = { record, flushed: false, final: true };
      this.live.set(record.id, live);
    }
    const entry = live;
    const write = this.store.runs.save(record).finally(() => {
      if (this.live.get(record.id) === entry) this.live.delete(record.id);
      this.writes.delete(write);
    });
    this.writes.add(write);
    return write;
  }

  /** Drops a run from memory without writing it (its final record is saved elsewhere). */
  forget(runId: string): void {
    const live = this.live.get(runId);
    if (!live || live.final) return;
    if (live.timer) clearTimeout(live.timer);
    this.live.delete(runId);
  }

  /** Save any record (the runner's sink): final ones are written without waiting for the disk. */
  save(record: StoredRun): Promise<void> {
    if (FINAL_STATUSES.has(record.status)) {
      this.finish(record).catch((err: unknown) => this.onError(err, record));
    } else {
      this.track(record);
    }
    return Promise.resolve();
  }

  /** The in-memory record of a run in flight, not copied: read it, never change it. */
  peek(projectId: string, runId: string): Readonly<StoredRun> | undefined {
    const live = this.live.get(runId);
    return live && live.record.projectId === projectId ? live.record : undefined;
  }

  async get(projectId: string, runId: string): Promise<StoredRun | undefined> {
    const live = this.live.get(runId);
    if (live && live.record.projectId === projectId) return structuredClone(live.record);
    const stored = await this.store.runs.get(projectId, runId);
    return stored && this.settleOrphan(stored);
  }

  /** Newest first; runs in flight that the store does not hold yet head the first page. */
  async list(
    projectId: string,
    opts: { flowId?: string; limit: number; cursor?: string },
  ): Promise<Page<StoredRun>> {
    const pending: StoredRun[] = [];
    const fresher = new Map<string, StoredRun>();
    for (const live of this.live.values()) {
      const r = live.record;
      if (r.projectId !== projectId || (opts.flowId !== undefined && r.flowId !== opts.flowId)) continue;
      fresher.set(r.id, r);
      if (!live.flushed && opts.cursor === undefined) pending.push(r);
    }
    pending.sort((a, b) => (a.queuedAt < b.queuedAt ? 1 : a.queuedAt > b.queuedAt ? -1 : 0));
    const head = pending.slice(0, opts.limit);
    const storeLimit = Math.max(1, opts.limit - head.length);
    const page = await this.store.runs.list(projectId, {
      limit: storeLimit,
      ...(opts.flowId !== undefined ? { flowId: opts.flowId } : {}),
      ...(opts.cursor !== undefined ? { cursor: opts.cursor } : {}),
    });
    const seen = new Set(head.map((r) => r.id));
    const items = [
      ...head,
      ...page.items.filter((r) => !seen.has(r.id)).map((r) => fresher.get(r.id) ?? this.settleOrphan(r)),
    ];
    return { ...page, items: structuredClone(items) };
  }

  /** Write every in-flight snapshot and wait for every pending write (shutdown). */
  async flushAll(): Promise<void> {
    const pending = [...this.live.entries()].filter(([, live]) => !live.final).map(([id]) => this.flush(id));
    await Promise.allSettled([...pending, ...this.writes]);
  }

  /** A run an earlier process left queued or running can never finish: record it as failed. */
  private settleOrphan(run: StoredRun): StoredRun {
    if (!this.orphansFail || FINAL_STATUSES.has(run.status) || this.live.has(run.id)) return run;
    const failed: StoredRun = {
      ...run,
      status: 'failed',
      error: {
        code: 'WORKER_LOST',
        message: 'the server stopped before this run finished; start the run again',
      },
    };
    this.store.runs.save(failed).catch((err: unknown) => this.onError(err, failed));
    return failed;
  }

  private async flush(runId: string): Promise<void> {
    const live = this.live.get(runId);
    if (!live || live.final) return;
    if (live.timer) clearTimeout(live.timer);
    delete live.timer;
    live.flushed = true;
    // Appends to a run log keep their order, so a final record saved later always wins.
    await this.store.runs.save(live.record);
  }
}
