import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { createCipheriv, type KeyObject, randomBytes } from 'node:crypto';
import { KeyRing, type SealContext, type SealedValue, type WrappedKey } from './key-ring';
import { MasterKey } from './master-key';
import type { SecretType, SecretValue } from './secret-model';
import { SecretsError } from './secrets-error';

const ctx: SealContext = {
  workspaceId: 'ws1',
  projectId: 'prj1',
  secretId: 'sec1',
  environment: 'production',
};

const samples: Array<[SecretType, SecretValue]> = [
  ['text', 'tok_live_8f2a9c4e'],
  ['binary', { base64: Buffer.from('-----BEGIN KEY-----\nabc\n').toString('base64'), filename: 'key.pem' }],
  ['basic', { username: 'alice-user', password: 'hunter2-pass' }],
  [
    'oauth2',
    {
      clientId: 'client-123',
      clientSecret: 'cs_abcdef',
      tokenUrl: 'https://auth.example.com/token',
      scope: 'read write',
    },
  ],
];

function expectAuthFailure(fn: () => unknown, secret: string): void {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(SecretsError);
  expect((caught as SecretsError).code).toBe('SEAL_AUTH_FAILED');
  expect((caught as SecretsError).message).not.toContain(secret);
  expect(String((caught as SecretsError).cause ?? '')).not.toContain(secret);
}

/** A value sealed the earlier way, one blob per field (AAD …/<field>), with the ring's data key. */
function sealFieldByField(
  ring: KeyRing,
  wrapped: WrappedKey,
  c: SealContext,
  fields: Record<string, string>,
): SealedValue {
  const dek = (ring as unknown as { dataKey(w: WrappedKey): KeyObject }).dataKey(wrapped);
  const out: SealedValue = {};
  for (const [field, text] of Object.entries(fields)) {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', dek, iv, { authTagLength: 16 });
    cipher.setAAD(Buffer.from(`${c.workspaceId}/${c.projectId}/${c.secretId}/${c.environment}/${field}`));
    const ct = Buffer.concat([cipher.update(text, 'utf8'), cipher.final()]);
    out[field] = {
      iv: iv.toString('base64'),
      ct: ct.toString('base64'),
      tag: cipher.getAuthTag().toString('base64'),
    };
  }
  return out;
}

function flipBit(b64: string, bit: number): string {
  const buf = Buffer.from(b64, 'base64');
  const index = Math.floor(bit / 8) % buf.length;
  buf[index] = (buf[index] as number) ^ (1 << (bit % 8));
  return buf.toString('base64');
}

describe('invariant 1: sealed values are bound to their place and authenticated', () => {
  const ring = new KeyRing(MasterKey.generate());

  it.each(samples)('round-trips a %s value', (type, value) => {
    const wrapped = ring.newDataKey();
    const sealed = ring.seal(wrapped, ctx, type, value);
    expect(JSON.stringify(sealed)).not.toContain(typeof value === 'string' ? value : Object.values(value)[0]);
    expect(ring.open(wrapped, ctx, type, sealed)).toEqual(value);
  });

  it('uses a fresh IV for every seal', () => {
    const wrapped = ring.newDataKey();
    const a = ring.seal(wrapped, ctx, 'text', 'same-value');
    const b = ring.seal(wrapped, ctx, 'text', 'same-value');
    expect(a.value?.iv).not.toBe(b.value?.iv);
    expect(a.value?.ct).not.toBe(b.value?.ct);
    expect(Buffer.from(a.value?.iv ?? '', 'base64')).toHaveLength(12);
  });

  it.each([
    ['workspace', { workspaceId: 'ws2' }],
    ['project', { projectId: 'prj2' }],
    ['secret', { secretId: 'sec2' }],
    ['environment', { environment: 'development' }],
  ])('a value moved to another %s fails to open', (_what, change) => {
    const secret = 'canary-moved-value';
    const wrapped = ring.newDataKey();
    const sealed = ring.seal(wrapped, ctx, 'text', secret);
    expectAuthFailure(() => ring.open(wrapped, { ...ctx, ...change }, 'text', sealed), secret);
  });

  it('the fields of a value are sealed together, in one blob bound to the field name "fields"', () => {
    const wrapped = ring.newDataKey();
    const sealed = ring.seal(wrapped, ctx, 'basic', { username: 'user-name', password: 'pass-word' });
    expect(Object.keys(sealed)).toEqual(['fields']);
    // the blob under another field name no longer matches its AAD
    expectAuthFailure(
      () => ring.open(wrapped, ctx, 'basic', { username: sealed.fields!, password: sealed.fields! }),
      'pass-word',
    );
  });

  it('values sealed field by field (the earlier format) still open, and their fields cannot be swapped', () => {
    const wrapped = ring.newDataKey();
    const basic = sealFieldByField(ring, wrapped, ctx, { username: 'user-name', password: 'pass-word' });
    expect(ring.open(wrapped, ctx, 'basic', basic)).toEqual({ username: 'user-name', password: 'pass-word' });
    const oauth2Value = {
      clientId: 'client-1',
      clientSecret: 'cs-secret-1',
      tokenUrl: 'https://a.example/t',
    };
    const oauth2 = sealFieldByField(ring, wrapped, ctx, oauth2Value);
    expect(ring.open(wrapped, ctx, 'oauth2', oauth2)).toEqual(oauth2Value);

    const swapped: SealedValue = { username: basic.password!, password: basic.username! };
    expectAuthFailure(() => ring.open(wrapped, ctx, 'basic', swapped), 'pass-word');
    // a field blob renamed to the packed name does not open either
    expectAuthFailure(() => ring.open(wrapped, ctx, 'basic', { fields: basic.password! }), 'pass-word');
  });

  it("a value moved to another secret's data key fails to open", () => {
    const secret = 'canary-other-dek';
    const a = ring.newDataKey();
    const b = ring.newDataKey();
    const sealed = ring.seal(a, ctx, 'text', secret);
    expectAuthFailure(() => ring.open(b, ctx, 'text', sealed), secret);
  });

  it.each(['iv', 'ct', 'tag'] as const)('a flipped bit in %s fails to open (every bit position)', (part) => {
    const secret = 'canary-flip-value';
    const wrapped = ring.newDataKey();
    const sealed = ring.seal(wrapped, ctx, 'text', secret);
    const bits = Buffer.from(sealed.value![part], 'base64').length * 8;
    for (let bit = 0; bit < bits; bit++) {
      const tampered: SealedValue = {
        value: { ...sealed.value!, [part]: flipBit(sealed.value![part], bit) },
      };
      expectAuthFailure(() => ring.open(wrapped, ctx, 'text', tampered), secret);
    }
  });

  it('the decrypted bytes are wiped, also when the tag refuses them', () => {
    const wrapped = ring.newDataKey();
    const value = 'canary-wipe-value';
    const sealed = ring.seal(wrapped, ctx, 'text', value);
    const tampered: SealedValue = { value: { ...sealed.value!, tag: flipBit(sealed.value!.tag, 5) } };
    const wiped: string[] = [];
    // record what each fill(0) overwrites (the mock wipes byte by byte itself)
    const fill = vi.spyOn(Buffer.prototype, 'fill').mockImplementation(function (this: Buffer, byte) {
      wiped.push(this.toString('utf8'));
      for (let i = 0; i < this.length; i++) this[i] = Number(byte);
      return this;
    });
    try {
      expectAuthFailure(() => ring.open(wrapped, ctx, 'text', tampered), value);
      expect(wiped).toContain(value);
      wiped.length = 0;
      expect(ring.open(wrapped, ctx, 'text', sealed)).toBe(value);
      expect(wiped).toContain(value);
    } finally {
      fill.mockRestore();
    }
  });

  it('a truncated tag or IV fails to open', () => {
    const wrapped = ring.newDataKey();
    const sealed = ring.seal(wrapped, ctx, 'text', 'canary-truncated');
    const tag = Buffer.from(sealed.value!.tag, 'base64').subarray(0, 4).toString('base64');
    expectAuthFailure(
      () => ring.open(wrapped, ctx, 'text', { value: { ...sealed.value!, tag } }),
      'canary-truncated',
    );
    const iv = Buffer.from(sealed.value!.iv, 'base64').subarray(0, 8).toString('base64');
    expectAuthFailure(
      () => ring.open(wrapped, ctx, 'text', { value: { ...sealed.value!, iv } }),
      'canary-truncated',
    );
  });

  it('a flipped bit in the wrapped data key fails to open', () => {
    const wrapped = ring.newDataKey();
    const sealed = ring.seal(wrapped, ctx, 'text', 'canary-dek-flip');
    const fresh = new KeyRing(MasterKey.fromBase64(ring['current'].toBase64()));
    for (const part of ['iv', 'ct', 'tag'] as const) {
      expectAuthFailure(
        () => fresh.open({ ...wrapped, [part]: flipBit(wrapped[part], 3) }, ctx, 'text', sealed),
        'canary-dek-flip',
      );
    }
  });

  it('a flipped bit in a frozen wrapped data key (as stores hand them out) fails to open too', () => {
    const wrapped = Object.freeze(ring.newDataKey());
    const sealed = ring.seal(wrapped, ctx, 'text', 'canary-frozen-dek');
    expect(ring.open(wrapped, ctx, 'text', sealed)).toBe('canary-frozen-dek');
    expect(ring.open(wrapped, ctx, 'text', sealed)).toBe('canary-frozen-dek');
    for (const part of ['iv', 'ct', 'tag'] as const) {
      const altered = Object.freeze({ ...wrapped, [part]: flipBit(wrapped[part], 3) });
      expectAuthFailure(() => ring.open(altered, ctx, 'text', sealed), 'canary-frozen-dek');
    }
  });

  it('refuses a sealed value with missing or unexpected fields', () => {
    const wrapped = ring.newDataKey();
    const sealed = ring.seal(wrapped, ctx, 'basic', { username: 'user-name', password: 'pass-word' });
    const invalid = expect.objectContaining({ code: 'SEALED_VALUE_INVALID' });
    // packed: nothing beside it; not for a text secret; its fields must be the type's
    expect(() => ring.open(wrapped, ctx, 'basic', { ...sealed, password: sealed.fields! })).toThrow(invalid);
    expect(() => ring.open(wrapped, ctx, 'text', sealed)).toThrow(invalid);
    expect(() => ring.open(wrapped, ctx, 'oauth2', sealed)).toThrow(invalid);
    // field by field: each required field present, none unknown
    const legacy = sealFieldByField(ring, wrapped, ctx, { username: 'user-name', password: 'pass-word' });
    expect(() => ring.open(wrapped, ctx, 'basic', { username: legacy.username! })).toThrow(invalid);
    expect(() => ring.open(wrapped, ctx, 'text', legacy)).toThrow(invalid);
  });

  it('refuses context ids containing "/" (the AAD separator)', () => {
    const wrapped = ring.newDataKey();
    expect(() => ring.seal(wrapped, { ...ctx, projectId: 'a/b' }, 'text', 'value-1234')).toThrow(
      expect.objectContaining({ code: 'SEAL_CONTEXT_INVALID' }),
    );
  });

  it('property: any value and any context round-trips, and any other context fails', () => {
    const id = fc.string({ minLength: 1, maxLength: 40 }).filter((s) => !s.includes('/'));
    const context = fc.record({ workspaceId: id, projectId: id, secretId: id, environment: id });
    const wrapped = ring.newDataKey();
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 300 }), context, context, (random, c1, c2) => {
        // a unique prefix, so the value cannot be a chance substring of the error message
        const value = `canary#${random}`;
        const sealed = ring.seal(wrapped, c1, 'text', value);
        expect(ring.open(wrapped, c1, 'text', sealed)).toBe(value);
        const same =
          c1.workspaceId === c2.workspaceId &&
          c1.projectId === c2.projectId &&
          c1.secretId === c2.secretId &&
          c1.environment === c2.environment;
        if (!same) expectAuthFailure(() => ring.open(wrapped, c2, 'text', sealed), value);
      }),
      { numRuns: 300 },
    );
  });

  it('each open binds to its own context, also across more contexts than the AAD cache holds', () => {
    const wrapped = ring.newDataKey();
    const contexts = Array.from({ length: 1500 }, (_, i) => ({ ...ctx, secretId: `sec${i}` }));
    const sealed = contexts.map((c, i) => Object.freeze(ring.seal(wrapped, c, 'text', `canary-aad-${i}`)));
    for (let round = 0; round < 2; round++) {
      contexts.forEach((c, i) => {
        expect(ring.open(wrapped, c, 'text', sealed[i]!)).toBe(`canary-aad-${i}`);
        // the neighbour's blob, opened under this context, is refused
        const other = sealed[(i + 1) % sealed.length]!;
        expectAuthFailure(
          () => ring.open(wrapped, c, 'text', other),
          `canary-aad-${(i + 1) % sealed.length}`,
        );
      });
    }
  });

  it('property: basic and oauth2 values round-trip field by field', () => {
    const s = fc.string({ unit: 'grapheme', minLength: 4, maxLength: 80 });
    const wrapped = ring.newDataKey();
    fc.assert(
      fc.property(
        fc.record({ username: s, password: s }),
        fc.record(
          { clientId: s, clientSecret: s, tokenUrl: fc.webUrl(), scope: s, audience: s },
          { requiredKeys: ['clientId', 'clientSecret', 'tokenUrl'] },
        ),
        (basic, oauth2) => {
          expect(ring.open(wrapped, ctx, 'basic', ring.seal(wrapped, ctx, 'basic', basic))).toEqual(basic);
          expect(ring.open(wrapped, ctx, 'oauth2', ring.seal(wrapped, ctx, 'oauth2', oauth2))).toEqual(
            oauth2,
          );
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe('invariant 2: envelope keys and rotation', () => {
  it('rotation re-wraps data keys under the new master key and keeps every value', () => {
    const oldRing = new KeyRing(MasterKey.generate());
    const secrets = samples.map(([type, value], i) => {
      const wrapped = oldRing.newDataKey();
      const c = { ...ctx, secretId: `sec${i}` };
      return { type, value, c, wrapped, sealed: oldRing.seal(wrapped, c, type, value) };
    });

    const newKey = MasterKey.generate();
    const newRing = new KeyRing(newKey);
    for (const s of secrets) {
      const rewrapped = oldRing.rewrap(s.wrapped, newRing);
      expect(rewrapped.kekId).toBe(newKey.id);
      expect(rewrapped.kekId).not.toBe(s.wrapped.kekId);
      // the new ring alone (without the old key) opens the unchanged sealed values
      expect(newRing.open(rewrapped, s.c, s.type, s.sealed)).toEqual(s.value);
      // and cannot unwrap the old wrapping
      expect(() => newRing.open(s.wrapped, s.c, s.type, s.sealed)).toThrow(
        expect.objectContaining({ code: 'KEY_NOT_IN_RING' }),
      );
    }
  });

  it('a ring built with previous keys still unwraps data keys from before the rotation', () => {
    const oldKey = MasterKey.generate();
    const before = new KeyRing(oldKey);
    const wrapped = before.newDataKey();
    const sealed = before.seal(wrapped, ctx, 'text', 'kept-after-rotation');

    const after = before.rotated(MasterKey.generate());
    expect(after.currentKeyId).not.toBe(oldKey.id);
    expect(after.open(wrapped, ctx, 'text', sealed)).toBe('kept-after-rotation');
    const withPrevious = new KeyRing(MasterKey.generate(), [MasterKey.fromBase64(oldKey.toBase64())]);
    expect(withPrevious.open(wrapped, ctx, 'text', sealed)).toBe('kept-after-rotation');
    expect(withPrevious.newDataKey().kekId).not.toBe(oldKey.id);
  });

  it('the key check value accepts the same key and refuses another one with what to do', () => {
    const key = MasterKey.generate();
    const kcv = new KeyRing(key).checkValue();
    expect(kcv).not.toContain(key.toBase64());
    expect(() => new KeyRing(MasterKey.fromBase64(key.toBase64())).verify(kcv)).not.toThrow();

    const wrong = MasterKey.generate();
    let caught: SecretsError | undefined;
    try {
      new KeyRing(wrong).verify(kcv);
    } catch (err) {
      caught = err as SecretsError;
    }
    expect(caught?.code).toBe('MASTER_KEY_MISMATCH');
    expect(caught?.message).toMatch(
      /^FLOWSAFE_MASTER_KEY does not match the key this data was sealed with; restore the original key/,
    );
    expect(caught?.message).not.toContain(wrong.toBase64());
    expect(caught?.message).not.toContain(key.toBase64());
    expect(() => new KeyRing(wrong).verify('garbage')).toThrow(
      expect.objectContaining({ code: 'MASTER_KEY_MISMATCH' }),
    );
  });

  it('key ids are short, stable and differ between keys', () => {
    const key = MasterKey.generate();
    expect(key.id).toMatch(/^[0-9a-f]{16}$/);
    expect(MasterKey.fromBase64(key.toBase64()).id).toBe(key.id);
    expect(MasterKey.generate().id).not.toBe(key.id);
  });
});
