// Store definitions: defaults, refusals that say what to write instead (and never echo a
// credential), and the credential fields the server seals and never returns.
import { describe, expect, it } from 'vitest';
import { createSecretStore, parseStoreDefinition } from './create-secret-store';
import { SecretStoreError } from './secret-store-error';
import { credentialFields, mergeCredentials, splitCredentials } from './store-config';

const TOKEN = 'hvs.canary-config-token-19ab';
const SECRET_KEY = 'canary-config-aws-key-4c4c';

describe('store definitions', () => {
  it('applies defaults: mount secret, cacheTtlS 300, timeout 10 s', () => {
    const def = parseStoreDefinition({
      name: 'vault-prod',
      type: 'vault',
      config: { address: 'https://vault.internal:8200', auth: { method: 'token', token: TOKEN } },
    });
    expect(def).toEqual({
      name: 'vault-prod',
      type: 'vault',
      cacheTtlS: 300,
      config: {
        address: 'https://vault.internal:8200',
        mount: 'secret',
        auth: { method: 'token', token: TOKEN },
        timeoutMs: 10_000,
      },
    });
  });

  it('accepts an AWS store without keys (default credential chain) and with cacheTtlS 0', () => {
    const def = parseStoreDefinition({
      name: 'aws',
      type: 'aws-secrets-manager',
      cacheTtlS: 0,
      config: { region: 'eu-west-1' },
    });
    expect(def.cacheTtlS).toBe(0);
    expect(def.config).toEqual({ region: 'eu-west-1', timeoutMs: 10_000 });
  });

  it.each([
    [
      {
        name: 'v',
        type: 'vault',
        config: { address: 'ftp://vault', auth: { method: 'token', token: TOKEN } },
      },
      'config.address: address must be an http(s) URL',
    ],
    [
      {
        name: 'v',
        type: 'vault',
        config: { address: `https://user:${TOKEN}@vault`, auth: { method: 'token', token: TOKEN } },
      },
      'must not contain a user name or password',
    ],
    [
      {
        name: 'v',
        type: 'vault',
        config: { address: 'https://vault', mount: '../sys', auth: { method: 'token', token: TOKEN } },
      },
      'config.mount',
    ],
    [
      {
        name: 'v',
        type: 'vault',
        config: { address: 'https://vault', auth: { method: 'approle', roleId: 'r', secretId: 'abc' } },
      },
      'config.auth.secretId',
    ],
    [
      {
        name: 'v',
        type: 'vault',
        config: { address: 'https://vault', auth: { method: 'ldap', password: TOKEN } },
      },
      'config.auth.method',
    ],
    [
      {
        name: 'a',
        type: 'aws-secrets-manager',
        config: {
          region: 'Europe',
          credentials: { accessKeyId: 'AKIAFLOWSAFETEST0003', secretAccessKey: SECRET_KEY },
        },
      },
      'config.region',
    ],
    [
      {
        name: 'a',
        type: 'aws-secrets-manager',
        config: {
          region: 'eu-west-1',
          credentials: { accessKeyId: SECRET_KEY, secretAccessKey: SECRET_KEY },
        },
      },
      'config.credentials.accessKeyId',
    ],
    [{ name: '1bad', type: 'vault', config: {} }, 'name:'],
    [{ name: 'x', type: 'consul', config: {} }, 'type'],
    [
      {
        name: 'v',
        type: 'vault',
        cacheTtlS: -1,
        config: { address: 'https://vault', auth: { method: 'token', token: TOKEN } },
      },
      'cacheTtlS',
    ],
  ])('refuses %j with STORE_CONFIG_INVALID naming the field and no credential', (input, expected) => {
    let err: unknown;
    try {
      createSecretStore(input);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SecretStoreError);
    const e = err as SecretStoreError;
    expect(e.code).toBe('STORE_CONFIG_INVALID');
    expect(e.message).toContain(expected);
    expect(e.message).not.toContain(TOKEN);
    expect(e.message).not.toContain(SECRET_KEY);
  });

  it('lists the credential fields of each store type', () => {
    expect(credentialFields('vault', { auth: { method: 'token' } })).toEqual(['token']);
    expect(credentialFields('vault', { auth: { method: 'approle' } })).toEqual(['secretId']);
    expect(credentialFields('vault')).toEqual(['token', 'secretId']);
    expect(credentialFields('aws-secrets-manager')).toEqual(['secretAccessKey', 'sessionToken']);
  });

  it('splits credentials out of a config and merges them back', () => {
    const vault = {
      address: 'https://vault',
      mount: 'secret',
      auth: { method: 'approle', roleId: 'role-1', secretId: 'canary-sid-0001' },
    };
    const split = splitCredentials('vault', vault);
    expect(split).toEqual({
      publicConfig: {
        address: 'https://vault',
        mount: 'secret',
        auth: { method: 'approle', roleId: 'role-1' },
      },
      credentials: { secretId: 'canary-sid-0001' },
    });
    expect(JSON.stringify(split.publicConfig)).not.toContain('canary-sid-0001');
    expect(mergeCredentials('vault', split.publicConfig, split.credentials)).toEqual(vault);

    const aws = {
      region: 'eu-west-1',
      credentials: {
        accessKeyId: 'AKIAFLOWSAFETEST0004',
        secretAccessKey: SECRET_KEY,
        sessionToken: 'canary-session-1',
      },
    };
    const awsSplit = splitCredentials('aws-secrets-manager', aws);
    expect(awsSplit.publicConfig).toEqual({
      region: 'eu-west-1',
      credentials: { accessKeyId: 'AKIAFLOWSAFETEST0004' },
    });
    expect(awsSplit.credentials).toEqual({ secretAccessKey: SECRET_KEY, sessionToken: 'canary-session-1' });
    expect(mergeCredentials('aws-secrets-manager', awsSplit.publicConfig, awsSplit.credentials)).toEqual(aws);
    expect(splitCredentials('aws-secrets-manager', { region: 'eu-west-1' })).toEqual({
      publicConfig: { region: 'eu-west-1' },
      credentials: {},
    });
  });
});
