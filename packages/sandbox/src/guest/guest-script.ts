// The source text that runs INSIDE the isolate (nothing in this file runs in the host). One
// script per function block: a strict prelude that takes the per-call arguments off the global
// object and returns a starter, applied to the user's code as an async function expression:
//
//   (function () { 'use strict'; …prelude… })()(async function (input, log) {\n<code>\n})
//
// The user's function is written at the script's top level, so its lexical scope holds only the
// context's globals, never the prelude's captured `rawLog` or intrinsics. The host checks first
// (checkFunctionBody) that <code> parses as a function body on its own, so it cannot close the
// function early and run at the script's top level.
//
// The prelude answers with one string primitive (the only thing that crosses back):
//   'R' + json  the returned value, JSON-serialised; measured here, before anything is copied out
//   'U'         the function returned undefined
//   'T' + text  the function threw (or rejected) with this message
//   'N' + text  the returned value is not JSON-serialisable (function, symbol, bigint, cycle)
//   'L'         the JSON of the returned value is longer than maxOutput characters
// A replacer counts characters while JSON.stringify walks the value, so a 100 MB string (a cheap
// rope inside V8) is refused before it is flattened into the isolate's heap, let alone copied out.

/** Global names the host sets on a fresh context before the script runs; the prelude deletes them. */
export const GUEST_ARGS_GLOBAL = '__flowsafeArgs';
export const GUEST_LOG_GLOBAL = '__flowsafeLog';

/** What the host passes in GUEST_ARGS_GLOBAL, as JSON text ("i" is the raw input JSON). */
export interface GuestArgs {
  /** maximum characters of the result's JSON */
  m: number;
  /** log lines forwarded to the host before the guest stops calling it (one more reports the drop) */
  l: number;
  /** characters kept per log line */
  c: number;
  /** characters kept of a thrown error's message */
  e: number;
  /** the flow variables */
  i: unknown;
}

const PRELUDE = `(function () {
'use strict';
const g = globalThis;
const args = g.${GUEST_ARGS_GLOBAL};
const rawLog = g.${GUEST_LOG_GLOBAL};
delete g.${GUEST_ARGS_GLOBAL};
delete g.${GUEST_LOG_GLOBAL};
const parse = JSON.parse;
const stringify = JSON.stringify;
const toStr = String;
const freeze = Object.freeze;
const apply = Reflect.apply;
const slice = String.prototype.slice;
const ErrorCtor = Error;
const cfg = parse(args);
const maxOutput = cfg.m, maxLogLines = cfg.l, maxLineChars = cfg.c, maxErrorChars = cfg.e;
const TOO_LARGE = {};
const NOT_JSON = {};
let logged = 0;
function clip(s, n) { return s.length > n ? apply(slice, s, [0, n]) + '…' : s; }
function text(v) {
  if (typeof v === 'string') return v;
  try {
    if (typeof v === 'object' && v !== null && !(v instanceof ErrorCtor)) {
      const s = stringify(v);
      if (typeof s === 'string') return s;
    }
    return toStr(v);
  } catch (e) {
    return '[unprintable]';
  }
}
function describe(e) {
  try {
    if (e instanceof ErrorCtor) return clip(toStr(e.name) + ': ' + toStr(e.message), maxErrorChars);
    return clip(text(e), maxErrorChars);
  } catch (_) {
    return 'a value that cannot be described was thrown';
  }
}
const log = freeze(function log() {
  if (logged > maxLogLines) return;
  logged++;
  let line = '';
  for (let i = 0; i < arguments.length; i++) line += (i === 0 ? '' : ' ') + clip(text(arguments[i]), maxLineChars);
  rawLog(clip(line, maxLineChars));
});
return function start(fn) {
  const input = cfg.i;
  return (async function () {
    let value;
    try {
      value = await fn(input, log);
    } catch (e) {
      return 'T' + describe(e);
    }
    if (value === undefined) return 'U';
    let size = 0;
    let problem = '';
    const replacer = function (key, v) {
      size += key.length + 4;
      const t = typeof v;
      if (t === 'string') size += v.length;
      else if (t === 'function' || t === 'symbol' || t === 'bigint') {
        problem = 'a ' + t + (key === '' ? '' : ' at key "' + clip(key, 100) + '"');
        throw NOT_JSON;
      }
      if (size > maxOutput) throw TOO_LARGE;
      return v;
    };
    let json;
    try {
      json = stringify(value, replacer);
    } catch (e) {
      if (e === TOO_LARGE) return 'L';
      if (e === NOT_JSON) return 'N' + problem;
      return 'N' + describe(e);
    }
    if (typeof json !== 'string') return 'N' + 'a ' + typeof value;
    if (json.length > maxOutput) return 'L';
    return 'R' + json;
  })();
};
})()(async function (input, log) {
`;

/** Lines before the user's first line, so compile errors and stacks can count from the user's line 1. */
export const GUEST_PRELUDE_LINES = PRELUDE.split('\n').length - 1;

/** The whole script for one function body (checked beforehand with checkFunctionBody). */
export function buildGuestScript(code: string): string {
  return `${PRELUDE}${code}\n})`;
}
