// One pass of leftmost-longest matching over a text with one or more automata (a redactor's
// layers). The leftmost occurrence of a known pattern (the longest one starting there) opens
// a masked region; any occurrence that starts inside the region and ends after it extends the
// region, so the output never holds part of a value, whether one secret is a prefix of another
// or two secrets overlap ("xxab" + "abcdef" in "xxabcdef" is one masked region).
// A region is decided only once no occurrence that could change it is still in progress (the
// automaton's `ext`: depth of the longest suffix that can still grow into a pattern).
// In non-final mode (streams) the scan stops at the first position a later chunk could still
// change (`safe`); the caller keeps text[safe..] (at most longest - 1 chars) and passes
// `frontier` back: how many of those chars already lie inside an emitted mask.

import { bestAt, type Matcher, type PatternEntry } from './matcher';

export interface ScanResult {
  /** Redacted text of `text[0, safe)`. */
  readonly output: string;
  /** Everything before this index is final. Equals text.length when `final`. */
  readonly safe: number;
  /** Chars of text[safe..] already covered by an emitted mask (pass back to the next scan). */
  readonly frontier: number;
}

export function maskOf(entry: PatternEntry): string {
  return `[REDACTED:${entry.owners[0] ?? ''}]`;
}

/** Steps one or more automata in lockstep and reports the longest alive pattern ending here. */
interface Cursor {
  reset(): void;
  /** Advance from i until a char ends an alive pattern (then `hit` is set); returns the new i. */
  skip(text: string, i: number, n: number): number;
  hit: PatternEntry | undefined;
  /** Advance one char; the longest alive pattern ending at it, if any. */
  step(code: number): PatternEntry | undefined;
  /** Length of the longest occurrence still in progress. */
  ext(): number;
}

class OneCursor implements Cursor {
  hit: PatternEntry | undefined;
  #s = 0;
  readonly #m: Matcher;

  constructor(m: Matcher) {
    this.#m = m;
  }

  reset(): void {
    this.#s = 0;
  }

  skip(text: string, i: number, n: number): number {
    const m = this.#m;
    const { delta, cmap, width } = m;
    let s = this.#s;
    for (;;) {
      // Hot loop: one table read and one sign test per char.
      while (i < n) {
        s = delta[s + cmap[text.charCodeAt(i++)]!]!;
        if (s < 0) break;
      }
      if (s >= 0) {
        this.#s = s;
        this.hit = undefined;
        return i;
      }
      s = ~s;
      const e = bestAt(m, s / width);
      if (e !== undefined) {
        this.#s = s;
        this.hit = e;
        return i;
      }
    }
  }

  step(code: number): PatternEntry | undefined {
    const m = this.#m;
    let s = m.delta[this.#s + m.cmap[code]!]!;
    if (s >= 0) {
      this.#s = s;
      return undefined;
    }
    s = ~s;
    this.#s = s;
    return bestAt(m, s / m.width);
  }

  ext(): number {
    return this.#m.ext[this.#s / this.#m.width]!;
  }
}

class ManyCursor implements Cursor {
  hit: PatternEntry | undefined;
  readonly #layers: readonly Matcher[];
  readonly #states: Int32Array;

  constructor(layers: readonly Matcher[]) {
    this.#layers = layers;
    this.#states = new Int32Array(layers.length);
  }

  reset(): void {
    this.#states.fill(0);
  }

  skip(text: string, i: number, n: number): number {
    while (i < n) {
      const e = this.step(text.charCodeAt(i++));
      if (e !== undefined) {
        this.hit = e;
        return i;
      }
    }
    this.hit = undefined;
    return i;
  }

  step(code: number): PatternEntry | undefined {
    let best: PatternEntry | undefined;
    const states = this.#states;
    for (let j = 0; j < states.length; j++) {
      const m = this.#layers[j]!;
      let s = m.delta[states[j]! + m.cmap[code]!]!;
      if (s < 0) {
        s = ~s;
        const e = bestAt(m, s / m.width);
        if (e !== undefined && (best === undefined || e.text.length > best.text.length)) best = e;
      }
      states[j] = s;
    }
    return best;
  }

  ext(): number {
    let x = 0;
    for (let j = 0; j < this.#states.length; j++) {
      const m = this.#layers[j]!;
      const e = m.ext[this.#states[j]! / m.width]!;
      if (e > x) x = e;
    }
    return x;
  }
}

function cursorFor(layers: readonly Matcher[]): Cursor | undefined {
  if (layers.length === 0) return undefined;
  return layers.length === 1 ? new OneCursor(layers[0]!) : new ManyCursor(layers);
}

/** Redact `text`; when not `final`, stop where a later chunk could still change the output. */
export function scan(layers: readonly Matcher[], text: string, final: boolean, frontier = 0): ScanResult {
  const cur = cursorFor(layers);
  if (cur === undefined) {
    return { output: text.slice(Math.min(frontier, text.length)), safe: text.length, frontier: 0 };
  }
  return run(cur, text, final, frontier, false) as ScanResult;
}

/** The first masked region's name in `text`, or undefined. */
export function findFirstEntry(layers: readonly Matcher[], text: string): PatternEntry | undefined {
  const cur = cursorFor(layers);
  return cur === undefined ? undefined : (run(cur, text, true, 0, true) as PatternEntry | undefined);
}

function run(
  cur: Cursor,
  text: string,
  final: boolean,
  frontier: number,
  first: boolean,
): ScanResult | PatternEntry | undefined {
  const n = text.length;
  let out = '';
  let last = frontier; // text before `last` is in `out` (or in a mask emitted earlier)
  let i = 0;
  let region = frontier > 0; // a mask is emitted and covers text up to `end`
  let end = frontier;
  let pEntry: PatternEntry | undefined; // best candidate to open the next region
  let pStart = 0;
  let pEnd = 0;
  cur.reset();
  for (;;) {
    if (!region && pEntry === undefined) {
      i = cur.skip(text, i, n);
      const hit = cur.hit;
      if (hit === undefined) break;
      pEntry = hit;
      pStart = i - hit.text.length;
      pEnd = i;
    }
    const reach = i - cur.ext(); // no occurrence in progress starts before this
    if (region && (reach >= end || (i >= n && final))) {
      region = false;
      continue;
    }
    if (!region && pEntry !== undefined && (reach > pStart || (i >= n && final))) {
      if (first) return pEntry;
      // Open a region and rescan it for occurrences that start inside and end after it.
      out += text.slice(last, pStart) + maskOf(pEntry);
      region = true;
      end = pEnd;
      last = pEnd;
      i = pStart + 1;
      cur.reset();
      pEntry = undefined;
      continue;
    }
    if (i >= n) break;
    const e = cur.step(text.charCodeAt(i++));
    if (e === undefined) continue;
    const start = i - e.text.length;
    if (region && start < end) {
      if (i > end) {
        end = i;
        last = end;
        if (pEntry !== undefined && pStart < end) {
          // The region swallowed the candidate: merge it and rescan what it may hide.
          const from = Math.min(i - cur.ext(), pStart + 1);
          if (pEnd > end) {
            end = pEnd;
            last = end;
          }
          pEntry = undefined;
          i = from;
          cur.reset();
        }
      }
    } else if (pEntry === undefined || start <= pStart) {
      pEntry = e;
      pStart = start;
      pEnd = i;
    }
  }
  if (first) return undefined;
  if (final) return { output: last === 0 ? text : out + text.slice(last), safe: n, frontier: 0 };
  const safe = n - cur.ext();
  return {
    output: last < safe ? out + text.slice(last, safe) : out,
    safe,
    frontier: region ? end - safe : 0,
  };
}
