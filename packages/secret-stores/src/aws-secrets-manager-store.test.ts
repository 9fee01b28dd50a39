// The aws-secrets-manager store against a local Secrets Manager stand-in on 127.0.0.1 that
// verifies SigV4 signatures. Explicit credentials and endpoint in every store: the SDK must
// never look for credentials (no EC2 metadata) nor reach a real AWS endpoint.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSecretStore } from './create-secret-store';
import type { SecretStoreError } from './secret-store-error';
import type { SecretStore } from './secret-store';
import { startAwsStandIn, type AwsStandIn } from './stand-ins/aws-stand-in';
import { expectSecretStoreError } from './expect-secret-store-error';

process.env.AWS_EC2_METADATA_DISABLED = 'true';

const ACCESS_KEY_ID = 'AKIAFLOWSAFETEST0001';
const SECRET_ACCESS_KEY = 'canary-aws-secret-key-7f3a9c1e5b';
const SESSION_TOKEN = 'canary-aws-session-token-4d2b8e';
const VALUE = 'canary-aws-value-0c6e2a9f';

let aws: AwsStandIn;
const stores: SecretStore[] = [];

function store(
  overrides: { accessKeyId?: string; secretAccessKey?: string; endpoint?: string } = {},
): SecretStore {
  const s = createSecretStore({
    name: 'aws-prod',
    type: 'aws-secrets-manager',
    config: {
      region: 'eu-west-1',
      endpoint: overrides.endpoint ?? aws.url,
      timeoutMs: 2000,
      credentials: {
        accessKeyId: overrides.accessKeyId ?? ACCESS_KEY_ID,
        secretAccessKey: overrides.secretAccessKey ?? SECRET_ACCESS_KEY,
        sessionToken: SESSION_TOKEN,
      },
    },
  });
  stores.push(s);
  return s;
}

async function failure(p: Promise<unknown>): Promise<SecretStoreError> {
  const e = await expectSecretStoreError(p);
  for (const canary of [SECRET_ACCESS_KEY, SESSION_TOKEN, VALUE]) expect(e.message).not.toContain(canary);
  return e;
}

beforeAll(async () => {
  aws = await startAwsStandIn({ accessKeyId: ACCESS_KEY_ID, secretAccessKey: SECRET_ACCESS_KEY });
  aws.setSecret('prod/zendesk', VALUE);
  aws.setSecret(
    'prod/db',
    JSON.stringify({ username: 'svc-flowsafe', password: VALUE, port: 5432, nested: { a: 'bcde' } }),
  );
  aws.setSecret('prod/cert', new Uint8Array([0, 1, 2, 250, 251, 252]));
});
afterAll(async () => {
  for (const s of stores) await s.close?.();
  await aws.close();
});

describe('aws-secrets-manager store', () => {
  it('reads a SecretString with a SigV4-signed GetSecretValue call', async () => {
    expect(await store().fetch('prod/zendesk')).toBe(VALUE);
    const last = aws.requests.at(-1);
    expect(last?.target).toBe('secretsmanager.GetSecretValue');
    expect(String(last?.headers.authorization)).toMatch(
      new RegExp(
        `^AWS4-HMAC-SHA256 Credential=${ACCESS_KEY_ID}/\\d{8}/eu-west-1/secretsmanager/aws4_request, ?SignedHeaders=.+, ?Signature=[0-9a-f]{64}$`,
      ),
    );
    expect(last?.headers['x-amz-security-token']).toBe(SESSION_TOKEN);
    expect(JSON.parse(last?.body ?? '{}')).toEqual({ SecretId: 'prod/zendesk' });
  });

  it('returns a JSON key with secretId#jsonKey (strings, numbers as strings, objects)', async () => {
    const s = store();
    expect(await s.fetch('prod/db#password')).toBe(VALUE);
    expect(await s.fetch('prod/db#port')).toBe('5432');
    expect(await s.fetch('prod/db#nested')).toEqual({ a: 'bcde' });
    expect(await s.fetch('prod/db')).toBe(
      JSON.stringify({ username: 'svc-flowsafe', password: VALUE, port: 5432, nested: { a: 'bcde' } }),
    );
  });

  it('returns a SecretBinary as { base64 }', async () => {
    expect(await store().fetch('prod/cert')).toEqual({
      base64: Buffer.from([0, 1, 2, 250, 251, 252]).toString('base64'),
    });
  });

  it('answers REF_NOT_FOUND for a missing secret or JSON key, REF_INVALID for a bad ref', async () => {
    const s = store();
    const missing = await failure(s.fetch('prod/nope'));
    expect(missing.code).toBe('REF_NOT_FOUND');
    expect(missing.message).toContain('store aws-prod could not read ref prod/nope');
    expect(missing.message).toContain('ResourceNotFoundException');
    expect((await failure(s.fetch('prod/db#nope'))).code).toBe('REF_NOT_FOUND');
    const notJson = await failure(s.fetch('prod/zendesk#key'));
    expect(notJson.code).toBe('VALUE_SHAPE_INVALID');
    expect((await failure(s.fetch('prod zendesk'))).code).toBe('REF_INVALID');
  });

  it('refuses an unknown access key id and a wrong secret key with STORE_AUTH_FAILED', async () => {
    const before = aws.counts.getSecretValue;
    const unknown = await failure(store({ accessKeyId: 'AKIAWRONGWRONG0000' }).fetch('prod/zendesk'));
    expect(unknown.code).toBe('STORE_AUTH_FAILED');
    expect(unknown.message).toContain('UnrecognizedClientException');
    const wrongKey = await failure(
      store({ secretAccessKey: 'canary-wrong-secret-key-91b' }).fetch('prod/zendesk'),
    );
    expect(wrongKey.code).toBe('STORE_AUTH_FAILED');
    expect(wrongKey.message).toContain('InvalidSignatureException');
    expect(wrongKey.message).not.toContain('canary-wrong-secret-key-91b');
    expect(aws.counts.getSecretValue).toBe(before);
  });

  it('answers STORE_UNREACHABLE when nothing listens', async () => {
    const down = await startAwsStandIn({ accessKeyId: ACCESS_KEY_ID, secretAccessKey: SECRET_ACCESS_KEY });
    const url = down.url;
    await down.close();
    const e = await failure(store({ endpoint: url }).fetch('prod/zendesk'));
    expect(e.code).toBe('STORE_UNREACHABLE');
    expect(e.message).toMatch(/^store aws-prod could not read ref prod\/zendesk \(.*ECONNREFUSED\)$/);
  });

  it('test() reports connection and authentication without a credential', async () => {
    const ok = await store().test();
    expect(ok.ok).toBe(true);
    expect(ok.message).toBe(`connected to AWS Secrets Manager at ${aws.url} and authenticated`);
    const bad = await store({ secretAccessKey: 'canary-wrong-secret-key-91b' }).test();
    expect(bad.ok).toBe(false);
    expect(bad.message).toContain('InvalidSignatureException');
    for (const m of [ok.message, bad.message])
      for (const canary of [SECRET_ACCESS_KEY, SESSION_TOKEN, 'canary-wrong-secret-key-91b'])
        expect(m).not.toContain(canary);
  });

  it('test() is ok when the identity may read but not list (AccessDenied after a valid signature)', async () => {
    const readOnly = await startAwsStandIn({
      accessKeyId: ACCESS_KEY_ID,
      secretAccessKey: SECRET_ACCESS_KEY,
      denyList: true,
    });
    try {
      const result = await store({ endpoint: readOnly.url }).test();
      expect(result).toEqual({
        ok: true,
        message: `connected to AWS Secrets Manager at ${readOnly.url} and authenticated (this identity may not list secrets, which is fine)`,
      });
      expect(readOnly.counts.listSecrets).toBe(1);
    } finally {
      await readOnly.close();
    }
  });
});
