// The function block's behaviour on real isolates: variables in and out, log lines, async code,
// result rules, limits from the config and the run, cancellation.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fakeBlockContext } from './fake-block-context';
import { createFunctionBlockPlugin, disposeSandbox, type FunctionBlockPlugin } from './function-block-plugin';
import type { SandboxError } from './sandbox-error';

let plugin: FunctionBlockPlugin;

beforeAll(() => {
  plugin = createFunctionBlockPlugin();
});
afterAll(() => {
  plugin.close();
});

function config(code: string, extra: Record<string, unknown> = {}) {
  return plugin.configSchema.parse({ code, ...extra });
}

async function rejection(promise: Promise<unknown>): Promise<SandboxError> {
  try {
    await promise;
  } catch (err) {
    return err as SandboxError;
  }
  throw new Error('expected a rejection');
}

describe('function block', () => {
  it('maps input variables to new ones (SPEC §6 example)', async () => {
    const ctx = fakeBlockContext({ ticket: { status: 201, body: { id: 'T-1' } } });
    const result = await plugin.execute(ctx, config('return { ticketId: input.ticket.body.id };'));
    expect(result).toEqual({ variables: { ticketId: 'T-1' } });
  });

  it('applies the config defaults and refuses limits above the maxima', () => {
    expect(plugin.configSchema.parse({ code: 'return {}' })).toEqual({
      code: 'return {}',
      timeoutMs: 1000,
      memoryMb: 32,
      maxOutputBytes: 1024 * 1024,
    });
    expect(plugin.configSchema.safeParse({ code: '', timeoutMs: 30_001 }).success).toBe(false);
    expect(plugin.configSchema.safeParse({ code: '', memoryMb: 7 }).success).toBe(false);
    expect(plugin.configSchema.safeParse({ code: '', memoryMb: 257 }).success).toBe(false);
    expect(plugin.configSchema.safeParse({ code: '', maxOutputBytes: 10 * 1024 * 1024 + 1 }).success).toBe(
      false,
    );
  });

  it('runs async code with await', async () => {
    const result = await plugin.execute(
      fakeBlockContext({ n: 2 }),
      config(`
        const wait = (v) => new Promise((resolve) => resolve(v));
        const a = await wait(input.n);
        const b = await Promise.all([wait(3), wait(4)]);
        return { sum: a + b[0] + b[1] };`),
    );
    expect(result.variables).toEqual({ sum: 9 });
  });

  it('sends log lines to ctx.log as text, in order', async () => {
    const ctx = fakeBlockContext({ who: 'ada' });
    await plugin.execute(
      ctx,
      config(`
        log('hello', input.who);
        log({ a: 1 }, [1, 2], 3, true, null, undefined);
        await null;
        log(new Error('shown'));
        return {};`),
    );
    expect(ctx.logs).toEqual(['hello ada', '{"a":1} [1,2] 3 true null undefined', 'Error: shown']);
  });

  it('keeps at most 100 log lines per call and says so once', async () => {
    const ctx = fakeBlockContext();
    await plugin.execute(ctx, config("for (let i = 0; i < 1000; i++) log('line ' + i); return {};"));
    expect(ctx.logs).toHaveLength(101);
    expect(ctx.logs[99]).toBe('line 99');
    expect(ctx.logs[100]).toContain('further lines dropped');
  });

  it('clips a huge log line', async () => {
    const ctx = fakeBlockContext();
    await plugin.execute(ctx, config("log('y'.repeat(100_000)); return {};"));
    expect(ctx.logs).toHaveLength(1);
    expect(ctx.logs[0]?.length).toBeLessThanOrEqual(4097);
  });

  it('stores the value under saveAs, whatever its JSON type', async () => {
    const ctx = fakeBlockContext({ list: [3, 1, 2] });
    const sorted = await plugin.execute(ctx, config('return [...input.list].sort();', { saveAs: 'sorted' }));
    expect(sorted.variables).toEqual({ sorted: [1, 2, 3] });
    const text = await plugin.execute(ctx, config("return 'x';", { saveAs: 'text' }));
    expect(text.variables).toEqual({ text: 'x' });
  });

  it('changes no variable when the function returns nothing', async () => {
    const result = await plugin.execute(fakeBlockContext(), config("log('side effect only');"));
    expect(result).toEqual({});
  });

  it('refuses a non-object result without saveAs', async () => {
    const err = await rejection(plugin.execute(fakeBlockContext(), config('return [1, 2];')));
    expect(err.code).toBe('FUNCTION_RESULT_NOT_OBJECT');
    expect(err.message).toContain('saveAs');
    expect(err.message).toContain('function block "shape"');
  });

  it('refuses a result that is not JSON, naming the block', async () => {
    for (const code of [
      'return { f() {} };',
      'return { big: 10n };',
      'return { s: Symbol("s") };',
      'const a = {}; a.self = a; return a;',
    ]) {
      const err = await rejection(plugin.execute(fakeBlockContext({}, { blockId: 'mapper' }), config(code)));
      expect(err.code, code).toBe('FUNCTION_RESULT_NOT_JSON');
      expect(err.message).toContain('function block "mapper"');
    }
  });

  it('reports a thrown error with its message', async () => {
    const err = await rejection(
      plugin.execute(fakeBlockContext(), config("throw new TypeError('bad input');")),
    );
    expect(err.code).toBe('FUNCTION_THREW');
    expect(err.blockId).toBe('shape');
    expect(err.message).toBe('function block "shape" threw: TypeError: bad input');
    const thrownValue = await rejection(
      plugin.execute(fakeBlockContext(), config("throw { reason: 'nope' };")),
    );
    expect(thrownValue.message).toContain('{"reason":"nope"}');
  });

  it('refuses code that does not compile before running it', async () => {
    const err = await rejection(plugin.execute(fakeBlockContext(), config('return {\n  a: ;\n};')));
    expect(err.code).toBe('FUNCTION_COMPILE_ERROR');
    expect(err.message).toContain('line 2');
  });

  it('honours the output limit from the config', async () => {
    const err = await rejection(
      plugin.execute(fakeBlockContext(), config("return { s: 'z'.repeat(2000) };", { maxOutputBytes: 1000 })),
    );
    expect(err.code).toBe('FUNCTION_OUTPUT_TOO_LARGE');
    // multi-byte characters count in bytes
    const utf8 = await rejection(
      plugin.execute(fakeBlockContext(), config("return { s: 'é'.repeat(600) };", { maxOutputBytes: 1000 })),
    );
    expect(utf8.code).toBe('FUNCTION_OUTPUT_TOO_LARGE');
    const fits = await plugin.execute(
      fakeBlockContext(),
      config("return { s: 'z'.repeat(900) };", { maxOutputBytes: 1000 }),
    );
    expect((fits.variables as { s: string }).s).toHaveLength(900);
  });

  it("shortens the time limit to the run's deadline", async () => {
    const ctx = fakeBlockContext({}, { deadline: Date.now() + 150 });
    const err = await rejection(plugin.execute(ctx, config('while (true) {}', { timeoutMs: 30_000 })));
    expect(err.code).toBe('FUNCTION_TIMEOUT');
    const late = fakeBlockContext({}, { deadline: Date.now() - 1 });
    expect((await rejection(plugin.execute(late, config('return {};')))).code).toBe('FUNCTION_TIMEOUT');
  });

  it('stops the function when the run is cancelled', async () => {
    const controller = new AbortController();
    const ctx = fakeBlockContext({}, { signal: controller.signal });
    const pending = plugin.execute(ctx, config('while (true) {}', { timeoutMs: 30_000 }));
    setTimeout(() => controller.abort(), 50);
    const err = await rejection(pending);
    expect(err.code).toBe('FUNCTION_CANCELLED');
    const result = await plugin.execute(fakeBlockContext(), config('return { after: true };'));
    expect(result.variables).toEqual({ after: true });
  });

  it('runs calls concurrently on separate isolates', async () => {
    const results = await Promise.all(
      [1, 2, 3, 4].map((n) =>
        plugin.execute(fakeBlockContext({ n }), config('await null; return { twice: input.n * 2 };')),
      ),
    );
    expect(results.map((r) => (r.variables as { twice: number }).twice)).toEqual([2, 4, 6, 8]);
  });

  it('validate() reports compile errors with the line and passes good code', async () => {
    expect(await plugin.validate?.(config('return { ok: true };'))).toEqual([]);
    const issues = await plugin.validate?.(config('const a = 1;\nconst b = ;\nreturn {};'));
    expect(issues).toHaveLength(1);
    expect(issues?.[0]?.path).toEqual(['code']);
    expect(issues?.[0]?.code).toBe('FUNCTION_COMPILE_ERROR');
    expect(issues?.[0]?.message).toMatch(/^line 2, column 11: SyntaxError/);
  });

  it('disposeSandbox() closes every plugin: later calls fail with SANDBOX_CLOSED', async () => {
    const other = createFunctionBlockPlugin();
    await other.execute(fakeBlockContext(), config('return {};'));
    disposeSandbox();
    expect(other.pool.stats()).toMatchObject({ idle: 0, leased: 0 });
    const err = await rejection(other.execute(fakeBlockContext(), config('return {};')));
    expect(err.code).toBe('SANDBOX_CLOSED');
    plugin = createFunctionBlockPlugin();
  });
});
