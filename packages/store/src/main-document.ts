// The main document in memory plus its write queue. Every change is a job run one at a
// time against the in-memory document; the jobs waiting while a write is in flight are
// applied together and written once (group commit), and each job resolves only after the
// file holding its change is on disk. So parallel writers never lose an update, and a
// process killed at any moment leaves every acknowledged change in the file.
import { Low } from 'lowdb';
import { AtomicJsonAdapter, emptyDocument, type StoreDocument } from './store-document';
import { StoreError } from './store-error';

interface Job {
  apply: (doc: StoreDocument) => unknown;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
}

export class MainDocument {
  private readonly db: Low<StoreDocument>;
  private queue: Job[] = [];
  private draining: Promise<void> | undefined;
  private closed = false;

  private constructor(readonly file: string) {
    this.db = new Low(new AtomicJsonAdapter(file), emptyDocument());
  }

  /** Reads the file (refusing an invalid one) or creates it. */
  static async open(file: string): Promise<MainDocument> {
    const doc = new MainDocument(file);
    const existing = await doc.db.adapter.read();
    if (existing === null) await doc.db.write();
    else doc.db.data = existing;
    return doc;
  }

  /** The current document; callers must not mutate it outside `change`. */
  get data(): StoreDocument {
    return this.db.data;
  }

  /**
   * Runs `apply` with the document to itself and resolves with its result once the change is
   * written. `apply` must validate before mutating: it changes the document in place (or
   * returns a replacement through `replace`).
   */
  change<T>(apply: (doc: StoreDocument) => T | Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new StoreError('STORE_CLOSED', 'the store is closed'));
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ apply, resolve: resolve as (value: unknown) => void, reject });
      this.draining ??= this.drain();
    });
  }

  /** Replaces the whole document (a committed transaction draft); only inside `change`. */
  replace(doc: StoreDocument): void {
    this.db.data = doc;
  }

  async close(): Promise<void> {
    this.closed = true;
    while (this.draining) await this.draining;
  }

  private async drain(): Promise<void> {
    // cleared in the same tick as the last check of the queue, so no job is left behind
    await Promise.resolve();
    for (;;) {
      if (this.queue.length === 0) {
        this.draining = undefined;
        return;
      }
      const batch = this.queue;
      this.queue = [];
      const applied: Array<{ job: Job; result: unknown }> = [];
      for (const job of batch) {
        try {
          applied.push({ job, result: await job.apply(this.db.data) });
        } catch (err) {
          job.reject(err);
        }
      }
      if (applied.length === 0) continue;
      try {
        await this.db.write();
        for (const { job, result } of applied) job.resolve(result);
      } catch (err) {
        for (const { job } of applied) job.reject(err);
        // memory is ahead of the file: go back to what is on disk
        try {
          const onDisk = await this.db.adapter.read();
          this.db.data = onDisk ?? emptyDocument();
        } catch {
          // the file is unreadable now; keep memory, the next write will retry
        }
      }
    }
  }
}
