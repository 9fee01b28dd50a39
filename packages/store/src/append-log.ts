// An append-only JSON-lines file (run records per project, audit events per workspace)
// with an in-memory index of the newest record per id, so that adding a record costs the
// same whether the file holds a thousand records or a hundred thousand. Saving an existing
// id appends a new line (last one wins, position of the first one kept). The file is
// compacted (rewritten atomically with the newest `limit` records) once it outgrows the
// limit by a margin. A torn last line (a crash mid-append) is cut off with a warning.
import { appendFile, readFile, rm, truncate } from 'node:fs/promises';
import { writeFileAtomic } from './atomic-write';
import { StoreError, type StoreLogger } from './store-error';

interface Entry<T> {
  seq: number;
  record: T;
}

interface LogState<T> {
  entries: Map<string, Entry<T>>;
  /** ids by seq (first save), oldest first; one per entry */
  order: string[];
  nextSeq: number;
  /** lines in the file, superseded ones included */
  lines: number;
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
  private tail: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: AppendLogOptions) {}

  get file(): string {
    return this.options.file;
  }

  /** Appends (or supersedes by id) one record; resolves once it is in the file. */
  append(record: T): Promise<void> {
    return this.serial(async () => {
      const state = await this.load();
      await appendFile(this.options.file, `${JSON.stringify(record)}\n`, { mode: 0o600 });
      state.lines++;
      const existing = state.entries.get(record.id);
      if (existing) existing.record = record;
      else {
        state.entries.set(record.id, { seq: state.nextSeq++, record });
        state.order.push(record.id);
      }
      const { limit } = this.options;
      const margin = Math.max(100, Math.ceil(limit / 2));
      if (state.entries.size > limit + margin || state.lines > 2 * limit + margin) await this.compact(state);
    });
  }

  async get(id: string): Promise<T | undefined> {
    const state = await this.load();
    const entry = state.entries.get(id);
    return entry && structuredClone(entry.record);
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
      if (opts.filter && !opts.filter(entry.record)) continue;
      if (items.length === opts.limit) {
        more = true;
        break;
      }
      items.push(structuredClone(entry.record));
      lastSeq = entry.seq;
    }
    return more ? { items, next: encodeCursor(lastSeq) } : { items };
  }

  /** Deletes the file and forgets the index (project deleted). */
  remove(): Promise<void> {
    return this.serial(async () => {
      await rm(this.options.file, { force: true });
      this.state = Promise.resolve(emptyState());
    });
  }

  /** Waits for pending appends. */
  async flush(): Promise<void> {
    await this.tail.catch(() => undefined);
  }

  private serial<R>(fn: () => Promise<R>): Promise<R> {
    const run = this.tail.then(fn, fn);
    this.tail = run.catch(() => undefined);
    return run;
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
    this.state ??= this.read().catch((err: unknown) => {
      this.state = undefined;
      throw err;
    });
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
      this.index(state, record);
    });
    if (last !== '') {
      const record = parseRecord<T>(last);
      if (record !== undefined) {
        // complete record whose newline did not make it: finish the line
        await appendFile(this.options.file, '\n');
        this.index(state, record);
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

  private index(state: LogState<T>, record: T): void {
    state.lines++;
    const existing = state.entries.get(record.id);
    if (existing) existing.record = record;
    else {
      state.entries.set(record.id, { seq: state.nextSeq++, record });
      state.order.push(record.id);
    }
  }

  /** Keeps the newest `limit` records: rewrites the file atomically, one line each. */
  private async compact(state: LogState<T>): Promise<void> {
    const live = state.order;
    const drop = live.length - this.options.limit;
    const kept = drop > 0 ? live.slice(drop) : live;
    for (const id of live.slice(0, Math.max(0, drop))) state.entries.delete(id);
    const text = kept.map((id) => `${JSON.stringify(state.entries.get(id)?.record)}\n`).join('');
    await writeFileAtomic(this.options.file, text);
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
