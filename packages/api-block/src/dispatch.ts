// The undici step: one dispatch per hop through the given dispatcher, a per-block timeout that
// also follows the run's signal, a response size limit, and redirects followed by hand so that
// egress is re-checked on every hop and headers that carried a secret never cross origins.
//
// Each hop goes through undici's Dispatcher.dispatch with a handler of our own that collects the
// body into a buffer within the size limit: the whole answer is read anyway (it is scrubbed as
// one text), so request()'s body stream, its async resource and its per-request abort signal
// would be work with nothing to show for it. The handler's abort callback stops a hop on the
// timeout, on the run's cancellation and at the size limit.
import { type Dispatcher, util } from 'undici';
import { ApiBlockError } from './errors';
import { upstreamError } from './upstream-error';

export interface OutgoingRequest {
  url: URL;
  method: string;
  /** lower-case header names */
  headers: Record<string, string>;
  body: string | undefined;
  /** header (lower-case) → the secrets it carries */
  secretHeaders: ReadonlyMap<string, readonly string[]>;
  /** secrets carried in the body */
  bodySecrets: readonly string[];
  /** secrets behind `dispatcher` (mTLS material) */
  dispatcherSecrets: readonly string[];
  dispatcher: Dispatcher;
}

export interface DispatchOptions {
  /** the dispatcher for hops that leave the first origin (no client certificate) */
  plainDispatcher: Dispatcher;
  timeoutMs: number;
  signal: AbortSignal;
  maxRedirects: number;
  maxResponseBytes: number;
  /** egress re-check of a redirect hop with the secrets it still carries */
  checkHop(url: URL, carried: readonly string[]): void;
  log(line: string): void;
}

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  url: URL;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const CROSS_ORIGIN_DROP = ['authorization', 'cookie', 'proxy-authorization'];

/** One hop's answer, its body read whole. */
interface Hop {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** The hop in flight: stop() ends it (before or after undici connected it). */
interface Flight {
  stop(reason: Error): void;
}

/** Why a dispatch was stopped from our side (never shown: mapped to a step error). */
class Stopped extends Error {
  constructor(readonly why: 'timeout' | 'cancelled') {
    super(why);
  }
}

/** Send a request and follow its redirects; the body is read whole, within the size limit. */
export async function dispatchRequest(req: OutgoingRequest, opts: DispatchOptions): Promise<RawResponse> {
  let flight: Flight | undefined;
  let stopped: Stopped | undefined;
  const stop = (reason: Stopped): void => {
    stopped ??= reason;
    flight?.stop(reason);
  };
  const timer = setTimeout(() => stop(new Stopped('timeout')), opts.timeoutMs);
  const onAbort = (): void => stop(new Stopped('cancelled'));
  if (opts.signal.aborted) onAbort();
  else opts.signal.addEventListener('abort', onAbort, { once: true });

  let { url, method, body, dispatcher } = req;
  // copied only when a redirect changes them (most requests have none)
  let headers = req.headers;
  let secretHeaders = req.secretHeaders as Map<string, readonly string[]>;
  let copied = false;
  let bodySecrets = req.bodySecrets;
  let dispatcherSecrets = req.dispatcherSecrets;
  try {
    for (let hop = 0; ; hop++) {
      if (stopped) throw stopped;
      const res = await new Promise<Hop>((resolve, reject) => {
        flight = sendHop(dispatcher, url, { method, headers, body }, opts, resolve, reject);
      });
      flight = undefined;
      const location = res.headers.location;
      if (!REDIRECTS.has(res.status) || typeof location !== 'string') {
        return { status: res.status, headers: res.headers, body: res.body, url };
      }
      if (hop >= opts.maxRedirects) {
        throw new ApiBlockError('TOO_MANY_REDIRECTS', `more than ${opts.maxRedirects} redirects`);
      }
      let next: URL;
      try {
        next = new URL(location, url);
      } catch {
        throw new ApiBlockError('REDIRECT_REFUSED', `redirect ${res.status} to an invalid location`);
      }
      if (next.protocol !== 'http:' && next.protocol !== 'https:') {
        throw new ApiBlockError(
          'REDIRECT_REFUSED',
          `redirect ${res.status} to ${next.protocol} is not followed`,
        );
      }
      if (!copied) {
        headers = { ...headers };
        secretHeaders = new Map(secretHeaders);
        copied = true;
      }
      const keepBody = res.status === 307 || res.status === 308;
      if (!keepBody) {
        if (method !== 'HEAD') method = 'GET';
        body = undefined;
        bodySecrets = [];
        delete headers['content-type'];
        delete headers['content-length'];
      }
      if (next.origin !== url.origin) {
        if (bodySecrets.length > 0) {
          throw new ApiBlockError(
            'REDIRECT_REFUSED',
            `redirect ${res.status} to ${next.host} would resend a body carrying secret ${bodySecrets.join(', ')}`,
          );
        }
        for (const name of [...secretHeaders.keys(), ...CROSS_ORIGIN_DROP]) {
          delete headers[name];
          secretHeaders.delete(name);
        }
        dispatcher = opts.plainDispatcher;
        dispatcherSecrets = [];
      }
      const carried = [
        ...new Set([...[...secretHeaders.values()].flat(), ...bodySecrets, ...dispatcherSecrets]),
      ];
      opts.checkHop(next, carried);
      opts.log(`${res.status} redirect to ${next.origin}${next.pathname}`);
      url = next;
    }
  } catch (err) {
    if (err instanceof ApiBlockError) throw err;
    if (stopped?.why === 'cancelled') throw new ApiBlockError('CANCELLED', 'the run was cancelled');
    throw upstreamError(err, `request to ${url.host}`, stopped?.why === 'timeout');
  } finally {
    clearTimeout(timer);
    opts.signal.removeEventListener('abort', onAbort);
  }
}

/** One request through undici's handler interface; the answer is collected within the limit. */
function sendHop(
  dispatcher: Dispatcher,
  url: URL,
  req: { method: string; headers: Record<string, string>; body: string | undefined },
  opts: DispatchOptions,
  resolve: (hop: Hop) => void,
  reject: (err: unknown) => void,
): Flight {
  const max = opts.maxResponseBytes;
  let abort: ((err: Error) => void) | undefined;
  let failed: Error | undefined;
  let settled = false;
  let status = 0;
  let headers: Record<string, string | string[] | undefined> = {};
  const chunks: Buffer[] = [];
  let size = 0;
  const fail = (err: Error): void => {
    if (settled) return;
    settled = true;
    failed = err;
    abort?.(err);
    reject(err);
  };
  const handler: Dispatcher.DispatchHandler = {
    onConnect(fn: (err?: Error) => void) {
      abort = fn;
      if (failed) fn(failed);
    },
    onHeaders(statusCode: number, rawHeaders: Buffer[]) {
      if (statusCode < 200) return true; // 1xx: the answer follows
      status = statusCode;
      headers = util.parseHeaders(rawHeaders) as Record<string, string | string[] | undefined>;
      if (Number(headers['content-length']) > max) fail(tooLarge(max));
      return !settled;
    },
    onData(chunk: Buffer) {
      size += chunk.length;
      if (size > max) {
        fail(tooLarge(max));
        return false;
      }
      chunks.push(chunk);
      return true;
    },
    onComplete() {
      if (settled) return;
      settled = true;
      resolve({ status, headers, body: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size) });
    },
    onError(err: Error) {
      if (settled) return;
      settled = true;
      reject(err);
    },
  };
  dispatcher.dispatch(
    {
      origin: url.origin,
      path: `${url.pathname}${url.search}`,
      method: req.method as Dispatcher.HttpMethod,
      headers: req.headers,
      body: req.body ?? null,
      headersTimeout: opts.timeoutMs,
      bodyTimeout: opts.timeoutMs,
    },
    handler,
  );
  return { stop: fail };
}

function tooLarge(max: number): ApiBlockError {
  return new ApiBlockError('RESPONSE_TOO_LARGE', `the response is larger than the limit of ${max} bytes`);
}
