// Where a logger's lines go unless told otherwise: stdout (or a file) through pino's sonic-boom,
// written in chunks of at least 4 KiB rather than once per line or per turn of the event loop
// (pino's low-overhead mode: a busy server would otherwise pay a thread-pool round trip every
// few requests), and at the latest `maxDelayMs` after a line was logged, so that the log of a
// quiet server stays current. What is still buffered is written by flush() and when the
// process exits (pino registers that for its destinations).
import { pino } from 'pino';

export interface BufferedDestinationOptions {
  /** bytes gathered before a write; default 4096 */
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

export function bufferedDestination(
  dest: number | string = 1,
  opts: BufferedDestinationOptions = {},
): BufferedDestination {
  const sonic = pino.destination({ dest, sync: false, minLength: opts.minLength ?? 4096 });
  let waiting = false;
  // one timer per destination, never keeping the process alive
  setInterval(() => {
    if (!waiting) return;
    waiting = false;
    sonic.flush();
  }, opts.maxDelayMs ?? 250).unref();
  return {
    write(line) {
      waiting = true;
      return sonic.write(line);
    },
    flush(cb) {
      waiting = false;
      sonic.flush(cb);
    },
    flushSync() {
      waiting = false;
      sonic.flushSync();
    },
  };
}
