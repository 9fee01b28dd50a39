import { describe, expect, it } from 'vitest';
import { RedactError, Redactor } from './index';

const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');
const b64url = (s: string): string => Buffer.from(s, 'utf8').toString('base64url');

/** Every encoding a log can carry, as a caller would produce it. */
function encodings(v: string): Record<string, string> {
  return {
    raw: v,
    base64: b64(v),
    base64Unpadded: b64(v).replace(/=+$/, ''),
    base64url: b64url(v),
    base64urlPadded: b64url(v) + '='.repeat((4 - (b64url(v).length % 4)) % 4),
    uri: encodeURIComponent(v),
    form: new URLSearchParams({ q: v }).toString().slice(2),
    formPlus: encodeURIComponent(v).replace(/%20/g, '+'),
    json: JSON.stringify(v).slice(1, -1),
  };
}

function expectMasked(r: Redactor, value: string, name: string): void {
  for (const [kind, form] of Object.entries(encodings(value))) {
    const line = `before ${form} after`;
    const out = r.redact(line);
    expect(out, `${kind} form of ${JSON.stringify(value)}`).toBe(`before [REDACTED:${name}] after`);
    expect(out).not.toContain(form);
  }
}

describe('Redactor', () => {
  it('invariant 6: text secret is masked in every encoding', () => {
    const r = new Redactor();
    const canary = 'canary-TEXT-7f3a9 with space/slash+plus&amp="quote"\\back';
    r.add('CANARY', canary);
    expectMasked(r, canary, 'CANARY');
    expect(r.redact(`{"msg":${JSON.stringify(JSON.stringify({ token: canary }))}}`)).not.toContain('7f3a9');
  });

  it('invariant 6: binary secret (base64 value) is masked as given, re-encoded, hex and decoded', () => {
    const r = new Redactor();
    const bytes = Buffer.from([0xde, 0xad, 0xbe, 0xef, 0x00, 0x01, 0xfe, 0xfd, 0x10, 0x20, 0x30]);
    r.addSecret('BIN', { base64: bytes.toString('base64'), filename: 'k.bin' });
    for (const form of [bytes.toString('base64'), bytes.toString('base64url'), bytes.toString('hex')]) {
      expect(r.redact(`x ${form} y`)).toBe('x [REDACTED:BIN] y');
    }
    const pem = '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----\n';
    r.addSecret('PEM', { base64: b64(pem) });
    expect(r.redact(pem)).toBe('[REDACTED:PEM]');
    expect(r.redact('line: MIIEvQIBADANBgkqhkiG9w0BAQEFAASC')).toBe('line: [REDACTED:PEM]');
  });

  it('invariant 6: basic secret masks username, password and base64(user:password) in all forms', () => {
    const r = new Redactor();
    r.addSecret('BASIC', { username: 'canary-user', password: 'canary pass:word!' });
    expectMasked(r, 'canary pass:word!', 'BASIC');
    expectMasked(r, 'canary-user', 'BASIC');
    expectMasked(r, 'canary-user:canary pass:word!', 'BASIC');
    const header = `Authorization: Basic ${b64('canary-user:canary pass:word!')}`;
    expect(r.redact(header)).toBe('Authorization: Basic [REDACTED:BASIC]');
    // RFC 6749 client authentication form-encodes both parts before base64
    expect(r.redact(b64('canary-user:canary+pass%3Aword%21'))).toBe('[REDACTED:BASIC]');
  });

  it('invariant 6: basic secret with a short username still masks the pair', () => {
    const r = new Redactor();
    r.addBasic('B', 'bob', 'canary-pw');
    expect(r.redact('user bob')).toBe('user bob');
    expect(r.redact(b64('bob:canary-pw'))).toBe('[REDACTED:B]');
    expect(() => r.addBasic('C', 'someone', 'pw')).toThrow(RedactError);
  });

  it('invariant 6: oauth2 client id, client secret, client basic auth and fetched access token', () => {
    const r = new Redactor();
    r.addSecret('OAUTH', {
      clientId: 'canary-client-id',
      clientSecret: 'canary-client-secret',
      tokenUrl: 'https://auth.example.com/token',
    });
    expectMasked(r, 'canary-client-id', 'OAUTH');
    expectMasked(r, 'canary-client-secret', 'OAUTH');
    expect(r.redact(`Basic ${b64('canary-client-id:canary-client-secret')}`)).toBe('Basic [REDACTED:OAUTH]');
    expect(r.redact('https://auth.example.com/token')).toBe('https://auth.example.com/token');
    const run = r.child();
    run.add('OAUTH', 'eyJhbGciOiJIUzI1NiJ9.canary-access-token');
    expect(run.redact('Bearer eyJhbGciOiJIUzI1NiJ9.canary-access-token')).toBe('Bearer [REDACTED:OAUTH]');
    expect(run.redact('canary-client-secret')).toBe('[REDACTED:OAUTH]');
    expect(r.redact('eyJhbGciOiJIUzI1NiJ9.canary-access-token')).toContain('canary-access-token');
  });

  it('invariant 6: multi-line value is masked whole and line by line, short lines never alone', () => {
    const r = new Redactor();
    const pem = [
      '-----BEGIN CERTIFICATE-----',
      'MIIDdzCCAl+gAwIBAgIEAgAAuTANBgkqhkiG9w0BAQUFADBaMQswCQYDVQQGEwJJ',
      'RTESMBAGA1UEChMJQmFsdGltb3JlMRMwEQYDVQQLEwpDeWJlclRydXN0MSIwIAYD',
      'short',
      '}',
      '-----END CERTIFICATE-----',
    ].join('\r\n');
    r.add('CERT', pem);
    expect(r.redact(`cert=${pem};`)).toBe('cert=[REDACTED:CERT];');
    expect(r.redact(JSON.stringify({ pem }))).toBe('{"pem":"[REDACTED:CERT]"}');
    expect(r.redact('x RTESMBAGA1UEChMJQmFsdGltb3JlMRMwEQYDVQQLEwpDeWJlclRydXN0MSIwIAYD y')).toBe(
      'x [REDACTED:CERT] y',
    );
    expect(r.redact(b64('MIIDdzCCAl+gAwIBAgIEAgAAuTANBgkqhkiG9w0BAQUFADBaMQswCQYDVQQGEwJJ'))).toBe(
      '[REDACTED:CERT]',
    );
    expect(r.redact('a short line and } brace')).toBe('a short line and } brace');
    const keyFile = JSON.stringify(
      { type: 'service_account', private_key: 'canary-key-material-0123' },
      null,
      2,
    );
    r.add('KEYFILE', keyFile);
    expect(r.redact(`"private_key": "canary-key-material-0123"`)).toBe('[REDACTED:KEYFILE]');
    expect(r.redact('{')).toBe('{');
  });

  it('invariant 6: values shorter than 4 characters are refused', () => {
    const r = new Redactor();
    try {
      r.add('X', 'abc');
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(RedactError);
      expect((err as RedactError).code).toBe('VALUE_TOO_SHORT');
    }
    expect(() => r.add('X', '')).toThrow(RedactError);
    r.add('X', 'abcd');
    expect(r.redact('abcd')).toBe('[REDACTED:X]');
    expect(() => new Redactor({ minLength: 8 }).add('Y', 'abcdefg')).toThrow(/shorter than 8/);
  });

  it('Unicode values (non-ASCII, emoji) are masked in every encoding', () => {
    const r = new Redactor();
    for (const [i, v] of ['pässwörd-ünïcode', '秘密のトークン値', 'tok🔑en😀🎉', 'ℌ𝔢𝔩𝔩𝔬 wörld'].entries()) {
      r.add(`U${i}`, v);
      expectMasked(r, v, `U${i}`);
      const ascii = JSON.stringify(v).replace(
        /[\u0080-\uffff]/g,
        (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'),
      );
      expect(r.redact(ascii.slice(1, -1))).toBe(`[REDACTED:U${i}]`);
    }
  });

  it('values with regex metacharacters are matched literally', () => {
    const r = new Redactor();
    const v = '.*+?^${}()|[]\\/';
    r.add('META', v);
    expectMasked(r, v, 'META');
    expect(r.redact('abcdefghijklmnop')).toBe('abcdefghijklmnop');
    expect(r.redact('.*+?^${}()|[]')).toBe('.*+?^${}()|[]');
  });

  it('longest match wins and no part of a longer value is left', () => {
    const r = new Redactor();
    r.add('SHORT', 'secret');
    r.add('LONG', 'secret-extended-value');
    r.add('MID', 'extended');
    expect(r.redact('a secret-extended-value b')).toBe('a [REDACTED:LONG] b');
    expect(r.redact('a secret-extended-valu b')).toBe('a [REDACTED:SHORT]-[REDACTED:MID]-valu b');
    expect(r.redact('secretsecret')).toBe('[REDACTED:SHORT][REDACTED:SHORT]');
    const r2 = new Redactor({ minLength: 3 });
    r2.add('A', 'xxab');
    r2.add('B', 'abcdef');
    r2.add('C', 'bcd');
    // overlapping values: the leftmost names the region, which covers both
    expect(r2.redact('xxabcdef')).toBe('[REDACTED:A]');
    expect(r2.redact('1xxabcdef2xxab3')).toBe('1[REDACTED:A]2[REDACTED:A]3');
    expect(r2.redact('zabcdefz')).toBe('z[REDACTED:B]z');
    expect(r2.redact('zabcdez')).toBe('za[REDACTED:C]ez');
  });

  it('the same value under two names keeps being masked when one name is removed', () => {
    const r = new Redactor();
    r.add('FIRST', 'shared-value');
    r.add('SECOND', 'shared-value');
    expect(r.redact('shared-value')).toBe('[REDACTED:FIRST]');
    r.remove('FIRST');
    expect(r.redact('shared-value')).toBe('[REDACTED:SECOND]');
    r.remove('SECOND', 'shared-value');
    expect(r.redact('shared-value')).toBe('shared-value');
    expect(r.size).toBe(0);
  });

  it('add and remove at run time, across the big and small automata', () => {
    const r = new Redactor();
    const values = Array.from({ length: 300 }, (_, i) => `value-${i}-${'x'.repeat(i % 17)}-end`);
    values.forEach((v, i) => r.add(`V${i}`, v));
    expect(r.redact(values[7]!)).toBe('[REDACTED:V7]');
    // later additions go to the small automaton until it is worth merging
    for (let i = 0; i < 40; i++) {
      r.add(`N${i}`, `new-token-${i}-abcdef`);
      expect(r.redact(`a new-token-${i}-abcdef b ${values[i]!}`)).toBe(
        `a [REDACTED:N${i}] b [REDACTED:V${i}]`,
      );
    }
    for (let i = 0; i < 200; i++) r.remove(`V${i}`);
    expect(r.redact(values[5]!)).toBe(values[5]);
    expect(r.redact(b64(values[5]!))).toBe(b64(values[5]!));
    expect(r.redact(values[250]!)).toBe('[REDACTED:V250]');
    expect(r.has(values[5]!)).toBe(false);
    expect(r.has(values[250]!)).toBe(true);
    expect(r.has(b64(values[250]!))).toBe(true);
    r.add('V5', values[5]!);
    expect(r.redact(values[5]!)).toBe('[REDACTED:V5]');
    r.remove('N3', 'new-token-3-abcdef');
    expect(r.redact('new-token-3-abcdef')).toBe('new-token-3-abcdef');
    expect(r.size).toBe(100 + 40 - 1 + 1);
  });

  it('child sees its parent values (also those added later) plus its own', () => {
    const parent = new Redactor();
    parent.add('P', 'parent-secret');
    const child = parent.child();
    child.add('C', 'child-secret');
    parent.add('LATE', 'late-secret');
    expect(child.redact('parent-secret child-secret late-secret')).toBe(
      '[REDACTED:P] [REDACTED:C] [REDACTED:LATE]',
    );
    expect(parent.redact('child-secret')).toBe('child-secret');
    expect(child.has('parent-secret')).toBe(true);
    expect(child.size).toBe(3);
    parent.remove('P');
    expect(child.redact('parent-secret')).toBe('parent-secret');
    // longest match across layers
    child.add('C2', 'late-secret-and-more');
    expect(child.redact('late-secret-and-more')).toBe('[REDACTED:C2]');
    expect(child.findFirst('x late-secret y child-secret')).toEqual({ name: 'LATE' });
  });

  it('a child that already scanned sees values its parents add later, also shorter ones', () => {
    const root = new Redactor();
    root.add('LONG', 'a-rather-long-secret-value');
    const parent = root.child();
    const child = parent.child();
    expect(child.redact('abcd a-rather-long-secret-value')).toBe('abcd [REDACTED:LONG]');
    expect(child.redact('abcd')).toBe('abcd');
    root.add('SHORT', 'abcd');
    expect(child.redact('abcd')).toBe('[REDACTED:SHORT]');
    parent.add('MID', 'wxyz1');
    expect(child.redact('wxyz1')).toBe('[REDACTED:MID]');
    expect(child.redactJson({ abcd: 'wxyz1', n: 1 })).toEqual({ '[REDACTED:SHORT]': '[REDACTED:MID]', n: 1 });
    root.remove('SHORT');
    expect(child.redact('abcd')).toBe('abcd');
  });

  it('findFirst names the leftmost value for push protection', () => {
    const r = new Redactor();
    r.add('API_KEY', 'sk_live_abcdef');
    r.add('OTHER', 'other-value');
    expect(r.findFirst('no secret here')).toBeUndefined();
    expect(r.findFirst('x other-value sk_live_abcdef')).toEqual({ name: 'OTHER' });
    expect(r.findFirst(`{"url":"https://x/?k=${encodeURIComponent('sk_live_abcdef')}"}`)).toEqual({
      name: 'API_KEY',
    });
    expect(new Redactor().findFirst('anything')).toBeUndefined();
  });

  it('redactBuffer and redactJson (keys, leaves, numbers, errors; deep copy)', () => {
    const r = new Redactor();
    r.add('TOKEN', 'tok-canary-123');
    r.add('PIN', '98765432');
    expect(r.redactBuffer(Buffer.from('a tok-canary-123 ü')).toString()).toBe('a [REDACTED:TOKEN] ü');
    const clean = Buffer.from('nothing');
    expect(r.redactBuffer(clean)).toBe(clean);
    const input = {
      'tok-canary-123': ['x tok-canary-123', { deep: { deeper: 'tok-canary-123' } }],
      n: 98765432,
      ok: 12,
      flag: true,
      nil: null,
      err: new Error('failed with tok-canary-123'),
    };
    const out = r.redactJson(input);
    expect(JSON.stringify(out)).not.toContain('tok-canary-123');
    expect(JSON.stringify(out)).not.toContain('98765432');
    expect(out).toMatchObject({
      '[REDACTED:TOKEN]': ['x [REDACTED:TOKEN]', { deep: { deeper: '[REDACTED:TOKEN]' } }],
      n: '[REDACTED:PIN]',
      ok: 12,
      flag: true,
      nil: null,
    });
    expect(input['tok-canary-123'][0]).toBe('x tok-canary-123');
  });

  it('version grows with every add or remove here or in a parent, and never with a scan', () => {
    const parent = new Redactor();
    const child = parent.child();
    const seen = [child.version];
    const step = (fn: () => void): void => {
      fn();
      seen.push(child.version);
    };
    child.redact('nothing to see here');
    expect(child.version).toBe(seen[0]);
    step(() => parent.add('A', 'parent-value-1'));
    step(() => child.add('B', 'child-value-22'));
    child.redactJson({ x: 'parent-value-1' });
    expect(child.version).toBe(seen.at(-1));
    step(() => parent.remove('A'));
    step(() => child.remove('B'));
    for (let i = 1; i < seen.length; i++) expect(seen[i]!).toBeGreaterThan(seen[i - 1]!);
    expect(parent.version).toBeLessThan(child.version);
  });
});
