// Isolate reuse policy (SPEC §3 invariant 7). Creating an isolate costs milliseconds; creating a
// context on an existing one costs a fraction of one, so:
//
// - Isolates are pooled per memory limit (memoryMb) and LEASED EXCLUSIVELY: one call at a time
//   per isolate, so a call's CPU/wall limit is never spent waiting behind another call.
// - Every call gets a FRESH CONTEXT (its own global object and built-ins) that is released after
//   the call. Globals, prototype changes and pending promises of one call, run or project are
//   never visible to another: state lives in contexts, and no context is used twice.
// - An isolate is DISPOSED, never reused, after any limit hit (timeout, memory, cancel), any
//   isolated-vm failure, once it is `isDisposed`, after `maxCallsPerIsolate` calls (bounds heap
//   growth and whatever a long-lived isolate might accumulate), or when more than
//   `maxIdlePerSize` (or `maxIdle` in all) would sit idle.
// - Compiled scripts are cached per isolate (LRU of `maxScriptsPerIsolate` per code string):
//   an ivm.Script is context-independent, so a warm call is context + run, with no compile.
// - At most `maxIsolates` are leased at once; further calls wait in FIFO order.
import ivm from 'isolated-vm';
import { SandboxError } from '../sandbox-error';

export interface IsolatePoolOptions {
  /** idle isolates kept per memory limit (default 2) */
  maxIdlePerSize?: number;
  /** idle isolates kept across all sizes (default 8) */
  maxIdle?: number;
  /** calls after which an isolate is disposed (default 200) */
  maxCallsPerIsolate?: number;
  /** compiled scripts cached per isolate (default 64) */
  maxScriptsPerIsolate?: number;
  /** isolates leased at the same time across sizes (default 16) */
  maxIsolates?: number;
  /** isolated-vm's "v8 lost control of an isolate" report; the isolate is dropped either way */
  onCatastrophicError?: (message: string) => void;
}

type ResolvedPoolOptions = Required<Omit<IsolatePoolOptions, 'onCatastrophicError'>> &
  Pick<IsolatePoolOptions, 'onCatastrophicError'>;

let nextIsolateId = 1;

/** One isolate with its compiled-script cache, leased to one call at a time. */
export class PooledIsolate {
  readonly id = nextIsolateId++;
  readonly isolate: ivm.Isolate;
  calls = 0;
  private readonly scripts = new Map<string, ivm.Script>();

  constructor(
    readonly memoryMb: number,
    private readonly maxScripts: number,
    onCatastrophicError?: (message: string) => void,
  ) {
    this.isolate = new ivm.Isolate({
      memoryLimit: memoryMb,
      onCatastrophicError: (message: string) => {
        this.dispose();
        onCatastrophicError?.(message);
      },
    });
  }

  get disposed(): boolean {
    return this.isolate.isDisposed;
  }

  /** The compiled script cached under `key`, compiled from `source()` on first use here. */
  async script(key: string, source: () => string, origin: ivm.ScriptOrigin): Promise<ivm.Script> {
    const hit = this.scripts.get(key);
    if (hit !== undefined) {
      this.scripts.delete(key);
      this.scripts.set(key, hit);
      return hit;
    }
    const script = await this.isolate.compileScript(source(), origin);
    if (this.scripts.size >= this.maxScripts) {
      const oldest = this.scripts.entries().next();
      if (oldest.done !== true) {
        this.scripts.delete(oldest.value[0]);
        oldest.value[1].release();
      }
    }
    this.scripts.set(key, script);
    return script;
  }

  dispose(): void {
    this.scripts.clear();
    if (!this.isolate.isDisposed) this.isolate.dispose();
  }
}

interface Waiter {
  memoryMb: number;
  resolve(lease: PooledIsolate): void;
  reject(err: unknown): void;
  signal: AbortSignal | undefined;
  onAbort: () => void;
}

export class IsolatePool {
  private readonly options: ResolvedPoolOptions;
  private readonly idle = new Map<number, PooledIsolate[]>();
  private readonly leased = new Set<PooledIsolate>();
  private readonly waiters: Waiter[] = [];
  private closed = false;
  private created = 0;

  constructor(options: IsolatePoolOptions = {}) {
    this.options = {
      maxIdlePerSize: options.maxIdlePerSize ?? 2,
      maxIdle: options.maxIdle ?? 8,
      maxCallsPerIsolate: options.maxCallsPerIsolate ?? 200,
      maxScriptsPerIsolate: options.maxScriptsPerIsolate ?? 64,
      maxIsolates: options.maxIsolates ?? 16,
      onCatastrophicError: options.onCatastrophicError,
    };
  }

  /** Lease an isolate with this memory limit (waits while maxIsolates are leased). */
  acquire(memoryMb: number, signal?: AbortSignal): Promise<PooledIsolate> {
    if (this.closed) return Promise.reject(new SandboxError('SANDBOX_CLOSED', 'the sandbox is closed'));
    const lease = this.tryLease(memoryMb);
    if (lease !== undefined) return Promise.resolve(lease);
    return new Promise<PooledIsolate>((resolve, reject) => {
      const waiter: Waiter = {
        memoryMb,
        resolve,
        reject,
        signal,
        onAbort: () => {
          const at = this.waiters.indexOf(waiter);
          if (at >= 0) this.waiters.splice(at, 1);
          reject(new SandboxError('FUNCTION_CANCELLED', 'the run was cancelled'));
        },
      };
      if (signal?.aborted === true) return waiter.onAbort();
      signal?.addEventListener('abort', waiter.onAbort, { once: true });
      this.waiters.push(waiter);
    });
  }

  /** Return a lease; `reusable: false` (a limit was hit, isolated-vm failed) disposes it. */
  release(lease: PooledIsolate, reusable: boolean): void {
    this.leased.delete(lease);
    lease.calls++;
    const idle = this.idleList(lease.memoryMb);
    if (
      reusable &&
      !this.closed &&
      !lease.disposed &&
      lease.calls < this.options.maxCallsPerIsolate &&
      idle.length < this.options.maxIdlePerSize &&
      this.stats().idle < this.options.maxIdle
    ) {
      idle.push(lease);
    } else {
      lease.dispose();
    }
    this.drain();
  }

  /** Dispose every isolate (leased ones too: their calls fail) and refuse further calls. */
  close(): void {
    this.closed = true;
    for (const list of this.idle.values()) for (const lease of list) lease.dispose();
    this.idle.clear();
    for (const lease of this.leased) lease.dispose();
    for (const waiter of this.waiters.splice(0)) {
      waiter.signal?.removeEventListener('abort', waiter.onAbort);
      waiter.reject(new SandboxError('SANDBOX_CLOSED', 'the sandbox is closed'));
    }
  }

  /** For tests and metrics. */
  stats(): { leased: number; idle: number; created: number; waiting: number } {
    let idle = 0;
    for (const list of this.idle.values()) idle += list.length;
    return { leased: this.leased.size, idle, created: this.created, waiting: this.waiters.length };
  }

  private idleList(memoryMb: number): PooledIsolate[] {
    let list = this.idle.get(memoryMb);
    if (list === undefined) {
      list = [];
      this.idle.set(memoryMb, list);
    }
    return list;
  }

  private tryLease(memoryMb: number): PooledIsolate | undefined {
    const idle = this.idleList(memoryMb);
    for (let lease = idle.pop(); lease !== undefined; lease = idle.pop()) {
      if (!lease.disposed) {
        this.leased.add(lease);
        return lease;
      }
    }
    if (this.leased.size >= this.options.maxIsolates) return undefined;
    const lease = new PooledIsolate(
      memoryMb,
      this.options.maxScriptsPerIsolate,
      this.options.onCatastrophicError,
    );
    this.created++;
    this.leased.add(lease);
    return lease;
  }

  private drain(): void {
    while (this.waiters.length > 0) {
      const waiter = this.waiters[0] as Waiter;
      const lease = this.tryLease(waiter.memoryMb);
      if (lease === undefined) return;
      this.waiters.shift();
      waiter.signal?.removeEventListener('abort', waiter.onAbort);
      waiter.resolve(lease);
    }
  }
}
