// An append-only JSON-lines file (run records per project, audit events per workspace)
// with an in-memory index of where the newest record of each id lies in the file (byte offset
// and length, plus one secondary key lists filter on), so that adding a record costs the
// same whether the file holds a thousand records or a hundred thousand, and memory holds a
// few dozen bytes per record rather than the records: a record is read back from the file
// (one pread from the page cache) when asked for. Saving an existing id appends a new line
// (last one wins, position of the first one kept). The file is compacted (rewritten
// atomically with the newest `limit` records) once it outgrows the limit by a margin. A torn
// last line (a crash mid-append) is cut off with a warning.
//
// Writes go through one open file handle (O_APPEND, also read by offset) per file. The first
// append of a turn of the event loop with nothing in flight is written at once; the appends
// that follow it in the same turn queue up and are written together (group commit) once the
// turn has handed out its work (setImmediate), as are lines that arrive while a job is in
// flight (loading, opening, a compaction, a removal) — so the runs finishing in one turn
// cost two write(2)s, not one each. An append resolves once its line has been handed to the
// OS (it survives a killed process), and the index only ever holds what the file holds.
//
// The write itself is a synchronous write(2) on the open descriptor, and a read a synchronous
// pread(2): a few KiB to or from the page cache take about a microsecond, while a round trip
// through libuv's thread pool costs 20-100 µs on a busy machine, which would be most of a
// run's overhead (bench/dispatch). Opening, loading, compaction and removal stay asynchronous.
// Reads use the handle in the same synchronous step as the offsets they read: a compaction
// swaps the file, the offsets and the handle in one step, so no read mixes the two files.
import { ftruncateSync, readSync, writeSync } from 'node:fs';
import { appendFile, type FileHandle, open, readFile, rm, truncate } from 'node:fs/promises';
import { writeFileAtomic } from './atomic-write';
import { StoreError, type StoreLogger } from './store-error';

interface Entry {
  id: string;
  seq: number;
  /** byte offset of the record's line in the file, and its length without the newline */
  at: number;
  bytes: number;
  /** the secondary key lists can filter on (see AppendLogOptions.keyOf) */
  key: string | undefined;
}

interface LogState {
  entries: Map<string, Entry>;
  /** ids by seq (first save), oldest first; one per entry */
  order: string[];
  nextSeq: number;
  /** lines in the file, superseded ones included */
  lines: number;
}

interface Pending {
  id: string;
  line: string;
  key: string | undefined;
  resolve: () => void;
  reject: (err: unknown) => void;
}

export interface AppendLogOptions<T> {
  file: string;
  /** newest records kept */
  limit: number;
  /** the secondary key of a record that `list({ key })` filters on (e.g. a run's flowId) */
  keyOf?: ((record: T) => string | undefined) | undefined;
  logger?: StoreLogger | undefined;
}

export interface LogPage<T> {
  items: T[];
  next?: string;
}

export class AppendLog<T extends { id: string }> {
  private state: Promise<LogState> | undefined;
  /** the state once loaded (for the synchronous path) */
  private loaded: LogState | undefined;
  private tail: Promise<unknown> = Promise.resolve();
  /** lines waiting for the next write */
  private queue: Pending[] = [];
  private draining = false;
  /** removal and close jobs not yet finished (a drain shows as `draining`) */
  private jobs = 0;
  /** a line was written at once in this turn of the event loop (later ones are batched) */
  private turnWritten = false;
  /** the drain of the queued lines, waiting for the end of this turn of the event loop */
  private scheduled: NodeJS.Immediate | undefined;
  private handle: FileHandle | undefined;
  /** the opening of `handle`, shared by everyone who needs it meanwhile */
  private opening: Promise<void> | undefined;
  /** counts replacements and removals of the file: a handle opened across one is stale */
  private generation = 0;
  /** bytes in the file after the last complete write (a failed write is cut back to it) */
  private size = 0;

  constructor(private readonly options: AppendLogOptions<T>) {}

  get file(): string {
    return this.options.file;
  }

  /** Appends (or supersedes by id) one record; resolves once it is in the file. The record
   *  is serialised now, so the caller may change it afterwards. */
  append(record: T): Promise<void> {
    return this.appendLine(record.id, JSON.stringify(record), this.options.keyOf?.(record));
  }

  /** Appends a record already serialised as one JSON line (no newline) with this id and
   *  secondary key (what keyOf would give for it). */
  appendLine(id: string, line: string, key?: string): Promise<void> {
    const state = this.loaded;
    const fh = this.handle;
    if (
      !this.turnWritten &&
      !this.draining &&
      this.jobs === 0 &&
      state !== undefined &&
      fh !== undefined &&
      !this.compactionDue(state, id)
    ) {
      // the first append of this turn with nothing queued or in flight: write now (a lone
      // append waits for nothing); the ones that follow in this turn share the next write
      const at = this.size;
      const buf = Buffer.from(`${line}\n`, 'utf8');
      try {
        this.writeOpen(fh, buf);
      } catch (err) {
        return Promise.reject(err as Error);
      }
      this.index(state, id, at, buf.length - 1, key);
      this.turnWritten = true;
      setImmediate(this.endTurn);
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ id, line, key, resolve, reject });
      if (!this.draining) {
        this.draining = true;
        // the rest of this turn's appends join the same write
        this.scheduled = setImmediate(() => this.startDrain());
      }
    });
  }

  private readonly endTurn = (): void => {
    this.turnWritten = false;
  };

  /** Starts the drain scheduled by an append (at once when a job must come after it). */
  private startDrain(): void {
    if (this.scheduled === undefined) return;
    clearImmediate(this.scheduled);
    this.scheduled = undefined;
    void this.serial(() => this.drain());
  }

  async get(id: string): Promise<T | undefined> {
    await this.load();
    for (;;) {
      const entry = this.loaded?.entries.get(id);
      if (entry === undefined) return undefined;
      const fh = this.handle;
      if (fh !== undefined) return this.readEntry(fh, entry);
      await this.openHandle();
    }
  }

  /** Newest first; `key` keeps the records of that secondary key only; `cursor` continues
   *  after the last item of the previous page. */
  async list(opts: {
    key?: string | undefined;
    limit: number;
    cursor?: string | undefined;
  }): Promise<LogPage<T>> {
    const before = decodeCursor(opts.cursor);
    await this.load();
    for (;;) {
      const state = this.loaded as LogState;
      const picked: Entry[] = [];
      let more = false;
      for (let i = this.startIndex(state, before); i >= 0; i--) {
        const entry = state.entries.get(state.order[i] as string);
        if (entry === undefined || (opts.key !== undefined && entry.key !== opts.key)) continue;
        if (picked.length === opts.limit) {
          more = true;
          break;
        }
        picked.push(entry);
      }
      if (picked.length === 0) return { items: [] };
      const fh = this.handle;
      if (fh === undefined) {
        await this.openHandle();
        continue; // the index may have changed meanwhile: pick again
      }
      const items = picked.map((entry) => this.readEntry(fh, entry));
      return more ? { items, next: encodeCursor((picked.at(-1) as Entry).seq) } : { items };
    }
  }

  /** Deletes the file and forgets the index (project deleted). */
  remove(): Promise<void> {
    return this.job(async () => {
      // forgotten first: from here on no reader looks for a record in the file
      this.generation++;
      this.loaded = emptyState();
      this.state = Promise.resolve(this.loaded);
      await this.closeHandle();
      await rm(this.options.file, { force: true });
    });
  }

  /** Waits for pending appends. */
  async flush(): Promise<void> {
    this.startDrain();
    await this.tail.catch(() => undefined);
  }

  /** Waits for pending appends and closes the file (a later append opens it again). */
  close(): Promise<void> {
    return this.job(() => this.closeHandle());
  }

  private serial<R>(fn: () => Promise<R>): Promise<R> {
    const run = this.tail.then(fn, fn);
    this.tail = run.catch(() => undefined);
    return run;
  }

  /** A serial job other than a drain (after the lines already appended); counted until done. */
  private job(fn: () => Promise<void>): Promise<void> {
    this.startDrain(); // lines appended before this job are written before it
    this.jobs++;
    return this.serial(async () => {
      try {
        await fn();
      } finally {
        this.jobs--;
      }
    });
  }

  private compactionDue(state: LogState, id: string): boolean {
    const { limit } = this.options;
    const margin = Math.max(100, Math.ceil(limit / 2));
    const entries = state.entries.size + (state.entries.has(id) ? 0 : 1);
    return entries > limit + margin || state.lines + 1 > 2 * limit + margin;
  }

  /** Writes queued lines, one write per batch, until the queue is empty. */
  private async drain(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        const batch = this.queue;
        this.queue = [];
        let state: LogState;
        let at: number;
        try {
          state = await this.load();
          const fh = await this.writeHandle();
          let text = '';
          for (const p of batch) text += `${p.line}\n`;
          at = this.size;
          this.writeOpen(fh, Buffer.from(text, 'utf8'));
        } catch (err) {
          for (const p of batch) p.reject(err);
          continue;
        }
        for (const p of batch) {
          const bytes = Buffer.byteLength(p.line, 'utf8');
          this.index(state, p.id, at, bytes, p.key);
          at += bytes + 1;
        }
        // the batch is acknowledged after a due compaction, so that no reader sees more
        // than the retention allows once an append has resolved
        const { limit } = this.options;
        const margin = Math.max(100, Math.ceil(limit / 2));
        if (state.entries.size > limit + margin || state.lines > 2 * limit + margin) {
          try {
            await this.compact(state);
          } catch (err) {
            this.options.logger?.warn(
              { file: this.options.file, err: (err as Error).message },
              'could not compact the file; it is retried on a later append',
            );
          }
        }
        for (const p of batch) p.resolve();
      }
    } finally {
      this.draining = false;
    }
  }

  /** Opens the handle (read and append) when there is none, one opening at a time. It may
   *  end without one: when the file was replaced or removed while it opened (callers check
   *  `this.handle` again, in the synchronous step in which they use it). */
  private openHandle(): Promise<void> {
    if (this.handle !== undefined) return Promise.resolve();
    this.opening ??= (async () => {
      const generation = this.generation;
      const fh = await open(this.options.file, 'a+', 0o600);
      let size: number;
      try {
        size = (await fh.stat()).size;
      } catch (err) {
        await fh.close().catch(() => undefined);
        throw err;
      }
      if (generation !== this.generation || this.handle !== undefined) {
        await fh.close().catch(() => undefined);
        return;
      }
      this.size = size;
      this.handle = fh;
    })().finally(() => {
      this.opening = undefined;
    });
    return this.opening;
  }

  /** The handle for a write (inside the serial queue, where nothing else replaces the file). */
  private async writeHandle(): Promise<FileHandle> {
    for (;;) {
      await this.openHandle();
      if (this.handle !== undefined) return this.handle;
    }
  }

  /** The record of `entry`, read from the file through `fh` (the current handle). */
  private readEntry(fh: FileHandle, entry: Entry): T {
    const buf = Buffer.allocUnsafe(entry.bytes);
    let done = 0;
    while (done < entry.bytes) {
      const n = readSync(fh.fd, buf, done, entry.bytes - done, entry.at + done);
      if (n === 0) break;
      done += n;
    }
    const record = done === entry.bytes ? parseRecord<T>(buf.toString('utf8')) : undefined;
    if (record === undefined || record.id !== entry.id) {
      throw new StoreError(
        'STORE_FILE_INVALID',
        `${this.options.file} changed outside flowsafe (record ${entry.id} is no longer where it was written); restart flowsafe to read it again`,
      );
    }
    return record;
  }

  /** write(2) of `buf` whole on the open handle; on failure the file is cut back and closed. */
  private writeOpen(fh: FileHandle, buf: Buffer): void {
    try {
      let done = 0;
      while (done < buf.length) done += writeSync(fh.fd, buf, done, buf.length - done);
      this.size += buf.length;
    } catch (err) {
      try {
        ftruncateSync(fh.fd, this.size);
      } catch {
        // the file stays as the failed write left it; loading it cuts a torn last line
      }
      if (this.handle === fh) this.handle = undefined;
      void fh.close().catch(() => undefined);
      throw err;
    }
  }

  private async closeHandle(): Promise<void> {
    const fh = this.handle;
    this.handle = undefined;
    await fh?.close().catch(() => undefined);
  }

  /** index of the newest entry older than `before` in state.order */
  private startIndex(state: LogState, before: number | undefined): number {
    if (before === undefined) return state.order.length - 1;
    let lo = 0;
    let hi = state.order.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (seqAt(state, mid) < before) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found;
  }

  private load(): Promise<LogState> {
    this.state ??= this.read().then(
      (state) => (this.loaded = state),
      (err: unknown) => {
        this.state = undefined;
        throw err;
      },
    );
    return this.state;
  }

  private async read(): Promise<LogState> {
    const state = emptyState();
    let buf: Buffer;
    try {
      buf = await readFile(this.options.file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return state;
      throw err;
    }
    const keyOf = this.options.keyOf;
    let start = 0;
    for (let lineNo = 1; ; lineNo++) {
      const end = buf.indexOf(10, start);
      if (end === -1) break;
      const line = buf.toString('utf8', start, end);
      if (line.trim() !== '') {
        const record = parseRecord<T>(line);
        if (record === undefined) {
          throw new StoreError(
            'STORE_FILE_INVALID',
            `${this.options.file} line ${lineNo} is not a valid record; fix or remove that line (flowsafe never rewrites it on its own)`,
          );
        }
        this.index(state, record.id, start, end - start, keyOf?.(record));
      }
      start = end + 1;
    }
    if (start < buf.length) {
      const last = buf.toString('utf8', start);
      const record = parseRecord<T>(last);
      if (record !== undefined) {
        // complete record whose newline did not make it: finish the line
        await appendFile(this.options.file, '\n');
        this.index(state, record.id, start, buf.length - start, keyOf?.(record));
      } else {
        this.options.logger?.warn(
          { file: this.options.file, bytes: buf.length - start },
          'skipping a torn last line (an append interrupted by a crash); it is cut off',
        );
        await truncate(this.options.file, start);
      }
    }
    return state;
  }

  private index(state: LogState, id: string, at: number, bytes: number, key: string | undefined): void {
    state.lines++;
    const existing = state.entries.get(id);
    if (existing) {
      existing.at = at;
      existing.bytes = bytes;
      existing.key = key;
    } else {
      state.entries.set(id, { id, seq: state.nextSeq++, at, bytes, key });
      state.order.push(id);
    }
  }

  /** Keeps the newest `limit` records: rewrites the file atomically, one line each. Reads go
   *  on through the handle of the old file until the new one is in place; then the offsets
   *  and the handle change together (the next read opens the new file). */
  private async compact(state: LogState): Promise<void> {
    await this.writeHandle(); // readers use the old file until the swap, not a newly opened path
    const live = state.order;
    const drop = Math.max(0, live.length - this.options.limit);
    const kept = drop > 0 ? live.slice(drop) : live;
    const old = await readFile(this.options.file);
    const parts: Buffer[] = [];
    const placed: Array<[Entry, number]> = [];
    let at = 0;
    for (const id of kept) {
      const entry = state.entries.get(id);
      if (entry === undefined) continue;
      parts.push(old.subarray(entry.at, entry.at + entry.bytes), NEWLINE);
      placed.push([entry, at]);
      at += entry.bytes + 1;
    }
    await writeFileAtomic(this.options.file, Buffer.concat(parts, at));
    // one synchronous step: new offsets, records beyond the limit gone, the old handle dropped
    this.generation++;
    for (const [entry, newAt] of placed) entry.at = newAt;
    for (const id of live.slice(0, drop)) state.entries.delete(id);
    state.order = kept;
    state.lines = kept.length;
    await this.closeHandle();
  }
}

const NEWLINE = Buffer.from('\n');

/** seq of state.order[i] */
function seqAt(state: LogState, i: number): number {
  return state.entries.get(state.order[i] as string)?.seq ?? -1;
}

function emptyState(): LogState {
  return { entries: new Map(), order: [], nextSeq: 1, lines: 0 };
}

function parseRecord<T>(line: string): T | undefined {
  try {
    const value: unknown = JSON.parse(line);
    if (typeof value === 'object' && value !== null && typeof (value as { id?: unknown }).id === 'string')
      return value as T;
  } catch {
    // fall through
  }
  return undefined;
}

function encodeCursor(seq: number): string {
  return Buffer.from(String(seq)).toString('base64url');
}

function decodeCursor(cursor: string | undefined): number | undefined {
  if (cursor === undefined || cursor === '') return undefined;
  const seq = Number(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!Number.isSafeInteger(seq) || seq < 0) throw new StoreError('INVALID_INPUT', 'invalid page cursor');
  return seq;
}
