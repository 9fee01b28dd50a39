// The value-based redactor of SPEC §3 invariant 6: it knows every value of a project (and
// per-run additions such as fetched OAuth2 access tokens) in every encoding and masks each
// occurrence as [REDACTED:NAME] in one leftmost-longest pass.
//
// Patterns live in two layers so that adding a value never costs a rebuild of everything:
// a big compiled automaton plus a small one for values added since. The small one is rebuilt
// (lazily, on the next scan) at a cost bounded by its own size; once it reaches a quarter of
// the big one, both merge (amortised O(1) per pattern char). Removing a value marks its
// patterns dead at once (a dead pattern never masks); the big automaton drops them when a
// quarter of it is dead. A child redactor scans with its parent's layers plus its own.

import { encodedForms, formEncode, maskableLines } from './encodings';
import { deepRedact } from './deep-redact';
import { compileMatcher, type Matcher, type PatternEntry } from './matcher';
import { RedactError } from './redact-error';
import { createRedactStream, type RedactStreamOptions } from './redact-stream';
import { findFirstEntry, scan, type ScanResult } from './scan';
import type { Transform } from 'node:stream';

export interface RedactorOptions {
  /** Shortest value accepted by `add` (default 4). */
  minLength?: number;
}

/** Secret values as @flowsafe/secrets types them (structural: no dependency on that package). */
export type SecretValueLike =
  | string
  | { base64: string; filename?: string }
  | { username: string; password: string }
  | { clientId: string; clientSecret: string; tokenUrl?: string; scope?: string; audience?: string };

interface OwnEntry extends PatternEntry {
  inMain: boolean;
}

/** Below this many pattern characters the whole own set is simply recompiled. */
const SMALL_SET_CHARS = 4096;

export class Redactor {
  readonly #parent: Redactor | undefined;
  readonly #minLength: number;
  /** pattern text -> entry (own patterns only). */
  readonly #patterns = new Map<string, OwnEntry>();
  /** name -> registered value -> its patterns. */
  readonly #regs = new Map<string, Map<string, string[]>>();
  #main: Matcher | undefined;
  #mainDead = 0;
  #pending: OwnEntry[] = [];
  #small: Matcher | undefined;
  #dirty = false;
  /** the layers last handed out, the parent's layers they were built on, their shortest pattern */
  #layers: readonly Matcher[] | undefined;
  #layersParent: readonly Matcher[] | undefined;
  #shortest = Infinity;
  /** changes of this redactor's own values (see `version`) */
  #changes = 0;

  constructor(options: RedactorOptions = {}, parent?: Redactor) {
    const minLength = options.minLength ?? 4;
    if (!Number.isInteger(minLength) || minLength < 1) {
      throw new RedactError(
        'INVALID_VALUE',
        `minLength must be a positive integer, got ${String(minLength)}`,
      );
    }
    this.#minLength = minLength;
    this.#parent = parent;
  }

  /**
   * Register a value under a name: raw, base64 and base64url (padded and unpadded),
   * percent-encoded (encodeURIComponent and form style) and JSON-escaped. A multi-line value
   * is also masked line by line for each line of 8 characters or more.
   * Throws RedactError('VALUE_TOO_SHORT') below `minLength` (4) characters.
   */
  add(name: string, value: string): void {
    this.#checkName(name);
    if (typeof value !== 'string')
      throw new RedactError('INVALID_VALUE', `value for ${name} must be a string`);
    if (value.length < this.#minLength) {
      throw new RedactError(
        'VALUE_TOO_SHORT',
        `value for ${name} is shorter than ${this.#minLength} characters and cannot be masked safely; use a longer value`,
      );
    }
    this.#register(name, value, () => {
      const forms = new Set(encodedForms(value));
      for (const line of maskableLines(value)) for (const f of encodedForms(line)) forms.add(f);
      return [...forms];
    });
  }

  /**
   * Register a basic-auth pair: the username (when at least `minLength` characters), the
   * password, and `user:password` with its base64 forms (both as is and with each part
   * form-encoded first, as RFC 6749 client authentication does).
   */
  addBasic(name: string, username: string, password: string): void {
    this.#checkName(name);
    this.add(name, password);
    if (username.length >= this.#minLength) this.add(name, username);
    this.add(name, `${username}:${password}`);
    const formPair = `${formEncode(username)}:${formEncode(password)}`;
    if (formPair !== `${username}:${password}`) this.add(name, formPair);
  }

  /**
   * Register every sensitive field of a typed secret value: text, binary (the base64 text, the
   * bytes re-encoded, the decoded text when it is UTF-8, hex), basic, oauth2 (client id and
   * secret, and the basic pair used for client authentication).
   */
  addSecret(name: string, value: SecretValueLike): void {
    if (typeof value === 'string') {
      this.add(name, value);
    } else if ('base64' in value) {
      this.#addBinary(name, value.base64);
    } else if ('username' in value) {
      this.addBasic(name, value.username, value.password);
    } else {
      this.addBasic(name, value.clientId, value.clientSecret);
    }
  }

  /** Stop masking every value registered under `name` (or only `value`). */
  remove(name: string, value?: string): void {
    const regs = this.#regs.get(name);
    if (regs === undefined) return;
    const values = value === undefined ? [...regs.keys()] : [value];
    for (const v of values) {
      const patterns = regs.get(v);
      if (patterns === undefined) continue;
      regs.delete(v);
      for (const p of patterns) this.#release(name, p);
    }
    if (regs.size === 0) this.#regs.delete(name);
  }

  /** Is this exact value (or one of the encoded forms) registered here or in a parent? */
  has(value: string): boolean {
    const e = this.#patterns.get(value);
    if (e !== undefined && e.owners.length > 0) return true;
    return this.#parent?.has(value) ?? false;
  }

  /**
   * A number that grows whenever a value is added to or removed from this redactor or a parent.
   * Text redacted while `version` stayed the same needs no second pass: a pass now would find
   * exactly what the first one found.
   */
  get version(): number {
    return this.#changes + (this.#parent?.version ?? 0);
  }

  /** Number of registered names (parents' included). */
  get size(): number {
    return this.names().size;
  }

  /** Registered names (parents' included). */
  names(): Set<string> {
    const names = this.#parent?.names() ?? new Set<string>();
    for (const n of this.#regs.keys()) names.add(n);
    return names;
  }

  /** Every occurrence of a known value -> [REDACTED:NAME]; the longest match wins. */
  redact(text: string): string {
    const layers = this.layers();
    // text shorter than every pattern cannot hold one (most keys and small values)
    if (text.length < this.#shortest) return text;
    return scan(layers, text, true).output;
  }

  /** Redact UTF-8 bytes. Returns the same buffer when nothing was masked. */
  redactBuffer(buf: Buffer): Buffer {
    const text = buf.toString('utf8');
    const out = this.redact(text);
    return out === text ? buf : Buffer.from(out, 'utf8');
  }

  /** Deep copy with every string leaf and every object key redacted. */
  redactJson<T>(value: T): T {
    return deepRedact(value, this);
  }

  /** For push protection: the name of the first (leftmost) known value found in `text`. */
  findFirst(text: string): { name: string } | undefined {
    const e = findFirstEntry(this.layers(), text);
    return e === undefined ? undefined : { name: e.owners[0]! };
  }

  /** A chunk-safe Transform: a value split across any number of writes is still masked. */
  stream(options?: RedactStreamOptions): Transform {
    return createRedactStream(this, options);
  }

  /** A redactor that knows everything this one knows (now and later) plus its own additions. */
  child(): Redactor {
    return new Redactor({ minLength: this.#minLength }, this);
  }

  /** @internal Scan `text`; when not final, stop where a later chunk could extend a match. */
  scanChunk(text: string, final: boolean, frontier = 0): ScanResult {
    return scan(this.layers(), text, final, frontier);
  }

  /** @internal The compiled automata to scan with, parents' first. The same (read-only) array
   *  is handed out until this redactor or a parent changes its automata. */
  layers(): readonly Matcher[] {
    const parent = this.#parent?.layers();
    if (this.#dirty) this.#compile();
    if (this.#layers !== undefined && this.#layersParent === parent) return this.#layers;
    let layers: readonly Matcher[];
    if (this.#main === undefined && this.#small === undefined) layers = parent ?? [];
    else {
      const own = [...(parent ?? [])];
      if (this.#main !== undefined) own.push(this.#main);
      if (this.#small !== undefined) own.push(this.#small);
      layers = own;
    }
    let shortest = Infinity;
    for (const m of layers) if (m.shortest < shortest) shortest = m.shortest;
    this.#layers = layers;
    this.#layersParent = parent;
    this.#shortest = shortest;
    return layers;
  }

  #checkName(name: string): void {
    if (typeof name !== 'string' || name.length === 0 || /[\]\r\n]/.test(name)) {
      throw new RedactError('INVALID_NAME', `invalid secret name ${JSON.stringify(name)}`);
    }
  }

  #addBinary(name: string, base64: string): void {
    const bytes = Buffer.from(base64, 'base64');
    const canonical = bytes.toString('base64');
    if (canonical.length < this.#minLength) this.add(name, canonical); // throws VALUE_TOO_SHORT
    const values = new Set<string>([base64.trim()]);
    values.add(canonical);
    values.add(canonical.replace(/=+$/, ''));
    values.add(bytes.toString('base64url'));
    values.add(bytes.toString('hex'));
    try {
      const text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
      if (text.length >= this.#minLength) values.add(text);
    } catch {
      // not text: the encoded forms above are what can appear in a log
    }
    for (const v of values) {
      if (v.length >= this.#minLength) this.add(name, v);
    }
  }

  #register(name: string, value: string, forms: () => string[]): void {
    let regs = this.#regs.get(name);
    if (regs === undefined) {
      regs = new Map();
      this.#regs.set(name, regs);
    }
    if (regs.has(value)) return;
    const patterns = forms();
    regs.set(value, patterns);
    for (const p of patterns) this.#retain(name, p);
  }

  #retain(name: string, pattern: string): void {
    this.#changes++;
    const e = this.#patterns.get(pattern);
    if (e !== undefined) {
      if (e.owners.length === 0 && e.inMain) this.#mainDead--;
      e.owners.push(name);
      return;
    }
    const entry: OwnEntry = { text: pattern, owners: [name], inMain: false };
    this.#patterns.set(pattern, entry);
    this.#pending.push(entry);
    this.#dirty = true;
  }

  #release(name: string, pattern: string): void {
    this.#changes++;
    const e = this.#patterns.get(pattern);
    if (e === undefined) return;
    const at = e.owners.indexOf(name);
    if (at >= 0) e.owners.splice(at, 1);
    if (e.owners.length > 0) return;
    if (e.inMain) {
      this.#mainDead++;
      if (this.#mainDead * 4 > (this.#main?.entries.length ?? 0)) this.#dirty = true;
    } else {
      this.#patterns.delete(pattern);
      this.#pending = this.#pending.filter((p) => p !== e);
      this.#dirty = true;
    }
  }

  #compile(): void {
    this.#dirty = false;
    this.#layers = undefined;
    const mainChars = this.#main?.chars ?? 0;
    let pendingChars = 0;
    for (const e of this.#pending) pendingChars += e.text.length;
    const mainEntries = this.#main?.entries.length ?? 0;
    const merge =
      pendingChars * 4 >= mainChars ||
      mainChars + pendingChars < SMALL_SET_CHARS ||
      this.#mainDead * 4 > mainEntries;
    if (merge) {
      const all: OwnEntry[] = [];
      for (const [text, e] of this.#patterns) {
        if (e.owners.length === 0) {
          this.#patterns.delete(text);
          continue;
        }
        e.inMain = true;
        all.push(e);
      }
      this.#main = all.length > 0 ? compileMatcher(all) : undefined;
      this.#mainDead = 0;
      this.#pending = [];
      this.#small = undefined;
    } else {
      this.#small = this.#pending.length > 0 ? compileMatcher(this.#pending) : undefined;
    }
  }
}
