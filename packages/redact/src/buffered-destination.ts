// Where a logger's lines go unless told otherwise: stdout (or a file) through pino's sonic-boom,
// written in chunks of at least 4 KiB rather than once per line or per turn of the event loop
// (pino's low-overhead mode: a busy server would otherwise pay a thread-pool round trip every
// few requests), and at the latest `maxDelayMs` after a line was logged, so that the log of a
// quiet server stays current. What is still gathered is written by flush()/flushSync() and
// when the process exits.
//
// The lines are gathered here, not in sonic-boom: sonic-boom 4 measures the byte length of its
// whole pending chunk on every write, which with a 4 KiB chunk cost 2.4 µs a line (more than
// pino's own work for the line); here a line costs an append to an array.
import { pino } from 'pino';

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
  // sonic-boom writes a chunk of minLength or more at once and keeps a shorter one (the rest
  // handed over by flush) until flush/flushSync: so flushSync at exit writes it synchronously
  const sonic = pino.destination({ dest, sync: false, minLength });
  let lines: string[] = [];
  let gathered = 0;
  /** hands what is gathered to sonic-boom */
  const handOver = (): boolean => {
    if (lines.length === 0) return true;
    const chunk = lines.length === 1 ? (lines[0] as string) : lines.join('');
    lines = [];
    gathered = 0;
    return sonic.write(chunk);
  };
  let waiting = false;
  // one timer per destination, never keeping the process alive
  setInterval(() => {
    if (!waiting) return;
    waiting = false;
    handOver();
    sonic.flush();
  }, opts.maxDelayMs ?? 250).unref();
  const destination: BufferedDestination = {
    write(line) {
      waiting = true;
      lines.push(line);
      gathered += line.length;
      return gathered >= minLength ? handOver() : true;
    },
    flush(cb) {
      waiting = false;
      handOver();
      sonic.flush(cb);
    },
    flushSync() {
      waiting = false;
      handOver();
      sonic.flushSync();
    },
  };
  flushAtExit(destination);
  return destination;
}
