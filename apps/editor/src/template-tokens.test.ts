import { describe, expect, it } from 'vitest';
import { refFields, secretNamesIn, secretRef, tokenize } from './template-tokens';

describe('template tokens', () => {
  it('splits text, secret references and variables', () => {
    expect(tokenize('Bearer <secret:TOKEN> for {{ user.name }}!')).toEqual([
      { kind: 'text', text: 'Bearer ' },
      { kind: 'secret', text: '<secret:TOKEN>', name: 'TOKEN' },
      { kind: 'text', text: ' for ' },
      { kind: 'var', text: '{{ user.name }}', name: 'user.name' },
      { kind: 'text', text: '!' },
    ]);
  });

  it('reads fields and leaves malformed references as text', () => {
    expect(tokenize('<secret:LOGIN.password>')).toEqual([
      { kind: 'secret', text: '<secret:LOGIN.password>', name: 'LOGIN', field: 'password' },
    ]);
    expect(tokenize('<secret:9BAD> <secret:>')).toEqual([{ kind: 'text', text: '<secret:9BAD> <secret:>' }]);
  });

  it('finds secret names in keys and leaves of JSON values', () => {
    expect(
      [...secretNamesIn({ a: ['<secret:A>'], '<secret:B.username>': { c: 'x <secret:C> y' } })].sort(),
    ).toEqual(['A', 'B', 'C']);
  });

  it('builds references and lists fields per type', () => {
    expect(secretRef('X')).toBe('<secret:X>');
    expect(secretRef('X', 'username')).toBe('<secret:X.username>');
    expect(refFields('basic').map((f) => f.field)).toEqual(['username', 'password']);
    expect(refFields('oauth2').map((f) => f.field)).toEqual([undefined, 'clientId']);
  });
});
