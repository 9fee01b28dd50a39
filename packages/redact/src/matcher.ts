// A compiled Aho-Corasick automaton over UTF-16 code units, laid out for a tight scan loop:
// the alphabet is compressed to the code units that occur in patterns (everything else is
// class 0, which always leads back to the root), and the goto function is a dense Int32Array
// holding pre-multiplied row offsets. A negative entry (~offset) marks a state with at least
// one pattern ending in it, so the hot loop is one table read and one sign test per char.
// Matchers are immutable; the Redactor layers a big one with a small one for recent additions.

/** A registered pattern. It is alive while at least one name owns it. */
export interface PatternEntry {
  readonly text: string;
  /** Names that registered this exact pattern, oldest first; the first one names the mask. */
  readonly owners: string[];
}

export interface Matcher {
  /** Pre-multiplied transitions: next = delta[offset + cmap[code]]; negative = ~offset of an output state. */
  readonly delta: Int32Array;
  /** Code unit -> alphabet class (0 = a code unit no pattern uses). */
  readonly cmap: Uint16Array;
  /** Alphabet size (row width). */
  readonly width: number;
  /** Per state: depth of the longest suffix state that can still be extended (an occurrence in progress). */
  readonly ext: Int32Array;
  /** Per state: index in `entries` of the pattern ending exactly here, or -1. */
  readonly term: Int32Array;
  /** Per state: nearest state on the failure chain (itself included) where a pattern ends, or -1. */
  readonly outLink: Int32Array;
  readonly fail: Int32Array;
  readonly entries: readonly PatternEntry[];
  /** Total number of pattern characters (the build cost). */
  readonly chars: number;
  /** Length of the shortest pattern (dead ones included): shorter text holds no match. */
  readonly shortest: number;
}

/** The longest alive pattern ending in state `si` (a state index, not an offset). */
export function bestAt(m: Matcher, si: number): PatternEntry | undefined {
  let e = m.outLink[si]!;
  while (e >= 0) {
    const entry = m.entries[m.term[e]!]!;
    if (entry.owners.length > 0) return entry;
    e = m.outLink[m.fail[e]!]!;
  }
  return undefined;
}

/** Build the automaton for these patterns (each non-empty, all distinct). */
export function compileMatcher(entries: readonly PatternEntry[]): Matcher {
  const cmap = new Uint16Array(65536);
  let width = 1;
  let chars = 0;
  let shortest = Infinity;
  for (const { text } of entries) {
    chars += text.length;
    if (text.length < shortest) shortest = text.length;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (cmap[c] === 0) cmap[c] = width++;
    }
  }

  // Trie, in a growable dense table (0 = no child: the root is never a child).
  let cap = Math.max(16, Math.min(chars + 1, 1024));
  let delta = new Int32Array(cap * width);
  let depth = new Int32Array(cap);
  let term = new Int32Array(cap).fill(-1);
  let hasChild = new Uint8Array(cap);
  let count = 1;
  const grow = (): void => {
    const next = Math.min(cap * 2, chars + 1);
    const d = new Int32Array(next * width);
    d.set(delta);
    delta = d;
    const dp = new Int32Array(next);
    dp.set(depth);
    depth = dp;
    const t = new Int32Array(next).fill(-1);
    t.set(term);
    term = t;
    const h = new Uint8Array(next);
    h.set(hasChild);
    hasChild = h;
    cap = next;
  };
  for (let p = 0; p < entries.length; p++) {
    const text = entries[p]!.text;
    let node = 0;
    for (let i = 0; i < text.length; i++) {
      const k = node * width + cmap[text.charCodeAt(i)]!;
      let nx = delta[k]!;
      if (nx === 0) {
        if (count === cap) grow();
        nx = count++;
        delta[k] = nx;
        depth[nx] = depth[node]! + 1;
        hasChild[node] = 1;
      }
      node = nx;
    }
    term[node] = p;
  }

  // Failure links and the full goto function, breadth first.
  const fail = new Int32Array(count);
  const outLink = new Int32Array(count).fill(-1);
  const ext = new Int32Array(count);
  const queue = new Int32Array(count);
  let head = 0;
  let tail = 0;
  queue[tail++] = 0;
  while (head < tail) {
    const u = queue[head++]!;
    const row = u * width;
    const frow = fail[u]! * width;
    if (u !== 0) {
      outLink[u] = term[u]! >= 0 ? u : outLink[fail[u]!]!;
      ext[u] = hasChild[u] ? depth[u]! : ext[fail[u]!]!;
    }
    for (let c = 1; c < width; c++) {
      const v = delta[row + c]!;
      if (v !== 0) {
        fail[v] = u === 0 ? 0 : delta[frow + c]!;
        queue[tail++] = v;
      } else if (u !== 0) {
        delta[row + c] = delta[frow + c]!;
      }
    }
  }

  // Pre-multiply targets and flag output states with the sign bit.
  const size = count * width;
  const table = delta.length === size ? delta : delta.slice(0, size);
  for (let k = 0; k < size; k++) {
    const v = table[k]!;
    table[k] = outLink[v]! >= 0 ? ~(v * width) : v * width;
  }
  return {
    delta: table,
    cmap,
    width,
    ext,
    term: term.slice(0, count),
    outLink,
    fail,
    entries,
    chars,
    shortest,
  };
}
