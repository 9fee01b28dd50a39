// The vault store against a local Vault stand-in on 127.0.0.1: token and AppRole auth,
// KV v2 reads, lease expiry and re-login on 403, and errors and test() messages that carry
// no credential and no value.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSecretStore } from './create-secret-store';
import type { SecretStoreError } from './secret-store-error';
import type { SecretStore } from './secret-store';
import { startVaultStandIn, type VaultStandIn } from './stand-ins/vault-stand-in';
import { expectSecretStoreError } from './expect-secret-store-error';

const TOKEN = 'hvs.canary-vault-token-5e1f0a';
const ROLE_ID = 'role-canary-0d9e';
const SECRET_ID = 'canary-approle-secret-id-83c2';
const VALUE = 'canary-vault-value-b74d19';
const CANARIES = [TOKEN, SECRET_ID, VALUE];

let vault: VaultStandIn;
const stores: SecretStore[] = [];

type Auth = { method: 'token'; token: string } | { method: 'approle'; roleId: string; secretId: string };

function store(
  auth: Auth,
  extra: { address?: string; namespace?: string; now?: () => number } = {},
): SecretStore {
  const s = createSecretStore(
    {
      name: 'vault-prod',
      type: 'vault',
      config: {
        address: extra.address ?? vault.url,
        mount: 'kv',
        auth,
        timeoutMs: 2000,
        ...(extra.namespace ? { namespace: extra.namespace } : {}),
      },
    },
    extra.now ? { now: extra.now } : {},
  );
  stores.push(s);
  return s;
}

const tokenAuth: Auth = { method: 'token', token: TOKEN };
const approle: Auth = { method: 'approle', roleId: ROLE_ID, secretId: SECRET_ID };

async function failure(p: Promise<unknown>): Promise<SecretStoreError> {
  const e = await expectSecretStoreError(p);
  for (const canary of [...CANARIES, ...vault.issuedTokens()]) expect(e.message).not.toContain(canary);
  return e;
}

beforeAll(async () => {
  vault = await startVaultStandIn({
    mount: 'kv',
    tokens: [TOKEN],
    approle: { roleId: ROLE_ID, secretId: SECRET_ID },
    leaseSeconds: 60,
  });
  vault.setSecret('zendesk', { token: VALUE, count: 3 });
  vault.setSecret('team/db', { creds: { username: 'svc-flowsafe', password: VALUE }, list: ['a'] });
});
afterAll(async () => {
  for (const s of stores) await s.close?.();
  await vault.close();
});

describe('vault store', () => {
  it('reads data.data[key] with X-Vault-Token (token auth)', async () => {
    const s = store(tokenAuth);
    expect(await s.fetch('zendesk#token')).toBe(VALUE);
    const last = vault.requests.at(-1);
    expect(last?.url).toBe('/v1/kv/data/zendesk');
    expect(last?.headers['x-vault-token']).toBe(TOKEN);
    expect(await s.fetch('zendesk#count')).toBe('3');
    expect(await s.fetch('team/db#creds')).toEqual({ username: 'svc-flowsafe', password: VALUE });
  });

  it('sends the namespace header and keeps a path prefix of the address', async () => {
    const s = store(tokenAuth, { namespace: 'team/a' });
    await s.fetch('zendesk#token');
    expect(vault.requests.at(-1)?.headers['x-vault-namespace']).toBe('team/a');
    const prefixed = store(tokenAuth, { address: `${vault.url}/proxy/` });
    const e = await failure(prefixed.fetch('zendesk#token'));
    expect(vault.requests.at(-1)?.url).toBe('/proxy/v1/kv/data/zendesk');
    // A wrong mount or prefix is a 404 whose detail says so (Vault: "no handler for route").
    expect(e.code).toBe('REF_NOT_FOUND');
    expect(e.message).toBe('store vault-prod could not read ref zendesk#token (404 no handler for route)');
  });

  it('logs in with AppRole once and reuses the client token until its lease runs out', async () => {
    let clock = 1_000_000;
    const s = store(approle, { now: () => clock });
    const logins = vault.counts.login;
    await Promise.all([s.fetch('zendesk#token'), s.fetch('zendesk#token'), s.fetch('team/db#creds')]);
    expect(vault.counts.login - logins).toBe(1);
    const token = vault.issuedTokens().at(-1);
    expect(vault.requests.at(-1)?.headers['x-vault-token']).toBe(token);
    expect(
      JSON.parse(
        vault.requests.find(
          (r) => r.url === '/v1/auth/approle/login' && r.headers['x-vault-token'] === undefined,
        )?.body ?? '{}',
      ),
    ).toEqual({
      role_id: ROLE_ID,
      secret_id: SECRET_ID,
    });
    clock += 50_000; // within 90% of the 60 s lease
    await s.fetch('zendesk#token');
    expect(vault.counts.login - logins).toBe(1);
    clock += 5_000; // past 90% of the lease: renew early
    await s.fetch('zendesk#token');
    expect(vault.counts.login - logins).toBe(2);
  });

  it('logs in again once when Vault answers 403 for the cached client token', async () => {
    const s = store(approle);
    await s.fetch('zendesk#token');
    const logins = vault.counts.login;
    vault.revokeToken(vault.issuedTokens().at(-1) as string);
    expect(await s.fetch('zendesk#token')).toBe(VALUE);
    expect(vault.counts.login - logins).toBe(1);
  });

  it('fails with STORE_AUTH_FAILED for a wrong token or a wrong AppRole secret id', async () => {
    const wrong = await failure(
      store({ method: 'token', token: 'hvs.canary-wrong-token-77' }).fetch('zendesk#token'),
    );
    expect(wrong.code).toBe('STORE_AUTH_FAILED');
    expect(wrong.message).toBe('store vault-prod could not read ref zendesk#token (403 permission denied)');
    const badRole = await failure(
      store({ method: 'approle', roleId: ROLE_ID, secretId: 'canary-wrong-secret-id' }).fetch(
        'zendesk#token',
      ),
    );
    expect(badRole.code).toBe('STORE_AUTH_FAILED');
    expect(badRole.message).toBe(
      'store vault-prod could not read ref zendesk#token (AppRole login refused: 400 invalid role or secret ID)',
    );
    expect(badRole.message).not.toContain('canary-wrong-secret-id');
  });

  it('masks a credential that the store echoes back in an error', async () => {
    vault.setEchoTokens(true);
    try {
      const e = await failure(
        store({ method: 'token', token: 'hvs.canary-echoed-token-31' }).fetch('zendesk#token'),
      );
      expect(e.message).toBe(
        'store vault-prod could not read ref zendesk#token (403 permission denied for [REDACTED])',
      );
    } finally {
      vault.setEchoTokens(false);
    }
  });

  it('answers REF_NOT_FOUND for a missing path or key and REF_INVALID without #key', async () => {
    const s = store(tokenAuth);
    const missing = await failure(s.fetch('nope#token'));
    expect(missing.code).toBe('REF_NOT_FOUND');
    expect(missing.message).toBe('store vault-prod could not read ref nope#token (404 not found)');
    const noKey = await failure(s.fetch('zendesk#nope'));
    expect(noKey.code).toBe('REF_NOT_FOUND');
    expect(noKey.message).toBe('store vault-prod could not read ref zendesk#nope (no key "nope" at zendesk)');
    expect((await failure(s.fetch('zendesk'))).code).toBe('REF_INVALID');
    expect((await failure(s.fetch('../sys/seal#x'))).code).toBe('REF_INVALID');
    expect((await failure(s.fetch('team/db#list'))).code).toBe('VALUE_SHAPE_INVALID');
  });

  it('answers STORE_UNREACHABLE when nothing listens', async () => {
    const down = await startVaultStandIn();
    const address = down.url;
    await down.close();
    const e = await failure(store(tokenAuth, { address }).fetch('zendesk#token'));
    expect(e.code).toBe('STORE_UNREACHABLE');
    expect(e.message).toBe(
      'store vault-prod could not read ref zendesk#token (connection refused: ECONNREFUSED)',
    );
  });

  it('test() reports connection and authentication in one line without a credential', async () => {
    const results = [
      await store(tokenAuth).test(),
      await store(approle).test(),
      await store({ method: 'token', token: 'hvs.canary-wrong-token-77' }).test(),
      await store({ method: 'approle', roleId: ROLE_ID, secretId: 'canary-wrong-secret-id' }).test(),
    ];
    const down = await startVaultStandIn();
    const address = down.url;
    await down.close();
    results.push(await store(tokenAuth, { address }).test());
    expect(results).toEqual([
      { ok: true, message: `connected to Vault at ${vault.url} and authenticated with the token` },
      { ok: true, message: `connected to Vault at ${vault.url} and logged in with AppRole (lease 60 s)` },
      {
        ok: false,
        message: `connected to Vault at ${vault.url} but the token was refused (403 permission denied)`,
      },
      {
        ok: false,
        message: `connected to Vault at ${vault.url} but the AppRole login was refused (400 invalid role or secret ID)`,
      },
      { ok: false, message: `could not connect to Vault at ${address} (connection refused: ECONNREFUSED)` },
    ]);
    for (const r of results)
      for (const canary of [
        ...CANARIES,
        'hvs.canary-wrong-token-77',
        'canary-wrong-secret-id',
        ...vault.issuedTokens(),
      ])
        expect(r.message).not.toContain(canary);
  });
});
