// Request bodies: what clients send nearly always — `Content-Type: application/json` (UTF-8),
// a Content-Length within the limit, no Content-Encoding — is read and parsed here directly;
// everything else (a charset parameter other than UTF-8, compressed or chunked bodies, a
// missing or oversized length, an empty body) goes to express.json, which answers it as before.
// The direct path gives the same results and the same error types (so errors.ts maps them the
// same way) without body-parser's per-request chain of content-type parsing, charset decoding
// and stream helpers.
import type { NextFunction, Request, RequestHandler, Response } from 'express';

const PLAIN_TYPES = new Set([
  'application/json',
  'application/json; charset=utf-8',
  'application/json;charset=utf-8',
]);

/** Index of the first character that is not JSON whitespace (text.length if none). */
function firstNonSpace(text: string): number {
  let i = 0;
  for (; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) break;
  }
  return i;
}

/** An error as body-parser reports it (`type` is what errors.ts maps). */
function bodyError(type: string, status: number, message: string): Error {
  return Object.assign(new Error(message), { type, status, expose: true });
}

/** Parses JSON bodies of the common shape itself and hands every other request to `fallback`. */
export function jsonBody(limitBytes: number, fallback: RequestHandler): RequestHandler {
  return (req: Request, res: Response, next: NextFunction): void => {
    const { headers } = req;
    const type = headers['content-type'];
    const length = headers['content-length'];
    const size = length === undefined ? NaN : Number(length);
    if (
      type === undefined ||
      !PLAIN_TYPES.has(type.toLowerCase()) ||
      headers['content-encoding'] !== undefined ||
      headers['transfer-encoding'] !== undefined ||
      !Number.isSafeInteger(size) ||
      size <= 0 ||
      size > limitBytes
    ) {
      void fallback(req, res, next);
      return;
    }
    const chunks: Buffer[] = [];
    let received = 0;
    let done = false;
    const finish = (err?: Error): void => {
      if (done) return;
      done = true;
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('aborted', onAborted);
      if (err) {
        // stop reading what is left, as body-parser does, and answer
        req.resume();
        next(err);
        return;
      }
      next();
    };
    const onData = (chunk: Buffer): void => {
      received += chunk.length;
      if (received > size) {
        finish(bodyError('request.size.invalid', 400, 'request size did not match content length'));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => {
      if (received !== size) {
        finish(bodyError('request.size.invalid', 400, 'request size did not match content length'));
        return;
      }
      let text = (chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, received)).toString('utf8');
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1); // a UTF-8 byte order mark
      // strict, as express.json({ strict: true }): only an object or an array at the top
      const first = text[firstNonSpace(text)];
      if (first !== '{' && first !== '[') {
        finish(bodyError('entity.parse.failed', 400, 'the request body is not a JSON object or array'));
        return;
      }
      try {
        req.body = JSON.parse(text) as unknown;
      } catch {
        finish(bodyError('entity.parse.failed', 400, 'the request body is not valid JSON'));
        return;
      }
      finish();
    };
    const onError = (err: Error): void => {
      finish(Object.assign(err, { type: 'request.aborted', status: 400, expose: true }));
    };
    const onAborted = (): void => {
      finish(bodyError('request.aborted', 400, 'request aborted'));
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('aborted', onAborted);
  };
}
