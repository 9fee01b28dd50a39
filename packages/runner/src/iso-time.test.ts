import { describe, expect, it } from 'vitest';
import { isoAt, isoNow } from './iso-time';

describe('isoAt / isoNow', () => {
  it('give what Date#toISOString gives, for the same and for changing milliseconds', () => {
    for (const ms of [0, 1, 1, 1_795_825_384_389, 1_795_825_384_389, 1_795_825_384_390, -1, 8.64e15]) {
      expect(isoAt(ms)).toBe(new Date(ms).toISOString());
    }
    const before = Date.now();
    const now = isoNow();
    const after = Date.now();
    expect(Date.parse(now)).toBeGreaterThanOrEqual(before);
    expect(Date.parse(now)).toBeLessThanOrEqual(after);
  });
});
