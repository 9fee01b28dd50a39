// The external resolver end to end against the local Vault and Secrets Manager stand-ins:
// shaping into each secret type, onFetched before the value is returned, the memory cache
// and its TTL (rotation), TTL 0, shared in-flight fetches, per-environment refs, and error
// messages that name secret, store and ref but never a value or a store credential.
import type { ValueField } from '@flowsafe/secrets';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSecretStore } from './create-secret-store';
import { createExternalResolver, type ExternalSecretResolver } from './external-resolver';
import { refFor } from './secret-source';
import type { SecretStoreError } from './secret-store-error';
import type { SecretStore } from './secret-store';
import { startAwsStandIn, type AwsStandIn } from './stand-ins/aws-stand-in';
import { startVaultStandIn, type VaultStandIn } from './stand-ins/vault-stand-in';
import { expectSecretStoreError } from './expect-secret-store-error';

process.env.AWS_EC2_METADATA_DISABLED = 'true';

const VAULT_TOKEN = 'hvs.canary-resolver-token-a81c';
const AWS_KEY_ID = 'AKIAFLOWSAFETEST0002';
const AWS_SECRET = 'canary-resolver-aws-key-2b6f';
const V1 = 'canary-value-one-9d3e';
const V2 = 'canary-value-two-41aa';
const PASSWORD = 'canary-password-c0ffee';
const CLIENT_SECRET = 'canary-client-secret-77e1';
const CANARIES = [VAULT_TOKEN, AWS_SECRET, V1, V2, PASSWORD, CLIENT_SECRET];

let vault: VaultStandIn;
let aws: AwsStandIn;
const stores: SecretStore[] = [];

function vaultStore(cacheTtlS?: number, token = VAULT_TOKEN, address?: string): SecretStore {
  const s = createSecretStore({
    name: 'vault-prod',
    type: 'vault',
    ...(cacheTtlS === undefined ? {} : { cacheTtlS }),
    config: { address: address ?? vault.url, auth: { method: 'token', token }, timeoutMs: 2000 },
  });
  stores.push(s);
  return s;
}

function awsStore(): SecretStore {
  const s = createSecretStore({
    name: 'aws-prod',
    type: 'aws-secrets-manager',
    config: {
      region: 'eu-west-1',
      endpoint: aws.url,
      timeoutMs: 2000,
      credentials: { accessKeyId: AWS_KEY_ID, secretAccessKey: AWS_SECRET },
    },
  });
  stores.push(s);
  return s;
}

interface Harness {
  resolver: ExternalSecretResolver;
  fetched: Array<{ name: string; fields: ValueField[]; fromCache: boolean }>;
  clock: { now: number };
}

function harness(byName: Record<string, SecretStore>): Harness {
  const fetched: Harness['fetched'] = [];
  const clock = { now: 1_000_000 };
  const resolver = createExternalResolver({
    getStore: (name) => byName[name],
    onFetched: (name, fields, info) => void fetched.push({ name, fields, fromCache: info.fromCache }),
    now: () => clock.now,
  });
  return { resolver, fetched, clock };
}

const req = (
  ref: string,
  over: Partial<{
    store: string;
    type: 'text' | 'basic' | 'oauth2' | 'binary';
    secretName: string;
    environment: string;
  }> = {},
) => ({
  store: 'vault-prod',
  ref,
  type: 'text' as const,
  secretName: 'ZENDESK_TOKEN',
  environment: 'production',
  ...over,
});

async function failure(p: Promise<unknown>): Promise<SecretStoreError> {
  const e = await expectSecretStoreError(p);
  for (const canary of CANARIES) {
    expect(e.message).not.toContain(canary);
    expect(JSON.stringify(e)).not.toContain(canary);
  }
  return e;
}

beforeAll(async () => {
  vault = await startVaultStandIn({ tokens: [VAULT_TOKEN] });
  aws = await startAwsStandIn({ accessKeyId: AWS_KEY_ID, secretAccessKey: AWS_SECRET });
  vault.setSecret('zendesk', { token: V1 });
  vault.setSecret('db', { creds: { username: 'svc-flowsafe', password: PASSWORD } });
  vault.setSecret('env/dev', { token: 'canary-dev-value-0001' });
  vault.setSecret('env/prod', { token: 'canary-prod-value-0002' });
  aws.setSecret(
    'prod/db',
    JSON.stringify({ username: 'svc-flowsafe', password: PASSWORD, host: 'db.internal' }),
  );
  aws.setSecret(
    'prod/oauth',
    JSON.stringify({
      client_id: 'client-flowsafe',
      client_secret: CLIENT_SECRET,
      token_url: 'https://auth.example.com/token',
      scope: 'read',
    }),
  );
  aws.setSecret('prod/pem', '-----BEGIN CERTIFICATE-----\nMIIBcanarypem\n-----END CERTIFICATE-----\n');
});
afterAll(async () => {
  for (const s of stores) await s.close?.();
  await vault.close();
  await aws.close();
});

describe('external resolver', () => {
  it('resolves a text secret and calls onFetched with its fields before returning', async () => {
    const order: string[] = [];
    const resolver = createExternalResolver({
      getStore: (name) => (name === 'vault-prod' ? vaultStore() : undefined),
      onFetched: async (name, fields) => {
        await new Promise((r) => setTimeout(r, 5));
        order.push(`registered ${name} ${fields.map((f) => f.field).join(',')}`);
      },
    });
    const value = await resolver.resolve(req('zendesk#token')).then((v) => {
      order.push('returned');
      return v;
    });
    expect(value).toBe(V1);
    expect(order).toEqual(['registered ZENDESK_TOKEN value', 'returned']);
  });

  it('does not return the value when onFetched fails', async () => {
    const resolver = createExternalResolver({
      getStore: () => vaultStore(),
      onFetched: () => {
        throw new Error('redactor unavailable');
      },
    });
    await expect(resolver.resolve(req('zendesk#token'))).rejects.toThrow('redactor unavailable');
  });

  it('caches per store and ref for cacheTtlS and picks up a changed value after the TTL', async () => {
    const { resolver, fetched, clock } = harness({ 'vault-prod': vaultStore(60) });
    vault.setSecret('rotating', { token: V1 });
    const reads = vault.counts.read;
    expect(await resolver.resolve(req('rotating#token'))).toBe(V1);
    vault.setSecret('rotating', { token: V2 });
    clock.now += 59_000;
    expect(await resolver.resolve(req('rotating#token'))).toBe(V1);
    expect(vault.counts.read - reads).toBe(1);
    clock.now += 1_000;
    expect(await resolver.resolve(req('rotating#token'))).toBe(V2);
    expect(vault.counts.read - reads).toBe(2);
    expect(fetched.map((f) => f.fromCache)).toEqual([false, true, false]);
    expect(fetched.map((f) => f.fields)).toEqual([
      [{ field: 'value', value: V1 }],
      [{ field: 'value', value: V1 }],
      [{ field: 'value', value: V2 }],
    ]);
  });

  it('uses a default TTL of 300 s', async () => {
    const store = vaultStore();
    expect(store.cacheTtlS).toBe(300);
    const { resolver, clock } = harness({ 'vault-prod': store });
    const reads = vault.counts.read;
    await resolver.resolve(req('zendesk#token'));
    clock.now += 299_000;
    await resolver.resolve(req('zendesk#token'));
    expect(vault.counts.read - reads).toBe(1);
    clock.now += 1_000;
    await resolver.resolve(req('zendesk#token'));
    expect(vault.counts.read - reads).toBe(2);
  });

  it('fetches every time with cacheTtlS 0 and keeps nothing in memory', async () => {
    const { resolver } = harness({ 'vault-prod': vaultStore(0) });
    const reads = vault.counts.read;
    for (let i = 0; i < 3; i++) expect(await resolver.resolve(req('zendesk#token'))).toBe(V1);
    expect(vault.counts.read - reads).toBe(3);
    expect(resolver.cacheSize()).toBe(0);
  });

  it('shares one fetch between concurrent resolves of the same ref', async () => {
    const { resolver, fetched } = harness({ 'vault-prod': vaultStore(0) });
    vault.setDelay(30);
    try {
      const reads = vault.counts.read;
      const values = await Promise.all(
        Array.from({ length: 8 }, (_, i) => resolver.resolve(req('zendesk#token', { secretName: `S${i}` }))),
      );
      expect(values).toEqual(Array(8).fill(V1));
      expect(vault.counts.read - reads).toBe(1);
      expect(fetched.map((f) => f.name).sort()).toEqual(['S0', 'S1', 'S2', 'S3', 'S4', 'S5', 'S6', 'S7']);
    } finally {
      vault.setDelay(0);
    }
  });

  it('invalidate(store) and a replaced store drop cached values', async () => {
    const byName: Record<string, SecretStore> = { 'vault-prod': vaultStore(300) };
    const { resolver } = harness(byName);
    const reads = vault.counts.read;
    await resolver.resolve(req('zendesk#token'));
    await resolver.resolve(req('zendesk#token'));
    expect(vault.counts.read - reads).toBe(1);
    resolver.invalidate('vault-prod');
    await resolver.resolve(req('zendesk#token'));
    expect(vault.counts.read - reads).toBe(2);
    byName['vault-prod'] = vaultStore(300);
    await resolver.resolve(req('zendesk#token'));
    expect(vault.counts.read - reads).toBe(3);
    resolver.invalidate();
    expect(resolver.cacheSize()).toBe(0);
  });

  it('builds basic and oauth2 values from JSON secrets (Vault object, AWS JSON string)', async () => {
    const { resolver, fetched } = harness({ 'vault-prod': vaultStore(), 'aws-prod': awsStore() });
    expect(await resolver.resolve(req('db#creds', { type: 'basic', secretName: 'DB' }))).toEqual({
      username: 'svc-flowsafe',
      password: PASSWORD,
    });
    expect(
      await resolver.resolve(req('prod/db', { store: 'aws-prod', type: 'basic', secretName: 'DB2' })),
    ).toEqual({
      username: 'svc-flowsafe',
      password: PASSWORD,
    });
    expect(
      await resolver.resolve(req('prod/oauth', { store: 'aws-prod', type: 'oauth2', secretName: 'CRM' })),
    ).toEqual({
      clientId: 'client-flowsafe',
      clientSecret: CLIENT_SECRET,
      tokenUrl: 'https://auth.example.com/token',
      scope: 'read',
    });
    expect(
      await resolver.resolve(req('prod/db#password', { store: 'aws-prod', secretName: 'DB_PASSWORD' })),
    ).toBe(PASSWORD);
    expect(fetched.find((f) => f.name === 'CRM')?.fields).toEqual([
      { field: 'clientId', value: 'client-flowsafe' },
      { field: 'clientSecret', value: CLIENT_SECRET },
    ]);
    const pem = await resolver.resolve(
      req('prod/pem', { store: 'aws-prod', type: 'binary', secretName: 'CERT' }),
    );
    expect(Buffer.from((pem as { base64: string }).base64, 'base64').toString('utf8')).toContain(
      'MIIBcanarypem',
    );
  });

  it('refuses a value of the wrong shape naming the secret, store and ref but no value', async () => {
    const { resolver } = harness({ 'vault-prod': vaultStore(), 'aws-prod': awsStore() });
    const text = await failure(resolver.resolve(req('db#creds', { secretName: 'DB' })));
    expect(text.code).toBe('VALUE_SHAPE_INVALID');
    expect(text.message).toMatch(/^secret DB: store vault-prod ref db#creds does not hold a text value \(/);
    const basic = await failure(resolver.resolve(req('zendesk#token', { type: 'basic', secretName: 'DB' })));
    expect(basic.message).toBe(
      'secret DB: store vault-prod ref zendesk#token does not hold a basic value (a basic secret needs a JSON object with username and password)',
    );
    const oauth = await failure(
      resolver.resolve(req('prod/db', { store: 'aws-prod', type: 'oauth2', secretName: 'CRM' })),
    );
    expect(oauth.code).toBe('VALUE_SHAPE_INVALID');
    expect(oauth.message).toContain('clientId');
  });

  it('reads the per-environment ref with refFor', async () => {
    const { resolver } = harness({ 'vault-prod': vaultStore() });
    const source = {
      store: 'vault-prod',
      ref: 'env/prod#token',
      environments: { development: 'env/dev#token' },
    };
    const resolveIn = (environment: string) =>
      resolver.resolve(req(refFor(source, environment), { environment }));
    expect(await resolveIn('development')).toBe('canary-dev-value-0001');
    expect(await resolveIn('production')).toBe('canary-prod-value-0002');
    expect(await resolveIn('staging')).toBe('canary-prod-value-0002');
  });

  it('fails clearly when the store is down, naming secret, store and ref', async () => {
    const down = await startVaultStandIn();
    const address = down.url;
    await down.close();
    const { resolver } = harness({ 'vault-prod': vaultStore(300, VAULT_TOKEN, address) });
    const e = await failure(resolver.resolve(req('kv/zendesk#token')));
    expect(e.code).toBe('STORE_UNREACHABLE');
    expect(e.message).toBe(
      'secret ZENDESK_TOKEN: store vault-prod could not read ref kv/zendesk#token (connection refused: ECONNREFUSED)',
    );
    expect([e.secretName, e.store, e.ref]).toEqual(['ZENDESK_TOKEN', 'vault-prod', 'kv/zendesk#token']);
    expect(resolver.cacheSize()).toBe(0);
  });

  it('fails clearly with wrong credentials (Vault token, AWS key) and never caches a failure', async () => {
    const wrongAws = createSecretStore({
      name: 'aws-prod',
      type: 'aws-secrets-manager',
      config: {
        region: 'eu-west-1',
        endpoint: aws.url,
        credentials: { accessKeyId: AWS_KEY_ID, secretAccessKey: 'canary-wrong-aws-key-55' },
      },
    });
    stores.push(wrongAws);
    const { resolver } = harness({
      'vault-prod': vaultStore(300, 'hvs.canary-wrong-9f9f'),
      'aws-prod': wrongAws,
    });
    const v = await failure(resolver.resolve(req('zendesk#token')));
    expect(v.code).toBe('STORE_AUTH_FAILED');
    expect(v.message).toBe(
      'secret ZENDESK_TOKEN: store vault-prod could not read ref zendesk#token (403 permission denied)',
    );
    expect(v.message).not.toContain('hvs.canary-wrong-9f9f');
    const a = await failure(
      resolver.resolve(req('prod/db#password', { store: 'aws-prod', secretName: 'DB_PASSWORD' })),
    );
    expect(a.code).toBe('STORE_AUTH_FAILED');
    expect(a.message).toMatch(
      /^secret DB_PASSWORD: store aws-prod could not read ref prod\/db#password \(400 InvalidSignatureException/,
    );
    expect(a.message).not.toContain('canary-wrong-aws-key-55');
    expect(resolver.cacheSize()).toBe(0);
  });

  it('names a store that is not configured (e.g. after import into another workspace)', async () => {
    const { resolver } = harness({});
    const e = await failure(resolver.resolve(req('zendesk#token', { store: 'vault-elsewhere' })));
    expect(e.code).toBe('STORE_NOT_FOUND');
    expect(e.message).toBe(
      'secret ZENDESK_TOKEN: store vault-elsewhere is not configured in this workspace (ref zendesk#token, environment production)',
    );
  });

  it('a missing ref or key fails with REF_NOT_FOUND', async () => {
    const { resolver } = harness({ 'vault-prod': vaultStore(), 'aws-prod': awsStore() });
    expect((await failure(resolver.resolve(req('nope#token')))).code).toBe('REF_NOT_FOUND');
    expect((await failure(resolver.resolve(req('prod/missing', { store: 'aws-prod' })))).code).toBe(
      'REF_NOT_FOUND',
    );
  });
});
