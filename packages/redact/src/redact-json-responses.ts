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

export function redactJsonResponses(
  getRedactor: (req: RequestLike) => Redactor | undefined,
): (req: RequestLike, res: ResponseLike, next: NextLike) => void {
  return (req, res, next) => {
    const originalJson = res.json;
    const originalSend = res.send;
    /** inside res.json: the body being sent and its redactor; `deep` once it was redacted leaf by leaf */
    let json: { body: unknown; r: Redactor; deep: boolean } | undefined;
    if (typeof originalJson === 'function') {
      res.json = function (this: ResponseLike, body: unknown) {
        const r = getRedactor(req);
        if (r === undefined) return originalJson.call(this, body);
        const outer = json;
        json = { body, r, deep: false };
        try {
          return originalJson.call(this, body);
        } finally {
          json = outer;
        }
      };
    }
    if (typeof originalSend === 'function') {
      res.send = function (this: ResponseLike, body?: unknown) {
        const inJson = json;
        if (inJson !== undefined) {
          // the serialization res.json made of inJson.body
          if (inJson.deep || typeof body !== 'string') return originalSend.call(this, body);
          if (isCleanJson(inJson.r, body)) return originalSend.call(this, body);
          inJson.deep = true;
          return originalJson!.call(this, inJson.r.redactJson(inJson.body));
        }
        const r = getRedactor(req);
        let out = body;
        if (r !== undefined) {
          if (typeof body === 'string') out = r.redact(body);
          else if (Buffer.isBuffer(body)) out = r.redactBuffer(body);
          else if (typeof body === 'object' && body !== null && typeof originalJson !== 'function') {
            out = r.redactJson(body);
          }
        }
        return originalSend.call(this, out);
      };
    }
    next();
  };
}
