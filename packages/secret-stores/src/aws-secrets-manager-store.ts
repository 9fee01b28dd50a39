// The `aws-secrets-manager` store (SPEC §12) through @aws-sdk/client-secrets-manager.
// Ref `secretId` returns the SecretString as is (the resolver parses JSON when the secret's
// type needs an object); `secretId#jsonKey` parses the SecretString as JSON and returns that
// key. A SecretBinary comes back as { base64 }. Without configured keys the SDK's default
// credential chain is used.
import {
  GetSecretValueCommand,
  ListSecretsCommand,
  SecretsManagerClient,
  type SecretsManagerClientConfig,
} from '@aws-sdk/client-secrets-manager';
import { awsFailure } from './aws-failure';
import { parseRef } from './parse-ref';
import { scrubMessage } from './scrub-message';
import { refFailure } from './ref-failure';
import type { FetchedValue, SecretStore, StoreTestResult } from './secret-store';
import { valueAtKey } from './value-at-key';
import type { AwsSecretsManagerConfig } from './store-config';

export interface AwsSecretsManagerStoreOptions {
  name: string;
  config: AwsSecretsManagerConfig;
  cacheTtlS: number;
}

export function createAwsSecretsManagerStore(options: AwsSecretsManagerStoreOptions): SecretStore {
  const { name, config } = options;
  const clientConfig: SecretsManagerClientConfig = {
    region: config.region,
    maxAttempts: 2,
    requestHandler: { connectionTimeout: config.timeoutMs, requestTimeout: config.timeoutMs },
  };
  if (config.endpoint !== undefined) clientConfig.endpoint = config.endpoint;
  if (config.credentials !== undefined) {
    clientConfig.credentials = {
      accessKeyId: config.credentials.accessKeyId,
      secretAccessKey: config.credentials.secretAccessKey,
      ...(config.credentials.sessionToken === undefined
        ? {}
        : { sessionToken: config.credentials.sessionToken }),
    };
  }
  const client = new SecretsManagerClient(clientConfig);
  const credentials = [config.credentials?.secretAccessKey, config.credentials?.sessionToken];
  const scrub = (text: string) => scrubMessage(text, credentials);
  const where =
    config.endpoint === undefined
      ? `AWS Secrets Manager in ${config.region}`
      : `AWS Secrets Manager at ${config.endpoint}`;

  const fail = refFailure(name, scrub);

  async function fetch(ref: string): Promise<FetchedValue> {
    const { path, key } = parseRef('aws-secrets-manager', ref, name);
    let out: { SecretString?: string | undefined; SecretBinary?: Uint8Array | undefined };
    try {
      out = await client.send(new GetSecretValueCommand({ SecretId: path }));
    } catch (err) {
      const failure = awsFailure(err);
      throw fail(failure.code, ref, failure.detail);
    }
    if (out.SecretString === undefined) {
      if (out.SecretBinary === undefined) throw fail('REF_NOT_FOUND', ref, 'the secret has no value');
      if (key !== undefined)
        throw fail('VALUE_SHAPE_INVALID', ref, `a binary secret has no JSON key ${JSON.stringify(key)}`);
      return { base64: Buffer.from(out.SecretBinary).toString('base64') };
    }
    if (key === undefined) return out.SecretString;
    let parsed: unknown;
    try {
      parsed = JSON.parse(out.SecretString);
    } catch {
      throw fail(
        'VALUE_SHAPE_INVALID',
        ref,
        `the secret is not JSON, so it has no key ${JSON.stringify(key)}`,
      );
    }
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed))
      throw fail(
        'VALUE_SHAPE_INVALID',
        ref,
        `the secret is not a JSON object, so it has no key ${JSON.stringify(key)}`,
      );
    if (!Object.hasOwn(parsed, key))
      throw fail('REF_NOT_FOUND', ref, `no key ${JSON.stringify(key)} in the secret's JSON`);
    const value = (parsed as Record<string, unknown>)[key];
    return valueAtKey(value, key, ref, fail);
  }

  async function test(): Promise<StoreTestResult> {
    try {
      await client.send(new ListSecretsCommand({ MaxResults: 1 }));
      return { ok: true, message: `connected to ${where} and authenticated` };
    } catch (err) {
      const failure = awsFailure(err);
      // AccessDenied comes only after AWS has verified the signature: the keys are good, the
      // identity just may not list secrets, which flowsafe does not need.
      if (failure.accessDenied)
        return {
          ok: true,
          message: `connected to ${where} and authenticated (this identity may not list secrets, which is fine)`,
        };
      if (failure.code === 'STORE_UNREACHABLE')
        return { ok: false, message: `could not connect to ${where} (${scrub(failure.detail)})` };
      return {
        ok: false,
        message: `connected to ${where} but the request was refused (${scrub(failure.detail)})`,
      };
    }
  }

  return {
    name,
    type: 'aws-secrets-manager',
    cacheTtlS: options.cacheTtlS,
    fetch,
    test,
    close: () => {
      client.destroy();
      return Promise.resolve();
    },
  };
}
