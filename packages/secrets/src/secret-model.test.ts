import { describe, expect, it } from 'vitest';
import {
  allowedHostSchema,
  secretCreateSchema,
  secretNameSchema,
  secretValueSchema,
  valueFields,
} from './secret-model';

function issues(result: { success: boolean; error?: { issues: Array<{ message: string }> } }): string {
  return (result.error?.issues ?? []).map((i) => i.message).join('\n');
}

describe('secret model', () => {
  it('accepts valid names and refuses invalid ones', () => {
    for (const ok of ['ZENDESK_TOKEN', '_x', 'a', `A${'b'.repeat(63)}`])
      expect(secretNameSchema.safeParse(ok).success).toBe(true);
    for (const bad of ['', '1ABC', 'has-dash', 'has space', `A${'b'.repeat(64)}`]) {
      expect(secretNameSchema.safeParse(bad).success).toBe(false);
    }
  });

  it('refuses every sensitive field shorter than 4 characters with a clear message', () => {
    const text = secretValueSchema('text').safeParse('abc');
    expect(issues(text)).toMatch(/at least 4 characters: shorter values cannot be masked safely/);
    expect(secretValueSchema('text').safeParse('abcd').success).toBe(true);
    expect(
      issues(secretValueSchema('basic').safeParse({ username: 'bob', password: 'long-enough' })),
    ).toMatch(/username/);
    expect(issues(secretValueSchema('basic').safeParse({ username: 'bobby', password: 'pw' }))).toMatch(
      /password/,
    );
    const oauth = { clientId: 'id', clientSecret: 'sec', tokenUrl: 'https://a.example.com/token' };
    const msg = issues(secretValueSchema('oauth2').safeParse(oauth));
    expect(msg).toMatch(/clientId/);
    expect(msg).toMatch(/clientSecret/);
  });

  it('validates binary values as base64 up to 64 KiB decoded', () => {
    const ok = Buffer.alloc(64 * 1024, 1).toString('base64');
    expect(secretValueSchema('binary').safeParse({ base64: ok, filename: 'cert.der' }).success).toBe(true);
    const big = Buffer.alloc(64 * 1024 + 1, 1).toString('base64');
    expect(issues(secretValueSchema('binary').safeParse({ base64: big }))).toMatch(/64 KiB/);
    expect(issues(secretValueSchema('binary').safeParse({ base64: 'not base64!' }))).toMatch(
      /not valid base64/,
    );
    expect(secretValueSchema('binary').safeParse({ base64: ok, filename: '../etc/passwd' }).success).toBe(
      false,
    );
  });

  it('requires an http(s) tokenUrl for oauth2', () => {
    const base = { clientId: 'client', clientSecret: 'secret' };
    expect(secretValueSchema('oauth2').safeParse({ ...base, tokenUrl: 'ftp://x.example.com' }).success).toBe(
      false,
    );
    expect(
      secretValueSchema('oauth2').safeParse({ ...base, tokenUrl: 'https://x.example.com/t', scope: 'a b' })
        .success,
    ).toBe(true);
  });

  it('validates allowed hosts: exact hosts or *.domain', () => {
    expect(allowedHostSchema.parse('API.Example.com')).toBe('api.example.com');
    expect(allowedHostSchema.parse('*.example.com')).toBe('*.example.com');
    expect(allowedHostSchema.parse('127.0.0.1')).toBe('127.0.0.1');
    for (const bad of [
      'https://api.example.com',
      'api.example.com:443',
      'api.example.com/x',
      '*.com',
      'a.*.com',
      '*',
    ]) {
      expect(allowedHostSchema.safeParse(bad).success, bad).toBe(false);
    }
  });

  it('validates the default value and every override against the type', () => {
    const parsed = secretCreateSchema.parse({
      name: 'DB',
      type: 'basic',
      value: { username: 'admin', password: 'default-pass' },
      environments: { production: { username: 'admin', password: 'prod-pass' } },
      allowedHosts: ['db.example.com'],
    });
    expect(parsed.visibility).toBe('masked');
    const bad = secretCreateSchema.safeParse({
      name: 'DB',
      type: 'basic',
      visibility: 'restricted',
      environments: { production: { username: 'admin', password: 'pw' } },
    });
    expect(bad.success).toBe(false);
    expect(secretCreateSchema.safeParse({ name: 'T', type: 'text', value: { base64: 'abcd' } }).success).toBe(
      false,
    );
    expect(
      secretCreateSchema.safeParse({ name: 'T', type: 'text', environments: { default: 'abcd' } }).success,
    ).toBe(false);
    expect(secretCreateSchema.safeParse({ name: 'T', type: 'text', visibility: 'public' }).success).toBe(
      false,
    );
  });

  it('lists the sensitive fields of each type, and the decoded text of a textual binary', () => {
    expect(valueFields('text', 'abcd')).toEqual([{ field: 'value', value: 'abcd' }]);
    expect(valueFields('basic', { username: 'user', password: 'pass' }).map((f) => f.field)).toEqual([
      'username',
      'password',
    ]);
    expect(
      valueFields('oauth2', {
        clientId: 'cid1',
        clientSecret: 'csec',
        tokenUrl: 'https://t.example.com',
      }).map((f) => f.field),
    ).toEqual(['clientId', 'clientSecret']);
    const pem = '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkq\n-----END PRIVATE KEY-----\n';
    const fields = valueFields('binary', { base64: Buffer.from(pem).toString('base64') });
    expect(fields).toEqual([
      { field: 'base64', value: Buffer.from(pem).toString('base64') },
      { field: 'text', value: pem },
    ]);
    const bytes = Buffer.from([0xff, 0x00, 0x81, 0x02, 0x03]).toString('base64');
    expect(valueFields('binary', { base64: bytes }).map((f) => f.field)).toEqual(['base64']);
  });
});
