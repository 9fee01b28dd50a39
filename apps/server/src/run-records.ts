// Run records of runs in flight. A run's intermediate snapshots (queued, running) live in
// memory and reach the store only if the run is still going after `flushMs`; the final record
// is written before anyone is told the run finished. A run that ends quickly — most of them —
// costs one append to its project's run log instead of three. Reads see the in-memory
// snapshot first, so GET …/runs/:id and lists show queued and running runs at once.
import type { Page, Store, StoredRun } from '@flowsafe/store';

export const FINAL_STATUSES: ReadonlySet<string> = new Set(['succeeded', 'failed', 'cancelled']);

interface Live {
  record: StoredRun;
  /** the store holds this run (some snapshot of it) */
  flushed: boolean;
  timer?: NodeJS.Timeout;
}

export class RunRecords {
  private readonly live = new Map<string, Live>();

  constructor(
    private readonly store: Store,
    private readonly flushMs = 250,
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

  /** The final record: written to the store before this resolves. */
  async finish(record: StoredRun): Promise<void> {
    const live = this.live.get(record.id);
    if (live?.timer) clearTimeout(live.timer);
    try {
      await this.store.runs.save(record);
    } finally {
      if (this.live.get(record.id) === live) this.live.delete(record.id);
    }
  }

  /** Save any record: final ones now, others as in-flight snapshots. */
  async save(record: StoredRun): Promise<void> {
    if (FINAL_STATUSES.has(record.status)) await this.finish(record);
    else this.track(record);
  }

  async get(projectId: string, runId: string): Promise<StoredRun | undefined> {
    const live = this.live.get(runId);
    if (live && live.record.projectId === projectId) return structuredClone(live.record);
    return this.store.runs.get(projectId, runId);
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
    const items = [...head, ...page.items.filter((r) => !seen.has(r.id)).map((r) => fresher.get(r.id) ?? r)];
    return { ...page, items: structuredClone(items) };
  }

  /** Write every in-flight snapshot (shutdown). */
  async flushAll(): Promise<void> {
    await Promise.all([...this.live.keys()].map((id) => this.flush(id)));
  }

  private async flush(runId: string): Promise<void> {
    const live = this.live.get(runId);
    if (!live) return;
    if (live.timer) clearTimeout(live.timer);
    delete live.timer;
    live.flushed = true;
    // Appends to a run log keep their order, so a final record saved later always wins.
    await this.store.runs.save(live.record);
  }
}
