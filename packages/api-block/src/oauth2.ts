// OAuth2 client-credentials tokens (SPEC §5). A token is fetched through undici (the same
// dispatcher as API requests, so the egress guard applies), cached per project, environment,
// secret and credentials until shortly before it expires, and shared: concurrent runs wait on
// one in-flight request. Every caller registers the token with its run's redactor before use.
import { createHash } from 'node:crypto';
import type { Redactor } from '@flowsafe/redact';
import { type Dispatcher, request } from 'undici';
import { ApiBlockError } from './errors';
import { upstreamError } from './upstream-error';

export interface OAuth2Credentials {
  clientId: string;
  clientSecret: string;
  tokenUrl: string;
  scope?: string;
  audience?: string;
}

interface CachedToken {
  token: string;
  expiresAt: number;
}

const DEFAULT_LIFETIME_S = 300;
const MAX_TOKEN_RESPONSE = 1024 * 1024;

export class OAuth2TokenCache {
  private readonly tokens = new Map<string, CachedToken>();
  private readonly inflight = new Map<string, Promise<CachedToken>>();

  constructor(private readonly dispatcher: () => Dispatcher) {}

  /** The cache key: project, environment and secret, plus a digest of the credentials so a
   *  rotated client secret gets a new token. */
  key(projectId: string, environment: string, name: string, cred: OAuth2Credentials): string {
    const digest = createHash('sha256')
      .update(
        [cred.clientId, cred.clientSecret, cred.tokenUrl, cred.scope ?? '', cred.audience ?? ''].join('\0'),
      )
      .digest('base64url');
    return `${projectId}\0${environment}\0${name}\0${digest}`;
  }

  /** A valid access token, registered with `redactor` under the secret's name. */
  async get(
    key: string,
    name: string,
    cred: OAuth2Credentials,
    opts: { redactor: Redactor; signal: AbortSignal; timeoutMs: number },
  ): Promise<string> {
    const cached = this.tokens.get(key);
    let entry: CachedToken;
    if (cached && cached.expiresAt > Date.now()) entry = cached;
    else {
      let pending = this.inflight.get(key);
      if (!pending) {
        pending = fetchToken(name, cred, this.dispatcher(), opts.timeoutMs).then(
          (t) => {
            this.inflight.delete(key);
            this.tokens.set(key, t);
            return t;
          },
          (err: unknown) => {
            this.inflight.delete(key);
            throw err;
          },
        );
        this.inflight.set(key, pending);
      }
      entry = await untilAborted(pending, opts.signal);
    }
    if (!opts.redactor.has(entry.token)) {
      try {
        opts.redactor.add(name, entry.token);
      } catch {
        throw new ApiBlockError(
          'OAUTH2_TOKEN_FAILED',
          `the token endpoint of secret ${name} returned a token too short to mask`,
        );
      }
    }
    return entry.token;
  }

  /** Forget a token the API refused (401), unless another run already replaced it. */
  invalidate(key: string, token: string): void {
    if (this.tokens.get(key)?.token === token) this.tokens.delete(key);
  }
}

function untilAborted<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(new ApiBlockError('CANCELLED', 'the run was cancelled'));
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(new ApiBlockError('CANCELLED', 'the run was cancelled'));
    signal.addEventListener('abort', onAbort, { once: true });
    void p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

async function fetchToken(
  name: string,
  cred: OAuth2Credentials,
  dispatcher: Dispatcher,
  timeoutMs: number,
): Promise<CachedToken> {
  const what = `the OAuth2 token request of secret ${name}`;
  let url: URL;
  try {
    url = new URL(cred.tokenUrl);
  } catch {
    throw new ApiBlockError('OAUTH2_TOKEN_FAILED', `secret ${name} has an invalid tokenUrl`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new ApiBlockError('OAUTH2_TOKEN_FAILED', `the tokenUrl of secret ${name} must use http or https`);
  }
  const form = new URLSearchParams({ grant_type: 'client_credentials' });
  if (cred.scope) form.set('scope', cred.scope);
  if (cred.audience) form.set('audience', cred.audience);
  const basic = Buffer.from(`${formEncode(cred.clientId)}:${formEncode(cred.clientSecret)}`).toString(
    'base64',
  );

  const signal = AbortSignal.timeout(timeoutMs);
  let status: number;
  let text: string;
  try {
    const res = await request(url, {
      method: 'POST',
      headers: {
        authorization: `Basic ${basic}`,
        'content-type': 'application/x-www-form-urlencoded',
        accept: 'application/json',
      },
      body: form.toString(),
      dispatcher,
      signal,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
    status = res.statusCode;
    if (Number(res.headers['content-length']) > MAX_TOKEN_RESPONSE) {
      res.body.destroy();
      throw new ApiBlockError('OAUTH2_TOKEN_FAILED', `${what}: the response is too large`);
    }
    text = await res.body.text();
  } catch (err) {
    throw upstreamError(err, what, signal.aborted);
  }
  let json: { access_token?: unknown; expires_in?: unknown; error?: unknown } = {};
  try {
    json = JSON.parse(text) as typeof json;
  } catch {
    // not JSON: reported below without echoing the body
  }
  if (status < 200 || status > 299) {
    const reason = typeof json.error === 'string' ? `: ${json.error.slice(0, 100)}` : '';
    throw new ApiBlockError('OAUTH2_TOKEN_FAILED', `${what} was answered with ${status}${reason}`);
  }
  if (typeof json.access_token !== 'string' || json.access_token === '') {
    throw new ApiBlockError('OAUTH2_TOKEN_FAILED', `${what}: the response has no access_token`);
  }
  const lifetimeMs = (Number(json.expires_in) > 0 ? Number(json.expires_in) : DEFAULT_LIFETIME_S) * 1000;
  const early = Math.min(60_000, lifetimeMs / 10);
  return { token: json.access_token, expiresAt: Date.now() + lifetimeMs - early };
}

/** RFC 6749 §2.3.1: client id and secret are form-encoded before basic auth */
function formEncode(s: string): string {
  return encodeURIComponent(s).replace(/%20/g, '+');
}
