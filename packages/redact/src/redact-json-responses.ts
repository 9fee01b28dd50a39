// Response-body hook: wraps res.json and res.send so that every JSON body, string body and
// Buffer body passes the redactor before it is written. The server mounts it early, before
// the routes, so that no handler can answer with a known value by mistake.
//
// A JSON body is checked in its serialized form first: a known value in a string leaf or a key
// shows up in the JSON text as its JSON-escaped form, which the redactor registers, so one scan
// of the text that finds nothing proves the body clean and it is sent as serialized (most
// bodies: run records are redacted by the runner already). Only when the scan finds something
// (or the body holds a Buffer, whose bytes JSON writes as numbers) is the body redacted leaf
// by leaf and serialized again, as before.

import type { NextLike, RequestLike, ResponseLike } from './http-types';
import type { Redactor } from './redactor';

/** How JSON.stringify writes a Buffer (its toJSON): bytes as numbers, so the text scan cannot see them. */
const BUFFER_MARK = '"Buffer"';

/**
 * The JSON text of `body` with every known value masked, by the same rule as the hook below:
 * serialized once and scanned once; only a body in which the scan finds a value (or that holds
 * a Buffer) is redacted leaf by leaf and serialized again. For handlers that write JSON
 * themselves instead of through res.json.
 */
export function redactedJson(r: Redactor, body: unknown): string {
  const text = JSON.stringify(body) ?? 'null';
  if (isCleanJson(r, text)) return text;
  return JSON.stringify(r.redactJson(body)) ?? 'null';
}

/** The one rule both paths share: serialized JSON that holds no Buffer and in which one scan
 *  finds no known value can be sent as it is. */
function isCleanJson(r: Redactor, text: string): boolean {
  return !text.includes(BUFFER_MARK) && r.redact(text) === text;
}

/** What the hook keeps on a response: the methods it replaced and the res.json in progress. */
interface Hooked {
  req: RequestLike;
  json: ((body: unknown) => unknown) | undefined;
  send: ((body?: unknown) => unknown) | undefined;
  /** inside res.json: the body being sent and its redactor; `deep` once it was redacted leaf by leaf */
  inJson: { body: unknown; r: Redactor; deep: boolean } | undefined;
}

type HookedResponse = ResponseLike & { [slot: symbol]: Hooked | undefined };

export function redactJsonResponses(
  getRedactor: (req: RequestLike) => Redactor | undefined,
): (req: RequestLike, res: ResponseLike, next: NextLike) => void {
  // where this hook keeps its state on a response (each hook its own slot, so hooks nest)
  const HOOKED = Symbol('flowsafe.redactJsonResponses');

  // One json and one send for every response, created here once: each response only gets
  // its own small state object. Closures made per response (as this hook once did) measured
  // badly under load: V8 kept whole request graphs alive through a young-generation
  // collection and promoted them: scavenges took about 6 ms instead of 1.6 (bench/server).
  function json(this: HookedResponse, body: unknown): unknown {
    const hooked = this[HOOKED];
    if (hooked?.json === undefined)
      throw new TypeError('res.json was called on a response the redaction hook did not set up');
    const r = getRedactor(hooked.req);
    if (r === undefined) return hooked.json.call(this, body);
    const outer = hooked.inJson;
    hooked.inJson = { body, r, deep: false };
    try {
      return hooked.json.call(this, body);
    } finally {
      hooked.inJson = outer;
    }
  }

  function send(this: HookedResponse, body?: unknown): unknown {
    const hooked = this[HOOKED];
    if (hooked?.send === undefined)
      throw new TypeError('res.send was called on a response the redaction hook did not set up');
    const inJson = hooked.inJson;
    if (inJson !== undefined) {
      // the serialization res.json made of inJson.body
      if (inJson.deep || typeof body !== 'string') return hooked.send.call(this, body);
      if (isCleanJson(inJson.r, body)) return hooked.send.call(this, body);
      inJson.deep = true;
      return hooked.json!.call(this, inJson.r.redactJson(inJson.body));
    }
    const r = getRedactor(hooked.req);
    let out = body;
    if (r !== undefined) {
      if (typeof body === 'string') out = r.redact(body);
      else if (Buffer.isBuffer(body)) out = r.redactBuffer(body);
      else if (typeof body === 'object' && body !== null && hooked.json === undefined) {
        out = r.redactJson(body);
      }
    }
    return hooked.send.call(this, out);
  }

  return (req, response, next) => {
    const res = response as HookedResponse;
    if (res[HOOKED] !== undefined) {
      next(); // this hook already wraps this response
      return;
    }
    const hooked: Hooked = {
      req,
      json: typeof res.json === 'function' ? res.json : undefined,
      send: typeof res.send === 'function' ? res.send : undefined,
      inJson: undefined,
    };
    res[HOOKED] = hooked;
    if (hooked.json !== undefined) res.json = json;
    if (hooked.send !== undefined) res.send = send;
    next();
  };
}
