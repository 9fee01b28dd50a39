// The `vault` store: HashiCorp Vault or OpenBao, KV version 2 (SPEC §12). A ref `path#key`
// reads GET /v1/<mount>/data/<path> and returns data.data[key] (a string, or an object
// such as {username, password}). AppRole tokens are re-fetched once when Vault answers 403.
import { Agent } from 'undici';
import { parseRef } from './parse-ref';
import { scrubMessage } from './scrub-message';
import { refFailure } from './ref-failure';
import type { FetchedValue, SecretStore, StoreTestResult } from './secret-store';
import { valueAtKey } from './value-at-key';
import type { VaultConfig } from './store-config';
import { VaultLoginRefused, vaultTokenSource } from './vault-auth';
import { StoreCallFailure, vaultRequest, type VaultAnswer, type VaultHttpOptions } from './vault-http';

export interface VaultStoreOptions {
  name: string;
  config: VaultConfig;
  cacheTtlS: number;
  /** Clock for the AppRole lease (tests). */
  now?: () => number;
}

function encodePath(path: string): string {
  return path.split('/').map(encodeURIComponent).join('/');
}

export function createVaultStore(options: VaultStoreOptions): SecretStore {
  const { name, config } = options;
  const agent = new Agent({
    connect: { timeout: config.timeoutMs },
    headersTimeout: config.timeoutMs,
    bodyTimeout: config.timeoutMs,
  });
  const http: VaultHttpOptions = {
    agent,
    address: config.address,
    namespace: config.namespace,
    timeoutMs: config.timeoutMs,
  };
  const auth = vaultTokenSource(config.auth, http, options.now);
  const scrub = (text: string) => scrubMessage(text, auth.secrets());

  const fail = refFailure(name, scrub);

  async function read(ref: string, path: string): Promise<VaultAnswer> {
    const call = async () => {
      const token = await auth.token();
      return {
        token,
        answer: await vaultRequest(http, {
          method: 'GET',
          path: `${encodePath(config.mount)}/data/${encodePath(path)}`,
          token,
        }),
      };
    };
    try {
      const first = await call();
      if (first.answer.status === 403 && auth.forget(first.token)) return (await call()).answer;
      return first.answer;
    } catch (err) {
      if (err instanceof VaultLoginRefused)
        throw fail('STORE_AUTH_FAILED', ref, `AppRole login refused: ${err.detail}`);
      if (err instanceof StoreCallFailure) throw fail('STORE_UNREACHABLE', ref, err.message);
      throw fail('STORE_REQUEST_FAILED', ref, 'unexpected failure');
    }
  }

  async function fetch(ref: string): Promise<FetchedValue> {
    const { path, key } = parseRef('vault', ref, name);
    const answer = await read(ref, path);
    if (answer.status === 401 || answer.status === 403) throw fail('STORE_AUTH_FAILED', ref, answer.detail);
    if (answer.status === 404)
      throw fail('REF_NOT_FOUND', ref, `${answer.detail === '404' ? '404 not found' : answer.detail}`);
    if (answer.status >= 502 && answer.status <= 504) throw fail('STORE_UNREACHABLE', ref, answer.detail);
    if (answer.status !== 200) throw fail('STORE_REQUEST_FAILED', ref, answer.detail);
    const data = (answer.body as { data?: { data?: unknown } } | undefined)?.data?.data;
    if (!data || typeof data !== 'object' || Array.isArray(data))
      throw fail('STORE_REQUEST_FAILED', ref, 'the answer is not a KV version 2 secret; is the mount KV v2?');
    const value = (data as Record<string, unknown>)[key as string];
    if (value === undefined || !Object.hasOwn(data, key as string))
      throw fail('REF_NOT_FOUND', ref, `no key ${JSON.stringify(key)} at ${path}`);
    return valueAtKey(value, key as string, ref, fail);
  }

  async function test(): Promise<StoreTestResult> {
    const where = `Vault at ${config.address}`;
    try {
      if (auth.method === 'approle') {
        auth.reset();
        await auth.token();
        const lease = auth.lastLease();
        return {
          ok: true,
          message: `connected to ${where} and logged in with AppRole${lease ? ` (lease ${lease} s)` : ''}`,
        };
      }
      const answer = await vaultRequest(http, {
        method: 'GET',
        path: 'auth/token/lookup-self',
        token: await auth.token(),
      });
      if (answer.status === 200)
        return { ok: true, message: `connected to ${where} and authenticated with the token` };
      if (answer.status === 401 || answer.status === 403)
        return {
          ok: false,
          message: `connected to ${where} but the token was refused (${scrub(answer.detail)})`,
        };
      return { ok: false, message: `connected to ${where} but it answered ${scrub(answer.detail)}` };
    } catch (err) {
      if (err instanceof VaultLoginRefused)
        return {
          ok: false,
          message: `connected to ${where} but the AppRole login was refused (${scrub(err.detail)})`,
        };
      if (err instanceof StoreCallFailure)
        return { ok: false, message: `could not connect to ${where} (${scrub(err.message)})` };
      return { ok: false, message: `could not test ${where} (unexpected failure)` };
    }
  }

  return {
    name,
    type: 'vault',
    cacheTtlS: options.cacheTtlS,
    fetch,
    test,
    close: () => agent.close(),
  };
}
