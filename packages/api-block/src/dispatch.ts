// The undici step: one request() per hop through the given dispatcher, a per-block timeout that
// also follows the run's signal, a response size limit, and redirects followed by hand so that
// egress is re-checked on every hop and headers that carried a secret never cross origins.
import { type Dispatcher, request } from 'undici';
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

/** Send a request and follow its redirects; the body is read whole, within the size limit. */
export async function dispatchRequest(req: OutgoingRequest, opts: DispatchOptions): Promise<RawResponse> {
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, opts.timeoutMs);
  const onAbort = (): void => controller.abort();
  if (opts.signal.aborted) controller.abort();
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
      const res = await request(url, {
        method: method as Dispatcher.HttpMethod,
        headers,
        body,
        dispatcher,
        signal: controller.signal,
        headersTimeout: opts.timeoutMs,
        bodyTimeout: opts.timeoutMs,
      });
      const location = res.headers.location;
      if (!REDIRECTS.has(res.statusCode) || typeof location !== 'string') {
        const length = Number(res.headers['content-length']);
        if (length > opts.maxResponseBytes) {
          res.body.destroy();
          throw tooLarge(opts.maxResponseBytes);
        }
        return { status: res.statusCode, headers: res.headers, body: await readLimited(res.body, opts), url };
      }
      await res.body.dump();
      if (hop >= opts.maxRedirects) {
        throw new ApiBlockError('TOO_MANY_REDIRECTS', `more than ${opts.maxRedirects} redirects`);
      }
      let next: URL;
      try {
        next = new URL(location, url);
      } catch {
        throw new ApiBlockError('REDIRECT_REFUSED', `redirect ${res.statusCode} to an invalid location`);
      }
      if (next.protocol !== 'http:' && next.protocol !== 'https:') {
        throw new ApiBlockError(
          'REDIRECT_REFUSED',
          `redirect ${res.statusCode} to ${next.protocol} is not followed`,
        );
      }
      if (!copied) {
        headers = { ...headers };
        secretHeaders = new Map(secretHeaders);
        copied = true;
      }
      const keepBody = res.statusCode === 307 || res.statusCode === 308;
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
            `redirect ${res.statusCode} to ${next.host} would resend a body carrying secret ${bodySecrets.join(', ')}`,
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
      opts.log(`${res.statusCode} redirect to ${next.origin}${next.pathname}`);
      url = next;
    }
  } catch (err) {
    if (err instanceof ApiBlockError) throw err;
    if (opts.signal.aborted && !timedOut) throw new ApiBlockError('CANCELLED', 'the run was cancelled');
    throw upstreamError(err, `request to ${url.host}`, timedOut);
  } finally {
    clearTimeout(timer);
    opts.signal.removeEventListener('abort', onAbort);
  }
}

function tooLarge(max: number): ApiBlockError {
  return new ApiBlockError('RESPONSE_TOO_LARGE', `the response is larger than the limit of ${max} bytes`);
}

function readLimited(body: Dispatcher.ResponseData['body'], opts: DispatchOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    body.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > opts.maxResponseBytes) {
        body.destroy();
        reject(tooLarge(opts.maxResponseBytes));
        return;
      }
      chunks.push(chunk);
    });
    body.on('end', () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size)));
    body.on('error', reject);
  });
}
