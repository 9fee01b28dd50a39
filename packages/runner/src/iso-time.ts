// ISO 8601 timestamps for run records, made once per millisecond: a busy server stamps several
// records in the same millisecond (queued, started, each step), and Date#toISOString costs
// more than everything else about a stamp.
let lastMs = Number.NaN;
let lastIso = '';

/** `new Date(ms).toISOString()`, reused while `ms` stays the same. */
export function isoAt(ms: number): string {
  if (ms !== lastMs) {
    lastIso = new Date(ms).toISOString();
    lastMs = ms;
  }
  return lastIso;
}

/** The current time as `new Date().toISOString()` gives it. */
export function isoNow(): string {
  return isoAt(Date.now());
}
