// Save-time validation of function code: compile errors point at the user's line, code that
// would close the wrapper early is refused, and nothing is ever executed.
import { describe, expect, it } from 'vitest';
import { checkFunctionBody, validateFunctionCode } from './validate-function-code';

describe('validateFunctionCode', () => {
  it('accepts a valid async function body using input, log and await', () => {
    expect(validateFunctionCode('log(input.a);\nconst x = await Promise.resolve(1);\nreturn { x };')).toEqual(
      [],
    );
  });

  it('points at the line and column of a syntax error', () => {
    const [issue] = validateFunctionCode('const a = 1;\n\nreturn { a: a +* 2 };');
    expect(issue).toMatchObject({ path: ['code'], code: 'FUNCTION_COMPILE_ERROR' });
    expect(issue?.message).toMatch(/^line 3, column 16: SyntaxError: Unexpected token '\*'/);
  });

  it('reports an unclosed brace at the end of the code', () => {
    const [issue] = validateFunctionCode('if (input.a) {\n  return {};');
    expect(issue?.message).toMatch(/^line 2, column \d+: SyntaxError/);
  });

  it('refuses code that closes the function body early', () => {
    const [issue] = validateFunctionCode('}); globalThis.x = 1; (async function () {');
    expect(issue?.code).toBe('FUNCTION_COMPILE_ERROR');
    expect(issue?.message).toContain('must be a function body');
    expect(checkFunctionBody('return 1; }')).not.toBeNull();
  });

  it('never executes the code it checks', () => {
    const marker = '__flowsafeValidateRan';
    const code = `globalThis.${marker} = true; return {};`;
    expect(validateFunctionCode(code)).toEqual([]);
    expect(validateFunctionCode(`${code}\n}); globalThis.${marker} = true; (function () {`)).toHaveLength(1);
    expect((globalThis as Record<string, unknown>)[marker]).toBeUndefined();
  });

  it('refuses code longer than the limit', () => {
    expect(validateFunctionCode(`return {};${' '.repeat(100_001)}`)[0]?.message).toContain('longer than');
  });
});
