// Writes chunks of log text to a file descriptor in order: synchronously while the descriptor
// takes them (a write(2) of a few KiB to a file, a terminal or a pipe with room: about a
// microsecond), and through libuv's thread pool only from the moment it does not (a pipe whose
// reader is slow answers EAGAIN or takes part of a chunk) until the backlog is written. The
// event loop never blocks on a slow reader, and a busy server does not pay a thread-pool
// round trip per chunk: on this 2-core machine an asynchronous write cost the main thread
// 8 µs idle and far more under load (bench/server, 20 interleaved pairs: rpsRatio median
// 0.497 with sonic-boom's asynchronous mode, 0.506 with this).
// A descriptor that fails otherwise (EPIPE: the reader went away, EBADF) is given up: the
// lines are dropped and the process carries on, as it would with a closed stdout.
import { write, writeSync } from 'node:fs';

/** How long a backlog waits before trying again after EAGAIN. */
const RETRY_MS = 10;

function codeOf(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}

export class ChunkWriter {
  /** bytes not yet written, oldest first (empty while the descriptor keeps up) */
  private backlog: Buffer[] = [];
  /** an asynchronous write of backlog[0] is in libuv's hands */
  private inFlight = false;
  private retry: NodeJS.Timeout | undefined;
  private broken = false;
  private drained: Array<(err?: Error) => void> = [];

  constructor(private readonly fd: number) {}

  /** Writes `text` after everything written before it. */
  write(text: string): void {
    if (this.broken || text.length === 0) return;
    const buf = Buffer.from(text, 'utf8');
    if (this.backlog.length > 0) {
      this.backlog.push(buf);
      return;
    }
    let done = 0;
    try {
      while (done < buf.length) done += writeSync(this.fd, buf, done, buf.length - done);
      return;
    } catch (err) {
      if (codeOf(err) !== 'EAGAIN') {
        this.giveUp(err);
        return;
      }
    }
    this.backlog.push(done === 0 ? buf : buf.subarray(done));
    this.pump();
  }

  /** Calls `cb` once everything written so far has reached the descriptor. */
  flush(cb: (err?: Error) => void): void {
    if (this.backlog.length === 0) process.nextTick(cb);
    else this.drained.push(cb);
  }

  /**
   * Writes the backlog synchronously, waiting out EAGAIN for at most `maxWaitMs` (for the
   * end of the process). A chunk that an asynchronous write already holds is left to it, so
   * in that one case the rest can land before it.
   */
  flushSync(maxWaitMs = 1000): void {
    if (this.retry !== undefined) {
      clearTimeout(this.retry);
      this.retry = undefined;
    }
    const deadline = Date.now() + maxWaitMs;
    const pause = new Int32Array(new SharedArrayBuffer(4));
    let i = this.inFlight ? 1 : 0;
    while (!this.broken && i < this.backlog.length) {
      const buf = this.backlog[i] as Buffer;
      try {
        const n = writeSync(this.fd, buf);
        if (n < buf.length) this.backlog[i] = buf.subarray(n);
        else i++;
      } catch (err) {
        if (codeOf(err) !== 'EAGAIN' || Date.now() >= deadline) {
          this.giveUp(err);
          return;
        }
        Atomics.wait(pause, 0, 0, 1);
      }
    }
    this.backlog.length = this.inFlight ? Math.min(this.backlog.length, 1) : 0;
    this.settle();
  }

  private pump(): void {
    this.retry = undefined;
    const head = this.backlog[0];
    if (head === undefined || this.broken) {
      this.settle();
      return;
    }
    this.inFlight = true;
    write(this.fd, head, 0, head.length, null, (err, n) => {
      this.inFlight = false;
      if (this.backlog[0] !== head) {
        // flushSync or a failure emptied the backlog meanwhile
        if (this.backlog.length > 0 && this.retry === undefined && !this.broken) this.pump();
        else this.settle();
        return;
      }
      if (err) {
        if (codeOf(err) === 'EAGAIN') {
          this.retry = setTimeout(() => this.pump(), RETRY_MS);
          this.retry.unref();
          return;
        }
        this.giveUp(err);
        return;
      }
      if (n < head.length) this.backlog[0] = head.subarray(n);
      else this.backlog.shift();
      this.pump();
    });
  }

  private giveUp(err: unknown): void {
    this.broken = true;
    this.backlog = [];
    if (this.retry !== undefined) clearTimeout(this.retry);
    this.retry = undefined;
    const error = err instanceof Error ? err : new Error(String(err));
    const waiting = this.drained;
    this.drained = [];
    for (const cb of waiting) cb(error);
  }

  private settle(): void {
    if (this.backlog.length > 0) return;
    const waiting = this.drained;
    this.drained = [];
    for (const cb of waiting) cb();
  }
}
