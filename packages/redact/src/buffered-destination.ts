// Where a logger's lines go unless told otherwise: stdout (or a file), written in chunks of at
// least 4 KiB rather than once per line, and at the latest `maxDelayMs` after a line was
// logged, so that the log of a quiet server stays current. What is still gathered is written
// by flush()/flushSync() and when the process exits.
//
// Lines are gathered in an array (a line costs an append) and a chunk is written by
// ChunkWriter: synchronously while the descriptor takes it, through the thread pool only
// while a slow reader holds it up. pino's sonic-boom did this job before; in its asynchronous
// mode every chunk cost a thread-pool round trip (bench/server: ~2% of the ratio), its
// synchronous mode sleeps 100 ms on EAGAIN with the event loop blocked, and it measured the
// byte length of its whole pending chunk on every write (2.4 µs a line).
import { openSync } from 'node:fs';
import { ChunkWriter } from './chunk-writer';

export interface BufferedDestinationOptions {
  /** characters gathered before a write; default 4096 */
  minLength?: number;
  /** the longest a line waits for more lines; default 250 */
  maxDelayMs?: number;
}

/** A pino destination stream (write, flush, flushSync) on a file descriptor or a path. */
export interface BufferedDestination {
  write(line: string): boolean;
  flush(cb?: (err?: Error) => void): void;
  flushSync(): void;
}

/** Destinations still holding lines at exit; weakly held, so a dropped one can be collected. */
const open = new Set<WeakRef<{ flushSync(): void }>>();
let exitHooked = false;

function flushAtExit(dest: { flushSync(): void }): void {
  open.add(new WeakRef(dest));
  if (exitHooked) return;
  exitHooked = true;
  process.once('exit', () => {
    for (const ref of open) {
      try {
        ref.deref()?.flushSync();
      } catch {
        // the descriptor may already be closed; nothing more can be written
      }
    }
  });
}

export function bufferedDestination(
  dest: number | string = 1,
  opts: BufferedDestinationOptions = {},
): BufferedDestination {
  const minLength = opts.minLength ?? 4096;
  const writer = new ChunkWriter(typeof dest === 'number' ? dest : openSync(dest, 'a'));
  let lines: string[] = [];
  let gathered = 0;
  /** writes what is gathered */
  const handOver = (): void => {
    if (lines.length === 0) return;
    const chunk = lines.length === 1 ? (lines[0] as string) : lines.join('');
    lines = [];
    gathered = 0;
    writer.write(chunk);
  };
  // one timer per destination, never keeping the process alive
  setInterval(handOver, opts.maxDelayMs ?? 250).unref();
  const destination: BufferedDestination = {
    write(line) {
      lines.push(line);
      gathered += line.length;
      if (gathered >= minLength) handOver();
      return true;
    },
    flush(cb) {
      handOver();
      writer.flush(cb ?? (() => undefined));
    },
    flushSync() {
      handOver();
      writer.flushSync();
    },
  };
  flushAtExit(destination);
  return destination;
}
