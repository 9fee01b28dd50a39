// Ref syntax per store type: vault path#key (key required), AWS secretId[#jsonKey].
import { describe, expect, it } from 'vitest';
import { isValidRef, parseRef } from './parse-ref';
import { SecretStoreError } from './secret-store-error';

describe('refs', () => {
  it('parses vault path#key and AWS ids with or without a JSON key', () => {
    expect(parseRef('vault', 'kv/zendesk#token')).toEqual({ path: 'kv/zendesk', key: 'token' });
    expect(parseRef('vault', 'a/b#key#with#hash')).toEqual({ path: 'a/b', key: 'key#with#hash' });
    expect(parseRef('aws-secrets-manager', 'prod/db')).toEqual({ path: 'prod/db', key: undefined });
    expect(
      parseRef(
        'aws-secrets-manager',
        'arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/db-AbCdEf#password',
      ),
    ).toEqual({
      path: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/db-AbCdEf',
      key: 'password',
    });
  });

  it.each([
    ['vault', 'kv/zendesk', 'write path#key'],
    ['vault', '/kv/zendesk#token', 'the path is segments'],
    ['vault', 'kv/../sys#token', 'without . or ..'],
    ['vault', 'kv//x#token', 'the path is segments'],
    ['vault', 'kv/x#', 'the key after # is empty'],
    ['aws-secrets-manager', 'prod db', 'write a secret name or ARN'],
    ['aws-secrets-manager', '', 'it is empty'],
  ] as const)('refuses %s ref %j with REF_INVALID', (type, ref, why) => {
    expect(() => parseRef(type, ref, 'store-a')).toThrow(SecretStoreError);
    try {
      parseRef(type, ref, 'store-a');
    } catch (e) {
      expect((e as SecretStoreError).code).toBe('REF_INVALID');
      expect((e as SecretStoreError).message).toContain(why);
      expect((e as SecretStoreError).message).toMatch(/^store store-a: ref /);
    }
    expect(isValidRef(type, ref)).toBe(false);
  });
});
