// Benchmark of @flowsafe/redact: throughput of the one-pass redactor over 10 MB of log-like
// text with 10, 100 and 1,000 registered secrets (each with all its encoded forms), against
// the naive baseline (one split/join per pattern, longest first) measured in the same run on
// a 1 MB slice, with identical outputs required; and the stream path (64 KiB Buffer chunks)
// against the whole-string path. Last line: one JSON object.

import { once } from 'node:events';
import { Redactor, encodedForms } from '../packages/redact/src/index';

const TOTAL_CHARS = 10 * 1024 * 1024;
const NAIVE_CHARS = 1024 * 1024;
const COUNTS = [10, 100, 1000] as const;

function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const rand = prng(42);
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const token = (n: number, alphabet = ALNUM): string => {
  let s = '';
  for (let i = 0; i < n; i++) s += alphabet[Math.floor(rand() * alphabet.length)];
  return s;
};

function makeSecret(i: number): string {
  switch (i % 5) {
    case 0:
      return 'ghp_' + token(36);
    case 1:
      return 'sk_live_' + token(24);
    case 2:
      return `${token(8, '0123456789abcdef')}-${token(4, '0123456789abcdef')}-${token(12, '0123456789abcdef')}`;
    case 3:
      return token(12) + pick(['!', '#', '$', '&', '/', '+', ' ', '"']) + token(10);
    default:
      return 'pw-' + token(16, ALNUM + '_-.~');
  }
}

const secrets = Array.from({ length: 1000 }, (_, i) => makeSecret(i));

const WORDS =
  'request started finished user item order cache miss hit retry worker queue job flow run block api http GET POST 200 404 500 ms duration token session payload upstream'.split(
    ' ',
  );
function logText(chars: number, inserted: readonly string[]): string {
  const lines: string[] = [];
  let len = 0;
  let n = 0;
  while (len < chars) {
    const t = new Date(1_700_000_000_000 + n * 137).toISOString();
    let line = `${t} ${pick(['INFO', 'DEBUG', 'WARN', 'ERROR'])} [worker-${n % 8}] reqId=${token(12, '0123456789abcdef')}`;
    const words = 5 + Math.floor(rand() * 10);
    for (let w = 0; w < words; w++)
      line += ' ' + pick(WORDS) + (rand() < 0.3 ? '=' + token(1 + Math.floor(rand() * 10)) : '');
    if (n % 97 === 0 && inserted.length > 0) {
      const forms = encodedForms(pick(inserted));
      line += ` auth=${pick(forms)} done`;
    }
    lines.push(line);
    len += line.length + 1;
    n++;
  }
  return lines.join('\n').slice(0, chars);
}

/** One split/join per pattern, longest first (leftmost-longest for non-overlapping secrets). */
function naiveFor(count: number): (text: string) => string {
  const patterns = new Map<string, string>();
  for (let i = 0; i < count; i++) {
    for (const f of encodedForms(secrets[i]!)) if (!patterns.has(f)) patterns.set(f, `[REDACTED:S${i}]`);
  }
  const sorted = [...patterns].sort((a, b) => b[0].length - a[0].length);
  return (text) => {
    let out = text;
    for (const [p, mask] of sorted) if (out.includes(p)) out = out.split(p).join(mask);
    return out;
  };
}

function time(fn: () => void, runs: number): number {
  const times: number[] = [];
  for (let r = 0; r < runs; r++) {
    const t0 = process.hrtime.bigint();
    fn();
    times.push(Number(process.hrtime.bigint() - t0) / 1e9);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

/**
 * Write the input as 64 KiB chunks into r.stream() and consume what comes out (collected
 * only when `collect`, so timed runs measure the stream, not a final 10 MB join).
 */
async function streamOnce(
  r: Redactor,
  chunks: ReadonlyArray<string | Buffer>,
  collect: boolean,
): Promise<string> {
  const s = r.stream();
  const parts: string[] = [];
  let chars = 0;
  s.on('data', (part: string) => {
    chars += part.length;
    if (collect) parts.push(part);
  });
  const done = once(s, 'end');
  for (const c of chunks) s.write(c);
  s.end();
  await done;
  return collect ? parts.join('') : String(chars);
}

const CHUNK = 64 * 1024;
function chunksOf<T extends string | Buffer>(whole: T): T[] {
  const out: T[] = [];
  for (let o = 0; o < whole.length; o += CHUNK) out.push(whole.slice(o, o + CHUNK) as T);
  return out;
}

const text = logText(TOTAL_CHARS, secrets.slice(0, 10));
const textBytes = Buffer.byteLength(text);
const mbPerS: Record<string, number> = {};
const naiveMbPerS: Record<string, number> = {};
let streamRatio = 0;
const round = (x: number): number => Math.round(x * 100) / 100;

for (const count of COUNTS) {
  const r = new Redactor();
  for (let i = 0; i < count; i++) r.add(`S${i}`, secrets[i]!);
  const t0 = process.hrtime.bigint();
  const whole = r.redact(text);
  const buildAndFirst = Number(process.hrtime.bigint() - t0) / 1e6;
  const sec = time(() => r.redact(text), 7);
  mbPerS[count] = round(textBytes / 1e6 / sec);

  const slice = text.slice(0, NAIVE_CHARS);
  const naive = naiveFor(count);
  const naiveOut = naive(slice);
  const ours = r.redact(slice);
  if (naiveOut !== ours) throw new Error(`naive and redactor outputs differ at ${count} secrets`);
  if (!whole.includes('[REDACTED:')) throw new Error('no secret was masked');
  const naiveSec = time(() => naive(slice), count >= 1000 ? 1 : 3);
  naiveMbPerS[count] = round(Buffer.byteLength(slice) / 1e6 / naiveSec);

  if (count === 1000) {
    const stringChunks = chunksOf(text);
    const bufferChunks = chunksOf(Buffer.from(text, 'utf8'));
    if ((await streamOnce(r, stringChunks, true)) !== whole)
      throw new Error('stream output (strings) differs');
    if ((await streamOnce(r, bufferChunks, true)) !== whole)
      throw new Error('stream output (Buffers) differs');
    // Interleave the paths so machine noise hits them alike; compare medians.
    const wholeRuns: number[] = [];
    const stringRuns: number[] = [];
    const bufferRuns: number[] = [];
    const timeAsync = async (fn: () => Promise<unknown>): Promise<number> => {
      const s0 = process.hrtime.bigint();
      await fn();
      return Number(process.hrtime.bigint() - s0) / 1e9;
    };
    for (let k = 0; k < 9; k++) {
      wholeRuns.push(time(() => r.redact(text), 1));
      stringRuns.push(await timeAsync(() => streamOnce(r, stringChunks, false)));
      bufferRuns.push(await timeAsync(() => streamOnce(r, bufferChunks, false)));
    }
    const median = (xs: number[]): number => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    streamRatio = round(median(wholeRuns) / median(stringRuns));
    console.log(
      `stream ratio: string chunks ${streamRatio}, Buffer chunks (incl. UTF-8 decoding) ${round(median(wholeRuns) / median(bufferRuns))}`,
    );
  }
  console.log(
    `secrets=${count} build+first=${buildAndFirst.toFixed(0)}ms ours=${mbPerS[count]}MB/s naive=${naiveMbPerS[count]}MB/s`,
  );
}

const result = {
  bench: 'redact',
  mbPerS,
  naiveMbPerS,
  flatness: round(mbPerS[1000]! / mbPerS[10]!),
  speedupAt1000: round(mbPerS[1000]! / naiveMbPerS[1000]!),
  streamRatio,
};
console.log(JSON.stringify(result));
