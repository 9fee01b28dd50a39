// SPEC §3 invariant 7: escape attempts from a function block, each on real isolates. After each
// one the host must still answer (its event loop ran while the guest misbehaved, where that
// applies) and a normal function block must still work.
import vm from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fakeBlockContext } from './fake-block-context';
import { createFunctionBlockPlugin, type FunctionBlockPlugin } from './function-block-plugin';
import { GUEST_ARGS_GLOBAL, GUEST_LOG_GLOBAL } from './guest/guest-script';
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

async function run(
  code: string,
  variables: Record<string, unknown> = {},
  extra: Record<string, unknown> = {},
) {
  return plugin.execute(fakeBlockContext(variables), config(code, extra));
}

async function failure(code: string, extra: Record<string, unknown> = {}): Promise<SandboxError> {
  try {
    await run(code, { a: 1 }, extra);
  } catch (err) {
    return err as SandboxError;
  }
  throw new Error('expected the function block to fail');
}

/** Fails unless the host's event loop ran a timer while `work` was pending (never blocked). */
async function whileHostAnswers<T>(work: Promise<T>): Promise<T> {
  let ticked = false;
  const timer = setTimeout(() => {
    ticked = true;
  }, 20);
  try {
    return await work;
  } finally {
    clearTimeout(timer);
    expect(ticked, 'the host event loop ran while the guest was busy').toBe(true);
  }
}

async function expectHealthy(): Promise<void> {
  const answered = await new Promise<string>((resolve) => setImmediate(() => resolve('yes')));
  expect(answered).toBe('yes');
  const result = await run('log("ok"); return { doubled: input.n * 2 };', { n: 21 });
  expect(result.variables).toEqual({ doubled: 42 });
}

describe('invariant 7: nothing of the host reaches the guest', () => {
  it('invariant 7: process is not there', async () => {
    const result = await run(
      'return { t: typeof process, g: typeof globalThis.process, b: typeof Buffer, gl: typeof global };',
    );
    expect(result.variables).toEqual({ t: 'undefined', g: 'undefined', b: 'undefined', gl: 'undefined' });
    const err = await failure('return { pid: process.pid };');
    expect(err.code).toBe('FUNCTION_THREW');
    expect(err.message).toContain('process is not defined');
    await expectHealthy();
  });

  it('invariant 7: require, module and import() are not there', async () => {
    const result = await run(
      'return { r: typeof require, m: typeof module, e: typeof exports, d: typeof __dirname };',
    );
    expect(result.variables).toEqual({ r: 'undefined', m: 'undefined', e: 'undefined', d: 'undefined' });
    const req = await failure("return { fs: require('fs') };");
    expect(req.code).toBe('FUNCTION_THREW');
    expect(req.message).toContain('require is not defined');
    const imp = await failure("const fs = await import('node:fs'); return { ok: typeof fs.readFileSync };");
    expect(imp.code).toBe('FUNCTION_THREW');
    await expectHealthy();
  });

  it('invariant 7: no network, file system or timers that outlive the call', async () => {
    const names = [
      'fetch',
      'XMLHttpRequest',
      'WebSocket',
      'setTimeout',
      'setInterval',
      'setImmediate',
      'queueMicrotask',
      'Deno',
      'Bun',
    ];
    const result = await run(
      `return Object.fromEntries(${JSON.stringify(names)}.map((n) => [n, typeof globalThis[n]]));`,
    );
    expect(result.variables).toEqual(Object.fromEntries(names.map((n) => [n, 'undefined'])));
    await expectHealthy();
  });

  it('invariant 7: globalThis holds only JavaScript built-ins (input and log are parameters)', async () => {
    const result = await run(
      'return { names: Object.getOwnPropertyNames(globalThis), symbols: Object.getOwnPropertySymbols(globalThis).map(String), input: typeof input, log: typeof log };',
    );
    const v = result.variables as { names: string[]; symbols: string[]; input: string; log: string };
    const builtins = new Set(vm.runInNewContext('Object.getOwnPropertyNames(globalThis)') as string[]);
    expect(v.names.filter((name) => !builtins.has(name))).toEqual([]);
    expect(v.names).not.toContain(GUEST_ARGS_GLOBAL);
    expect(v.names).not.toContain(GUEST_LOG_GLOBAL);
    expect(v.names).toContain('JSON');
    expect(v.symbols.filter((s) => s !== 'Symbol(Symbol.toStringTag)')).toEqual([]);
    expect(v.input).toBe('object');
    expect(v.log).toBe('function');
    await expectHealthy();
  });

  it("invariant 7: this.constructor.constructor('return process')() finds no process", async () => {
    const err = await failure("return { p: this.constructor.constructor('return process')() };");
    expect(err.code).toBe('FUNCTION_THREW');
    expect(err.message).toContain('process is not defined');
    const viaLog = await failure("return { p: log.constructor('return process')() };");
    expect(viaLog.code).toBe('FUNCTION_THREW');
    expect(viaLog.message).toContain('process is not defined');
    const viaInput = await failure(
      "return { p: input.constructor.constructor('return this.process.env')() };",
    );
    expect(viaInput.code).toBe('FUNCTION_THREW');
    await expectHealthy();
  });

  it('invariant 7: log is a plain guest function that hands out nothing of the host', async () => {
    const result = await run(`
      let caller = 'blocked';
      try { caller = typeof log.caller; } catch (e) { caller = 'blocked'; }
      return {
        keys: Reflect.ownKeys(log).map(String),
        frozen: Object.isFrozen(log),
        sameRealm: Object.getPrototypeOf(log) === Function.prototype,
        returned: typeof log('x'),
        caller,
      };`);
    expect(result.variables).toEqual({
      keys: ['length', 'name', 'prototype'],
      frozen: true,
      sameRealm: true,
      returned: 'undefined',
      caller: 'blocked',
    });
    await expectHealthy();
  });

  it('invariant 7: Error.prepareStackTrace tricks reach no host object', async () => {
    const hostPrepare = Error.prepareStackTrace;
    const result = await run(`
      const seen = [];
      Error.prepareStackTrace = (err, frames) => {
        for (const f of frames) {
          const fn = f.getFunction();
          const self = f.getThis();
          seen.push({
            file: String(f.getFileName()),
            fn: fn === undefined ? 'hidden' : typeof fn,
            self: self === undefined || self === globalThis ? 'guest' : typeof self,
            escape: fn === undefined ? 'none' : String(fn.constructor('return typeof process')()),
          });
        }
        return 'custom';
      };
      function probe() { return new Error('probe').stack; }
      const stack = probe();
      let viaLog = 'none';
      try { log({ toString() { throw new Error('inner'); } }, Symbol('s'), 10n); } catch (e) { viaLog = String(e.stack); }
      await null;
      const afterAwait = new Error('later').stack;
      return { stack, seen, viaLog, afterAwait, process: typeof process };`);
    const v = result.variables as { stack: string; seen: Array<Record<string, string>>; process: string };
    expect(v.stack).toBe('custom');
    expect(v.process).toBe('undefined');
    expect(v.seen.length).toBeGreaterThan(0);
    for (const frame of v.seen) {
      expect(frame.file).toMatch(/^(function\.js|undefined|null)$/);
      expect(frame.escape).not.toBe('object');
    }
    expect(JSON.stringify(result.variables)).not.toMatch(/\/work\/|node:internal|isolated-vm|node_modules/);
    expect(Error.prepareStackTrace).toBe(hostPrepare);
    // a thrown error whose stack formatting is hijacked still ends as a plain message
    const err = await failure(
      "Error.prepareStackTrace = () => ({ toString() { return 'evil' } }); throw new Error('boom');",
    );
    expect(err.code).toBe('FUNCTION_THREW');
    expect(err.message).toContain('Error: boom');
    await expectHealthy();
  });

  it('invariant 7: prototype pollution inside the guest does not reach the host', async () => {
    const variables = { user: { name: 'ada' }, list: [1, 2] };
    const result = await run(
      `Object.prototype.polluted = 'yes';
       Array.prototype.polluted = 'yes';
       Object.getPrototypeOf(input).viaInput = 'yes';
       input.user.name = 'changed';
       input.list.push(3);
       return JSON.parse('{"__proto__": {"viaResult": "yes"}, "ok": true}');`,
      variables,
    );
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    expect(([] as unknown as Record<string, unknown>)['polluted']).toBeUndefined();
    expect(({} as Record<string, unknown>)['viaInput']).toBeUndefined();
    expect(({} as Record<string, unknown>)['viaResult']).toBeUndefined();
    expect(result.variables).toEqual({ ok: true });
    expect(Object.getPrototypeOf(result.variables)).toBe(Object.prototype);
    expect(variables).toEqual({ user: { name: 'ada' }, list: [1, 2] });
    // and the next call starts from clean built-ins
    const next = await run('return { polluted: ({}).polluted === undefined && [].polluted === undefined };');
    expect(next.variables).toEqual({ polluted: true });
    await expectHealthy();
  });

  it("invariant 7: a run cannot read another run's globals", async () => {
    const before = plugin.pool.stats().created;
    await run(`
      globalThis.leftBehind = 'run A';
      var declared = 'run A';
      Object.prototype.fromA = 'run A';
      JSON.parse = () => 'hijacked by run A';
      return {};`);
    const other = plugin.execute(
      fakeBlockContext({}, { blockId: 'other-project' }),
      config(`return {
        leftBehind: typeof globalThis.leftBehind,
        declared: typeof declared,
        fromA: ({}).fromA === undefined,
        parse: JSON.parse('{"x":1}').x,
      };`),
    );
    expect((await other).variables).toEqual({
      leftBehind: 'undefined',
      declared: 'undefined',
      fromA: true,
      parse: 1,
    });
    // both calls ran on the same pooled isolate: the fresh context is what isolates them
    expect(plugin.pool.stats().created).toBe(before);
    await expectHealthy();
  });
});

describe('invariant 7: limits end the step, the host keeps going', () => {
  it('invariant 7: a sync infinite loop ends with FUNCTION_TIMEOUT', async () => {
    const err = await whileHostAnswers(failure('while (true) {}', { timeoutMs: 200 }));
    expect(err.code).toBe('FUNCTION_TIMEOUT');
    expect(err.message).toContain('function block "shape"');
    await expectHealthy();
  });

  it('invariant 7: an async infinite loop (while(true) await 0) ends with FUNCTION_TIMEOUT', async () => {
    const err = await whileHostAnswers(failure('while (true) await 0;', { timeoutMs: 200 }));
    expect(err.code).toBe('FUNCTION_TIMEOUT');
    await expectHealthy();
  });

  it('invariant 7: a promise that never settles ends with FUNCTION_TIMEOUT', async () => {
    const err = await whileHostAnswers(
      failure('await new Promise(() => {}); return {};', { timeoutMs: 100 }),
    );
    expect(err.code).toBe('FUNCTION_TIMEOUT');
    await expectHealthy();
  });

  it('invariant 7: Atomics.wait cannot park the isolate past its time limit', async () => {
    const err = await whileHostAnswers(
      failure('Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0); return {};', { timeoutMs: 100 }),
    );
    expect(err.code).toBe('FUNCTION_TIMEOUT');
    await expectHealthy();
  });

  it('invariant 7: a memory bomb ends with FUNCTION_MEMORY_LIMIT and its isolate is not reused', async () => {
    const err = await whileHostAnswers(
      failure('const keep = []; while (true) keep.push(new Array(100000).fill(Math.random()));', {
        memoryMb: 16,
        timeoutMs: 10_000,
      }),
    );
    expect(err.code).toBe('FUNCTION_MEMORY_LIMIT');
    expect(err.message).toContain('16 MB');
    const created = plugin.pool.stats().created;
    const next = await run('return { ok: true };', {}, { memoryMb: 16 });
    expect(next.variables).toEqual({ ok: true });
    expect(plugin.pool.stats().created).toBe(created + 1);
    await expectHealthy();
  });

  it('invariant 7: a 100 MB string return ends with FUNCTION_OUTPUT_TOO_LARGE', async () => {
    const err = await failure("return { big: 'x'.repeat(100 * 1024 * 1024) };");
    expect(err.code).toBe('FUNCTION_OUTPUT_TOO_LARGE');
    expect(err.message).toContain('function block "shape"');
    const saved = await failure("return 'x'.repeat(100 * 1024 * 1024);", { saveAs: 'big' });
    expect(saved.code).toBe('FUNCTION_OUTPUT_TOO_LARGE');
    const many = await failure('return { many: new Array(2_000_000).fill(12345) };');
    expect(many.code).toBe('FUNCTION_OUTPUT_TOO_LARGE');
    await expectHealthy();
  });

  it('invariant 7: deep recursion ends with FUNCTION_THREW (stack overflow)', async () => {
    // a time limit far above what the overflow takes (about 0.1 s, over 1 s on a loaded CI
    // machine): the stack must be what ends these, not the clock
    const limit = { timeoutMs: 20_000 };
    const err = await failure(
      'function dive(n) { return dive(n + 1) + 1; } return { depth: dive(0) };',
      limit,
    );
    expect(err.code).toBe('FUNCTION_THREW');
    expect(err.message).toContain('Maximum call stack size exceeded');
    const asyncDive = await failure(
      'async function dive(n) { return (await dive(n + 1)) + 1; } return { d: await dive(0) };',
      limit,
    );
    expect(asyncDive.code).toBe('FUNCTION_THREW');
    await expectHealthy();
  });
});
