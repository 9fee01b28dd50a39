// The last step before anything from the network reaches the flow (invariant 5): response
// headers and body, and every error message, pass the run's redactor. An API that echoes the
// token it received hands the flow `[REDACTED:NAME]`, never the token.
import type { Redactor } from '@flowsafe/redact';
import type { RawResponse } from './dispatch';
import { ApiBlockError } from './errors';

export interface ScrubbedResponse {
  status: number;
  headers: Record<string, string | string[]>;
  /** parsed JSON when the content type says JSON (and it parses), else text */
  body: unknown;
}

/** Hop-by-hop headers (RFC 9110 §7.6.1): they describe our connection to the API, not its
 *  answer, so a flow never gets them (as a proxy would not pass them on). */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

export function scrubResponse(redactor: Redactor, res: RawResponse): ScrubbedResponse {
  const headers: Record<string, string | string[]> = {};
  for (const name in res.headers) {
    const v = res.headers[name];
    if (v !== undefined && !HOP_BY_HOP.has(name))
      headers[redactor.redact(name)] =
        typeof v === 'string' ? redactor.redact(v) : v.map((x) => redactor.redact(x));
  }
  const text = res.body.toString('utf8');
  const type = res.headers['content-type'];
  if (text !== '' && typeof type === 'string' && /[/+]json\b/i.test(type)) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      return { status: res.status, headers, body: redactor.redact(text) };
    }
    return { status: res.status, headers, body: redactor.redactJson(parsed) };
  }
  return { status: res.status, headers, body: redactor.redact(text) };
}

/** Any error leaving the plugin: an ApiBlockError with a stable code and a scrubbed message. */
export function scrubError(redactor: Redactor, err: unknown): ApiBlockError {
  if (err instanceof ApiBlockError) {
    err.message = redactor.redact(err.message);
    if (err.stack) err.stack = redactor.redact(err.stack);
    return err;
  }
  const e = err as { code?: unknown; message?: unknown } | undefined;
  const code = typeof e?.code === 'string' && /^[A-Z][A-Z0-9_]+$/.test(e.code) ? e.code : 'UPSTREAM_ERROR';
  const message = typeof e?.message === 'string' ? e.message : String(err);
  const scrubbed = new ApiBlockError(code, redactor.redact(message));
  return scrubbed;
}
