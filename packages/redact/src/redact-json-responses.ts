// Response-body hook: wraps res.json and res.send so that every JSON body, string body and
// Buffer body passes the redactor before it is written. The server mounts it early, before
// the routes, so that no handler can answer with a known value by mistake.

import type { NextLike, RequestLike, ResponseLike } from './http-types';
import type { Redactor } from './redactor';

export function redactJsonResponses(
  getRedactor: (req: RequestLike) => Redactor | undefined,
): (req: RequestLike, res: ResponseLike, next: NextLike) => void {
  return (req, res, next) => {
    const originalJson = res.json;
    const originalSend = res.send;
    let inJson = false;
    if (typeof originalJson === 'function') {
      res.json = function (this: ResponseLike, body: unknown) {
        const r = getRedactor(req);
        inJson = true;
        try {
          return originalJson.call(this, r === undefined ? body : r.redactJson(body));
        } finally {
          inJson = false;
        }
      };
    }
    if (typeof originalSend === 'function') {
      res.send = function (this: ResponseLike, body?: unknown) {
        const r = inJson ? undefined : getRedactor(req);
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
