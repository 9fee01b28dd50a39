// One pass of leftmost-longest matching over a text with one or more automata (a redactor's
// layers). A match is committed only once no occurrence that starts earlier (or at the same
// place and ends later) can still be in progress; scanning then restarts at the match end, so
// the output never holds part of a value (e.g. one secret that is a prefix of another).
// In non-final mode (streams) the scan stops at the first position a later chunk could still
// change and reports it as `safe`: the caller keeps text[safe..] (at most longest - 1 chars).

import { bestAt, type Matcher, type PatternEntry } from './matcher';

export interface ScanResult {
  /** Redacted text of `text[0, safe)`. */
  readonly output: string;
  /** Everything before this index is final. Equals text.length when `final`. */
  readonly safe: number;
}

export function maskOf(entry: PatternEntry): string {
  return `[REDACTED:${entry.owners[0] ?? ''}]`;
}

/** Redact `text`; when not `final`, stop where a later chunk could still extend a match. */
export function scan(layers: readonly Matcher[], text: string, final: boolean): ScanResult {
  if (layers.length === 0) return { output: text, safe: text.length };
  if (layers.length === 1) return scanOne(layers[0]!, text, final, false) as ScanResult;
  return scanMany(layers, text, final, false) as ScanResult;
}

/** The leftmost-longest first match in `text`, or undefined. */
export function findFirstEntry(layers: readonly Matcher[], text: string): PatternEntry | undefined {
  if (layers.length === 0) return undefined;
  if (layers.length === 1) return scanOne(layers[0]!, text, true, true) as PatternEntry | undefined;
  return scanMany(layers, text, true, true) as PatternEntry | undefined;
}

function scanOne(
  m: Matcher,
  text: string,
  final: boolean,
  first: boolean,
): ScanResult | PatternEntry | undefined {
  const { delta, cmap, width, ext } = m;
  const n = text.length;
  let out = '';
  let last = 0;
  let i = 0;
  let s = 0;
  for (;;) {
    // Hot loop: no candidate pending, stop at the first state where a pattern ends.
    while (i < n) {
      s = delta[s + cmap[text.charCodeAt(i++)]!]!;
      if (s < 0) break;
    }
    if (s >= 0) break;
    s = ~s;
    const found = bestAt(m, s / width);
    if (found === undefined) continue;
    let pEntry = found;
    let pStart = i - found.text.length;
    let pEnd = i;
    for (;;) {
      if (i - ext[s / width]! > pStart) break;
      if (i >= n) {
        if (final) break;
        const safe = i - ext[s / width]!;
        return { output: out + text.slice(last, safe), safe };
      }
      s = delta[s + cmap[text.charCodeAt(i++)]!]!;
      if (s < 0) {
        s = ~s;
        const e = bestAt(m, s / width);
        if (e !== undefined) {
          const st = i - e.text.length;
          if (st < pStart || st === pStart) {
            pStart = st;
            pEnd = i;
            pEntry = e;
          }
        }
      }
    }
    if (first) return pEntry;
    out += text.slice(last, pStart) + maskOf(pEntry);
    last = pEnd;
    i = pEnd;
    s = 0;
  }
  if (first) return undefined;
  if (final) return { output: last === 0 ? text : out + text.slice(last), safe: n };
  const safe = n - ext[s / width]!;
  return { output: last === 0 && safe === n ? text : out + text.slice(last, safe), safe };
}

function scanMany(
  layers: readonly Matcher[],
  text: string,
  final: boolean,
  first: boolean,
): ScanResult | PatternEntry | undefined {
  const k = layers.length;
  const states = new Int32Array(k);
  const n = text.length;
  let out = '';
  let last = 0;
  let i = 0;
  let pEntry: PatternEntry | undefined;
  let pStart = 0;
  let pEnd = 0;

  /** Longest in-progress occurrence over all layers. */
  const extent = (): number => {
    let x = 0;
    for (let j = 0; j < k; j++) {
      const m = layers[j]!;
      const e = m.ext[states[j]! / m.width]!;
      if (e > x) x = e;
    }
    return x;
  };

  for (;;) {
    if (pEntry !== undefined && i - extent() > pStart) {
      if (first) return pEntry;
      out += text.slice(last, pStart) + maskOf(pEntry);
      last = pEnd;
      i = pEnd;
      states.fill(0);
      pEntry = undefined;
      continue;
    }
    if (i >= n) {
      if (pEntry !== undefined && final) {
        if (first) return pEntry;
        out += text.slice(last, pStart) + maskOf(pEntry);
        last = pEnd;
        i = pEnd;
        states.fill(0);
        pEntry = undefined;
        continue;
      }
      break;
    }
    const code = text.charCodeAt(i++);
    let best: PatternEntry | undefined;
    for (let j = 0; j < k; j++) {
      const m = layers[j]!;
      let s = m.delta[states[j]! + m.cmap[code]!]!;
      if (s < 0) {
        s = ~s;
        const e = bestAt(m, s / m.width);
        if (e !== undefined && (best === undefined || e.text.length > best.text.length)) best = e;
      }
      states[j] = s;
    }
    if (best !== undefined) {
      const st = i - best.text.length;
      if (pEntry === undefined || st <= pStart) {
        pEntry = best;
        pStart = st;
        pEnd = i;
      }
    }
  }
  if (first) return undefined;
  if (final) return { output: last === 0 ? text : out + text.slice(last), safe: n };
  const safe = n - extent();
  return { output: out + text.slice(last, safe), safe };
}
