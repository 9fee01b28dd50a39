// Where the Vault store's token comes from: the configured token, or an AppRole login whose
// client token is cached until its lease runs out (a little early) and dropped when Vault
// refuses it, so the next call logs in again. Concurrent callers share one login.
import type { VaultConfig } from './store-config';
import { vaultRequest, type VaultHttpOptions } from './vault-http';

/** A login that Vault answered with something other than a token. */
export class VaultLoginRefused extends Error {
  override readonly name = 'VaultLoginRefused';
  constructor(readonly detail: string) {
    super(detail);
  }
}

export interface VaultTokenSource {
  readonly method: 'token' | 'approle';
  /** A token to send; logs in when needed. Throws VaultLoginRefused or StoreCallFailure. */
  token(): Promise<string>;
  /** Forgets `token` when it is the cached one; true when a fresh login can be tried. */
  forget(token: string): boolean;
  /** Every credential string to mask in messages (configured secrets and the live token). */
  secrets(): (string | undefined)[];
  /** Drops the cached token so the next call logs in again (AppRole). */
  reset(): void;
  /** Lease seconds of the last login (AppRole), for test messages. */
  lastLease(): number | undefined;
}

const EARLY_RENEW = 0.9;

export function vaultTokenSource(
  auth: VaultConfig['auth'],
  http: VaultHttpOptions,
  now: () => number = Date.now,
): VaultTokenSource {
  if (auth.method === 'token') {
    return {
      method: 'token',
      token: () => Promise.resolve(auth.token),
      forget: () => false,
      reset: () => undefined,
      secrets: () => [auth.token],
      lastLease: () => undefined,
    };
  }
  const role = auth;
  let cached: { token: string; expiresAt: number } | undefined;
  let loggingIn: Promise<string> | undefined;
  let lease: number | undefined;

  async function login(): Promise<string> {
    const answer = await vaultRequest(http, {
      method: 'POST',
      path: 'auth/approle/login',
      body: { role_id: role.roleId, secret_id: role.secretId },
    });
    const result = (
      answer.body as { auth?: { client_token?: unknown; lease_duration?: unknown } } | undefined
    )?.auth;
    if (
      answer.status !== 200 ||
      typeof result?.client_token !== 'string' ||
      result.client_token.length === 0
    ) {
      throw new VaultLoginRefused(
        answer.status === 200 ? '200 but no client_token in the answer' : answer.detail,
      );
    }
    const seconds = typeof result.lease_duration === 'number' ? result.lease_duration : 0;
    lease = seconds;
    cached = {
      token: result.client_token,
      expiresAt: seconds > 0 ? now() + seconds * 1000 * EARLY_RENEW : Number.POSITIVE_INFINITY,
    };
    return result.client_token;
  }

  return {
    method: 'approle',
    token() {
      if (cached && now() < cached.expiresAt) return Promise.resolve(cached.token);
      loggingIn ??= login().finally(() => {
        loggingIn = undefined;
      });
      return loggingIn;
    },
    forget(token) {
      if (cached?.token === token) cached = undefined;
      return true;
    },
    reset() {
      cached = undefined;
    },
    secrets: () => [role.secretId, role.roleId, cached?.token],
    lastLease: () => lease,
  };
}
