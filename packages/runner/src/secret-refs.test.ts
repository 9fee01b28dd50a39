import { describe, expect, it } from 'vitest';
import { findSecretRefs, SECRET_PLACEHOLDER_PATTERN } from './secret-refs';

describe('findSecretRefs', () => {
  it('finds names and fields in strings, arrays and keys with their paths', () => {
    expect(
      findSecretRefs({
        url: 'https://x/<secret:A>?q=<secret:B.password>',
        list: ['plain', '<secret:C>'],
        '<secret:D>': 1,
      }),
    ).toEqual([
      { name: 'A', path: ['url'] },
      { name: 'B', field: 'password', path: ['url'] },
      { name: 'C', path: ['list', 1] },
      { name: 'D', path: ['<secret:D>'] },
    ]);
  });

  it('ignores text that only looks like a placeholder', () => {
    expect(findSecretRefs(['<secret:>', '<secret:1BAD>', 'secret:A', '<secret:A.>', 42, null])).toEqual([]);
  });

  it('exports a global pattern that api-block can reuse', () => {
    expect(SECRET_PLACEHOLDER_PATTERN.flags).toContain('g');
    expect([...'<secret:X.username>'.matchAll(SECRET_PLACEHOLDER_PATTERN)].map((m) => [m[1], m[2]])).toEqual([
      ['X', 'username'],
    ]);
  });
});
