import { describe, expect, it } from 'vitest';
import { ApiError } from './api';

describe('ApiError', () => {
  it('normalises validation issues from details.issues or a bare list', () => {
    const a = new ApiError(422, 'FLOW_INVALID', 'x', {
      issues: [{ path: ['blocks', 0, 'config', 'url'], message: 'bad', blockId: 'a' }],
    });
    expect(a.issues()).toEqual([
      { path: ['blocks', 0, 'config', 'url'], message: 'bad', code: undefined, blockId: 'a' },
    ]);
    const b = new ApiError(400, 'VALIDATION_FAILED', 'x', [
      { path: ['name'], message: 'required' },
      { nope: 1 },
    ]);
    expect(b.issues().map((i) => i.path)).toEqual([['name']]);
    expect(new ApiError(422, 'PUSH_PROTECTION', 'x', { secret: 'T' }).issues()).toEqual([]);
  });
});
