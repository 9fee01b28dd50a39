// Shaping fetched data into each secret type, with the same rules as stored values.
import { describe, expect, it } from 'vitest';
import { shapeValue } from './shape-value';

describe('shapeValue', () => {
  it('text: a string as is; an object is refused', () => {
    expect(shapeValue('text', 'abcd-value')).toEqual({ ok: true, value: 'abcd-value' });
    expect(shapeValue('text', { a: 'bcdef' })).toMatchObject({ ok: false });
  });

  it('refuses values too short to be masked', () => {
    const r = shapeValue('text', 'abc');
    expect(r.ok).toBe(false);
    expect(!r.ok && r.detail).toContain('at least 4 characters');
    expect(!r.ok && r.detail).not.toContain('abc');
  });

  it('basic: from an object or a JSON string, extra fields ignored', () => {
    const value = { username: 'user-1', password: 'pass-word-1' };
    expect(shapeValue('basic', { ...value, host: 'x' })).toEqual({ ok: true, value });
    expect(shapeValue('basic', JSON.stringify(value))).toEqual({ ok: true, value });
    const missing = shapeValue('basic', { username: 'user-1' });
    expect(missing.ok).toBe(false);
    expect(!missing.ok && missing.detail).toContain('password');
  });

  it('oauth2: camelCase or snake_case fields; tokenUrl must be http(s)', () => {
    const expected = {
      clientId: 'client-1',
      clientSecret: 'secret-1',
      tokenUrl: 'https://auth.example.com/token',
      audience: 'api',
    };
    expect(
      shapeValue('oauth2', {
        client_id: 'client-1',
        client_secret: 'secret-1',
        token_url: 'https://auth.example.com/token',
        audience: 'api',
      }),
    ).toEqual({
      ok: true,
      value: expected,
    });
    expect(shapeValue('oauth2', expected)).toEqual({ ok: true, value: expected });
    expect(shapeValue('oauth2', { ...expected, tokenUrl: 'file:///etc/passwd' }).ok).toBe(false);
  });

  it('binary: {base64}, a base64 string, or text encoded as UTF-8', () => {
    expect(shapeValue('binary', { base64: 'AAECAw==', filename: 'k.bin' })).toEqual({
      ok: true,
      value: { base64: 'AAECAw==', filename: 'k.bin' },
    });
    expect(shapeValue('binary', 'AAEC\nAw==')).toEqual({ ok: true, value: { base64: 'AAECAw==' } });
    const pem = '-----BEGIN KEY-----\nabc\n-----END KEY-----\n';
    expect(shapeValue('binary', pem)).toEqual({
      ok: true,
      value: { base64: Buffer.from(pem).toString('base64') },
    });
  });
});
