// An append-only JSON-lines file (run records per project, audit events per workspace)
// with an in-memory index of the newest record per id, so that adding a record costs the
// same whether the file holds a thousand records or a hundred thousand. Saving an existing
// id appends a new line (last one wins, position of the first one kept). The file is
// compacted (rewritten atomically with the newest `limit` records) once it outgrows the
// limit by a margin. A torn last line (a crash mid-append) is cut off with a warning.
//
// Writes go through one open file handle (O_APPEND) per file. The first append of a turn of
// the event loop with nothing in flight is written at once; the appends that follow it in the
// same turn queue up and are written together (group commit) once the turn has handed out its
// work (setImmediate), as are lines that arrive while a job is in flight (loading, opening, a
// compaction, a removal) — so the runs finishing in one turn cost two write(2)s, not one each.
// An append resolves once its line has been handed to the OS (it survives a killed process),
// and the index only ever holds what the file holds. The index keeps each record's
// JSON line (the text that was written) and parses it when a record is read.
//
// The write itself is a synchronous write(2) on the open descriptor: appending a few KiB to
// the page cache takes about a microsecond, while a round trip through libuv's thread pool
// costs 20-100 µs on a busy machine, which would be most of a run's overhead (bench/dispatch).
// Opening, reading, compaction and removal stay asynchronous.
import { ftruncateSync, writeSync } from 'node:fs';
import { appendFile, type FileHandle, open, readFile, rm, truncate } from 'node:fs/promises';
import { writeFileAtomic } from './atomic-write';
import { StoreError, type StoreLogger } from './store-error';

interface Entry<T> {
  seq: number;
  /** the record's JSON line as written, without the newline */
  line: string;
  /** the parsed line, kept once a filter needed it (never handed out) */
  parsed?: T;
}

interface LogState<T> {
  entries: Map<string, Entry<T>>;
  /** ids by seq (first save), oldest first; one per entry */
  order: string[];
  nextSeq: number;
  /** lines in the file, superseded ones included */
  lines: number;
}

interface Pending {
  id: string;
  line: string;
  resolve: () => void;
  reject: (err: unknown) => void;
}

export interface AppendLogOptions {
  file: string;
  /** newest records kept */
  limit: number;
  logger?: StoreLogger | undefined;
}

export interface LogPage<T> {
  items: T[];
  next?: string;
}

export class AppendLog<T extends { id: string }> {
  private state: Promise<LogState<T>> | undefined;
  /** the state once loaded (for the synchronous path) */
  private loaded: LogState<T> | undefined;
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
  /** bytes in the file after the last complete write (a failed write is cut back to it) */
  private size = 0;

  constructor(private readonly options: AppendLogOptions) {}

  get file(): string {
    return this.options.file;
  }

  /** Appends (or supersedes by id) one record; resolves once it is in the file. The record
   *  is serialised now, so the caller may change it afterwards. */
  append(record: T): Promise<void> {
    return this.appendLine(record.id, JSON.stringify(record));
  }

  /** Appends a record already serialised as one JSON line (no newline) with this id. */
  appendLine(id: string, line: string): Promise<void> {
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
      try {
        this.writeOpen(fh, Buffer.from(`${line}\n`, 'utf8'));
      } catch (err) {
        return Promise.reject(err as Error);
      }
      this.index(state, id, line);
      this.turnWritten = true;
      setImmediate(this.endTurn);
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ id, line, resolve, reject });
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
    const state = await this.load();
    const entry = state.entries.get(id);
    return entry && (JSON.parse(entry.line) as T);
  }

  /** Newest first; `cursor` continues after the last item of the previous page. */
  async list(opts: {
    filter?: (record: T) => boolean;
    limit: number;
    cursor?: string | undefined;
  }): Promise<LogPage<T>> {
    const state = await this.load();
    const before = decodeCursor(opts.cursor);
    const items: T[] = [];
    let lastSeq = 0;
    let more = false;
    for (let i = this.startIndex(state, before); i >= 0; i--) {
      const entry = state.entries.get(state.order[i] as string);
      if (entry === undefined) continue;
      if (opts.filter && !opts.filter((entry.parsed ??= JSON.parse(entry.line) as T))) continue;
      if (items.length === opts.limit) {
        more = true;
        break;
      }
      items.push(JSON.parse(entry.line) as T);
      lastSeq = entry.seq;
    }
    return more ? { items, next: encodeCursor(lastSeq) } : { items };
  }

  /** Deletes the file and forgets the index (project deleted). */
  remove(): Promise<void> {
    return this.job(async () => {
      await this.closeHandle();
      await rm(this.options.file, { force: true });
      this.loaded = emptyState();
      this.state = Promise.resolve(this.loaded);
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

  private compactionDue(state: LogState<T>, id: string): boolean {
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
        let state: LogState<T>;
        try {
          state = await this.load();
          let text = '';
          for (const p of batch) text += `${p.line}\n`;
          await this.write(Buffer.from(text, 'utf8'));
        } catch (err) {
          for (const p of batch) p.reject(err);
          continue;
        }
        for (const p of batch) this.index(state, p.id, p.line);
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

  /** Appends `buf` whole through the open handle; on failure the file is cut back to its last
   *  complete line so that a later append does not continue a torn one. */
  private async write(buf: Buffer): Promise<void> {
    if (!this.handle) {
      const fh = await open(this.options.file, 'a', 0o600);
      try {
        this.size = (await fh.stat()).size;
      } catch (err) {
        await fh.close().catch(() => undefined);
        throw err;
      }
      this.handle = fh;
    }
    this.writeOpen(this.handle, buf);
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
  private startIndex(state: LogState<T>, before: number | undefined): number {
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

  private load(): Promise<LogState<T>> {
    this.state ??= this.read().then(
      (state) => (this.loaded = state),
      (err: unknown) => {
        this.state = undefined;
        throw err;
      },
    );
    return this.state;
  }

  private async read(): Promise<LogState<T>> {
    const state = emptyState<T>();
    let text: string;
    try {
      text = await readFile(this.options.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return state;
      throw err;
    }
    const lines = text.split('\n');
    const last = lines.pop() as string; // '' when the file ends with a newline
    lines.forEach((line, i) => {
      if (line.trim() === '') return;
      const record = parseRecord<T>(line);
      if (record === undefined) {
        throw new StoreError(
          'STORE_FILE_INVALID',
          `${this.options.file} line ${i + 1} is not a valid record; fix or remove that line (flowsafe never rewrites it on its own)`,
        );
      }
      this.index(state, record.id, line);
    });
    if (last !== '') {
      const record = parseRecord<T>(last);
      if (record !== undefined) {
        // complete record whose newline did not make it: finish the line
        await appendFile(this.options.file, '\n');
        this.index(state, record.id, last);
      } else {
        const keep = Buffer.byteLength(text) - Buffer.byteLength(last);
        this.options.logger?.warn(
          { file: this.options.file, bytes: Buffer.byteLength(last) },
          'skipping a torn last line (an append interrupted by a crash); it is cut off',
        );
        await truncate(this.options.file, keep);
      }
    }
    return state;
  }

  private index(state: LogState<T>, id: string, line: string): void {
    state.lines++;
    const existing = state.entries.get(id);
    if (existing) {
      existing.line = line;
      delete existing.parsed;
    } else {
      state.entries.set(id, { seq: state.nextSeq++, line });
      state.order.push(id);
    }
  }

  /** Keeps the newest `limit` records: rewrites the file atomically, one line each. The open
   *  handle points at the replaced file, so it is closed first (the next write reopens). */
  private async compact(state: LogState<T>): Promise<void> {
    const live = state.order;
    const drop = Math.max(0, live.length - this.options.limit);
    const kept = drop > 0 ? live.slice(drop) : live;
    let text = '';
    for (const id of kept) text += `${state.entries.get(id)?.line}\n`;
    await this.closeHandle();
    await writeFileAtomic(this.options.file, text);
    for (const id of live.slice(0, drop)) state.entries.delete(id);
    state.order = kept;
    state.lines = kept.length;
  }
}

/** seq of state.order[i] */
function seqAt<T>(state: LogState<T>, i: number): number {
  return state.entries.get(state.order[i] as string)?.seq ?? -1;
}

function emptyState<T>(): LogState<T> {
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
