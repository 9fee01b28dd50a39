import { Redactor } from '@flowsafe/redact';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createRunner } from './create-runner';
import { builtinPlugins } from './plugins/builtin-plugins';
import type { BlockPlugin, FlowDefinition, RunInfo, RunOptions, RunRecord, RunSink } from './types';

const CANARY = 'canary-Tk9v2Lq8Zp4Xw7';
const run: RunInfo = {
  runId: 'run_1',
  flowId: 'flow_1',
  projectId: 'proj_1',
  workspaceId: 'ws_1',
  environment: 'production',
  actor: 'user_1',
};

function memorySink(): RunSink & { saved: RunRecord[] } {
  const saved: RunRecord[] = [];
  return {
    saved,
    async save(record) {
      saved.push(structuredClone(record));
    },
  };
}

function redactor(): Redactor {
  const r = new Redactor();
  r.add('API_TOKEN', CANARY);
  return r;
}

/** counts `variables.i` up by one */
const incrementPlugin: BlockPlugin<{ var: string }> = {
  type: 'increment',
  configSchema: z.object({ var: z.string() }),
  async execute(ctx, config) {
    return { variables: { [config.var]: Number(ctx.variables[config.var] ?? 0) + 1 } };
  },
};

/** waits until the signal aborts (or forever if told to ignore it) */
function waitingPlugin(started: () => void, ignoreSignal = false): BlockPlugin<Record<string, never>> {
  return {
    type: 'wait',
    configSchema: z.object({}),
    execute(ctx) {
      started();
      return new Promise((_resolve, reject) => {
        if (!ignoreSignal) ctx.signal.addEventListener('abort', () => reject(new Error('aborted by signal')));
      });
    },
  };
}

function throwingPlugin(err: unknown): BlockPlugin<Record<string, never>> {
  return {
    type: 'boom',
    configSchema: z.object({}),
    async execute() {
      throw err;
    },
  };
}

function baseOptions(definition: FlowDefinition, extra: Partial<RunOptions> = {}): RunOptions {
  return { definition, run, redactor: redactor(), ...extra };
}

describe('executor', () => {
  it('runs set → condition → end with templates, settings and per-step records', async () => {
    const sink = memorySink();
    const runner = createRunner({ plugins: builtinPlugins(), sink });
    const record = await runner.run(
      baseOptions(
        {
          start: 'greet',
          variables: { name: 'world', n: 5 },
          blocks: [
            {
              id: 'greet',
              type: 'set',
              next: 'check',
              config: { values: { msg: 'hello {{name}} from {{settings.REGION}}', copy: '{{n}}' } },
            },
            {
              id: 'check',
              type: 'condition',
              config: { if: { var: 'copy', op: 'gt', value: 3 }, then: 'big', else: 'small' },
            },
            { id: 'big', type: 'end', config: { output: { size: 'big', msg: '{{msg}}' } } },
            { id: 'small', type: 'end', config: { output: { size: 'small' } } },
          ],
        },
        { input: { name: 'Ada' }, settings: { REGION: 'eu' }, queuedAt: '2026-01-01T00:00:00.000Z' },
      ),
    );
    expect(record).toMatchObject({
      id: 'run_1',
      flowId: 'flow_1',
      projectId: 'proj_1',
      environment: 'production',
      actor: 'user_1',
      status: 'succeeded',
      queuedAt: '2026-01-01T00:00:00.000Z',
      output: { size: 'big', msg: 'hello Ada from eu' },
    });
    expect(record.error).toBeUndefined();
    expect(record.steps.map((s) => [s.blockId, s.type, s.status])).toEqual([
      ['greet', 'set', 'succeeded'],
      ['check', 'condition', 'succeeded'],
      ['big', 'end', 'succeeded'],
    ]);
    expect(record.steps[1]!.logs).toEqual(['copy gt: then']);
    for (const step of record.steps) {
      expect(Number.isNaN(Date.parse(step.startedAt))).toBe(false);
      expect(step.durationMs).toBeGreaterThanOrEqual(0);
    }
    expect(record.durationMs).toBeGreaterThanOrEqual(0);
    expect(sink.saved.map((r) => r.status)).toEqual(['running', 'succeeded']);
    expect(sink.saved[0]!.steps).toEqual([]);
    expect(sink.saved[1]).toEqual(record);
  });

  it('outputs the final variables when the flow ends without an end block', async () => {
    const runner = createRunner({ plugins: builtinPlugins() });
    const record = await runner.run(
      baseOptions({
        start: 'a',
        variables: { x: 1 },
        blocks: [{ id: 'a', type: 'set', config: { values: { y: '{{x}}' } } }],
      }),
    );
    expect(record.status).toBe('succeeded');
    expect(record.output).toEqual({ x: 1, y: 1 });
  });

  it('ends the run where a condition branch is left empty', async () => {
    const runner = createRunner({ plugins: builtinPlugins() });
    const record = await runner.run(
      baseOptions({
        start: 'c',
        variables: { x: 1 },
        blocks: [
          {
            id: 'c',
            type: 'condition',
            next: 'never',
            config: { if: { var: 'x', op: 'eq', value: '2' }, then: 'never' },
          },
          { id: 'never', type: 'set', config: { values: { reached: true } } },
        ],
      }),
    );
    expect(record.status).toBe('succeeded');
    expect(record.steps).toHaveLength(1);
    expect(record.output).toEqual({ x: 1 });
  });

  it('runs a loop until its condition exit, with a plugin registered at run time', async () => {
    const runner = createRunner({ plugins: builtinPlugins() });
    runner.register(incrementPlugin);
    const definition: FlowDefinition = {
      start: 'inc',
      variables: { i: 0, max: 3 },
      blocks: [
        { id: 'inc', type: 'increment', next: 'check', config: { var: 'i' } },
        {
          id: 'check',
          type: 'condition',
          config: { if: { var: 'i', op: 'lt', value: '{{max}}' }, then: 'inc', else: 'done' },
        },
        { id: 'done', type: 'end', config: { output: { count: '{{i}}' } } },
      ],
    };
    expect((await runner.validate(definition, { secretNames: [] })).ok).toBe(true);
    const record = await runner.run(baseOptions(definition));
    expect(record.status).toBe('succeeded');
    expect(record.output).toEqual({ count: 3 });
    expect(record.steps).toHaveLength(7);
  });

  it('knows no block type by name: types come only from registered plugins', async () => {
    const runner = createRunner({ plugins: [] });
    const definition: FlowDefinition = {
      start: 'a',
      blocks: [{ id: 'a', type: 'set', config: { values: { x: '1' } } }],
    };
    const before = await runner.run(baseOptions(definition));
    expect(before.status).toBe('failed');
    expect(before.error).toEqual({ code: 'UNKNOWN_BLOCK_TYPE', message: 'unknown block type "set"' });
    expect((await runner.validate(definition, { secretNames: [] })).ok).toBe(false);

    const calls: unknown[] = [];
    runner.register({
      type: 'set',
      configSchema: z.object({ values: z.record(z.string(), z.string()) }),
      async execute(_ctx, config) {
        calls.push(config);
        return { variables: { replaced: true } };
      },
    });
    const after = await runner.run(baseOptions(definition));
    expect(after.status).toBe('succeeded');
    expect(after.output).toEqual({ replaced: true });
    expect(calls).toEqual([{ values: { x: '1' } }]);
    expect(() => runner.register(incrementPlugin)).not.toThrow();
    expect(() => runner.register(incrementPlugin)).toThrow(
      expect.objectContaining({ code: 'DUPLICATE_PLUGIN' }),
    );
  });

  it('stops a loop without exit at the step limit', async () => {
    const sink = memorySink();
    const runner = createRunner({
      plugins: [...builtinPlugins(), incrementPlugin],
      sink,
      limits: { maxSteps: 10 },
    });
    const record = await runner.run(
      baseOptions({
        start: 'inc',
        variables: { i: 0 },
        blocks: [{ id: 'inc', type: 'increment', next: 'inc', config: { var: 'i' } }],
      }),
    );
    expect(record.status).toBe('failed');
    expect(record.error?.code).toBe('STEP_LIMIT');
    expect(record.error?.message).toContain('10 steps');
    expect(record.steps).toHaveLength(10);
    expect(record.steps.every((s) => s.status === 'succeeded')).toBe(true);
    expect(sink.saved.at(-1)?.status).toBe('failed');
  });

  it('fails a run that exceeds its time limit, mid-block', async () => {
    let started = false;
    const runner = createRunner({
      plugins: [waitingPlugin(() => (started = true))],
      limits: { runTimeoutMs: 50 },
    });
    const record = await runner.run(
      baseOptions({ start: 'w', blocks: [{ id: 'w', type: 'wait', config: {} }] }),
    );
    expect(started).toBe(true);
    expect(record.status).toBe('failed');
    expect(record.error?.code).toBe('RUN_TIMEOUT');
    expect(record.steps[0]).toMatchObject({ status: 'failed', error: { code: 'RUN_TIMEOUT' } });
  });

  it('ends at the time limit even when the plugin ignores its signal', async () => {
    const runner = createRunner({
      plugins: [waitingPlugin(() => undefined, true)],
      limits: { runTimeoutMs: 50 },
    });
    const record = await runner.run(
      baseOptions({ start: 'w', blocks: [{ id: 'w', type: 'wait', config: {} }] }),
    );
    expect(record.status).toBe('failed');
    expect(record.error?.code).toBe('RUN_TIMEOUT');
  });

  it('passes the block a deadline and a signal', async () => {
    const seen: Array<{ deadline: number; aborted: boolean }> = [];
    const runner = createRunner({
      plugins: [
        {
          type: 'peek',
          configSchema: z.object({}),
          async execute(ctx) {
            seen.push({ deadline: ctx.deadline, aborted: ctx.signal.aborted });
            return {};
          },
        },
      ],
      limits: { runTimeoutMs: 60_000 },
    });
    const before = Date.now();
    await runner.run(baseOptions({ start: 'p', blocks: [{ id: 'p', type: 'peek', config: {} }] }));
    expect(seen[0]!.aborted).toBe(false);
    expect(seen[0]!.deadline).toBeGreaterThanOrEqual(before + 60_000);
    expect(seen[0]!.deadline).toBeLessThanOrEqual(Date.now() + 60_000);
  });

  it('cancels a run mid-block through the caller signal', async () => {
    const sink = memorySink();
    const controller = new AbortController();
    const runner = createRunner({
      plugins: [...builtinPlugins(), waitingPlugin(() => setTimeout(() => controller.abort(), 20), true)],
      sink,
    });
    const record = await runner.run(
      baseOptions(
        {
          start: 'a',
          blocks: [
            { id: 'a', type: 'set', next: 'w', config: { values: { x: '1' } } },
            { id: 'w', type: 'wait', next: 'b', config: {} },
            { id: 'b', type: 'set', config: { values: { y: '1' } } },
          ],
        },
        { signal: controller.signal },
      ),
    );
    expect(record.status).toBe('cancelled');
    expect(record.error).toEqual({ code: 'CANCELLED', message: 'run cancelled' });
    expect(record.steps.map((s) => s.status)).toEqual(['succeeded', 'cancelled']);
    expect(sink.saved.at(-1)?.status).toBe('cancelled');
  });

  it('records a cancelled step when the plugin itself rejects on abort', async () => {
    const controller = new AbortController();
    const runner = createRunner({ plugins: [waitingPlugin(() => setTimeout(() => controller.abort(), 20))] });
    const record = await runner.run(
      baseOptions(
        { start: 'w', blocks: [{ id: 'w', type: 'wait', config: {} }] },
        { signal: controller.signal },
      ),
    );
    expect(record.status).toBe('cancelled');
    expect(record.steps[0]).toMatchObject({
      status: 'cancelled',
      error: { code: 'CANCELLED', message: 'run cancelled' },
    });
  });

  it('does not start a run whose signal is already aborted', async () => {
    const runner = createRunner({ plugins: builtinPlugins() });
    const record = await runner.run(
      baseOptions(
        { start: 'a', blocks: [{ id: 'a', type: 'set', config: { values: {} } }] },
        { signal: AbortSignal.abort(new Error('worker stopping')) },
      ),
    );
    expect(record.status).toBe('cancelled');
    expect(record.error).toEqual({ code: 'CANCELLED', message: 'worker stopping' });
    expect(record.steps).toEqual([]);
  });

  it('fails the run with the code of a plugin error, or BLOCK_FAILED', async () => {
    const coded = Object.assign(new Error('upstream said no'), { code: 'HTTP_STATUS' });
    for (const [err, expected] of [
      [coded, { code: 'HTTP_STATUS', message: 'upstream said no' }],
      [new TypeError('x is not a function'), { code: 'BLOCK_FAILED', message: 'x is not a function' }],
      ['a bare string', { code: 'BLOCK_FAILED', message: 'a bare string' }],
    ] as const) {
      const runner = createRunner({ plugins: [...builtinPlugins(), throwingPlugin(err)] });
      const record = await runner.run(
        baseOptions({
          start: 'boom',
          blocks: [
            { id: 'boom', type: 'boom', next: 'after', config: {} },
            { id: 'after', type: 'set', config: { values: {} } },
          ],
        }),
      );
      expect(record.status).toBe('failed');
      expect(record.error).toEqual(expected);
      expect(record.steps).toHaveLength(1);
      expect(record.steps[0]).toMatchObject({ blockId: 'boom', status: 'failed', error: expected });
    }
  });

  it('fails with FLOW_INVALID on a broken definition or block config instead of throwing', async () => {
    const runner = createRunner({ plugins: builtinPlugins() });
    const broken = await runner.run(baseOptions({ start: 'a', blocks: [] } as FlowDefinition));
    expect(broken).toMatchObject({ status: 'failed', error: { code: 'FLOW_INVALID' } });
    const badConfig = await runner.run(
      baseOptions({ start: 'a', blocks: [{ id: 'a', type: 'set', config: { nope: 1 } }] }),
    );
    expect(badConfig).toMatchObject({ status: 'failed', error: { code: 'FLOW_INVALID' } });
    expect(badConfig.error?.message).toContain('block "a"');
    const missing = await runner.run(
      baseOptions({ start: 'a', blocks: [{ id: 'a', type: 'set', next: 'gone', config: { values: {} } }] }),
    );
    expect(missing).toMatchObject({
      status: 'failed',
      error: { code: 'FLOW_INVALID', message: 'block "gone" does not exist' },
    });
  });

  it('calls onStep after each step', async () => {
    const seen: string[] = [];
    const runner = createRunner({ plugins: builtinPlugins() });
    await runner.run(
      baseOptions(
        {
          start: 'a',
          blocks: [
            { id: 'a', type: 'set', next: 'b', config: { values: {} } },
            { id: 'b', type: 'end', config: {} },
          ],
        },
        { onStep: (step) => seen.push(`${step.blockId}:${step.status}`) },
      ),
    );
    expect(seen).toEqual(['a:succeeded', 'b:succeeded']);
  });

  it('bounds the logs of a step', async () => {
    const runner = createRunner({
      plugins: [
        {
          type: 'chatty',
          configSchema: z.object({}),
          async execute(ctx) {
            for (let i = 0; i < 500; i++) ctx.log('line', i);
            ctx.log('x'.repeat(20_000));
            return {};
          },
        },
      ],
    });
    const record = await runner.run(
      baseOptions({ start: 'c', blocks: [{ id: 'c', type: 'chatty', config: {} }] }),
    );
    const logs = record.steps[0]!.logs;
    expect(logs).toHaveLength(201);
    expect(logs[0]).toBe('line 0');
    expect(logs[200]).toContain('dropped');
  });

  it('keeps running and logs when the sink fails', async () => {
    const errors: unknown[] = [];
    const runner = createRunner({
      plugins: builtinPlugins(),
      sink: {
        async save() {
          throw new Error(`disk full near ${CANARY}`);
        },
      },
      logger: { warn: () => undefined, error: (obj) => errors.push(obj) },
    });
    const record = await runner.run(
      baseOptions({ start: 'a', blocks: [{ id: 'a', type: 'set', config: { values: {} } }] }),
    );
    expect(record.status).toBe('succeeded');
    expect(errors).toHaveLength(2);
    expect(JSON.stringify(errors)).not.toContain(CANARY);
  });
});

describe('redaction in the executor', () => {
  it('invariant 5: a secret value a plugin returns in variables is masked before the flow sees it', async () => {
    const sink = memorySink();
    const seenByNextBlock: unknown[] = [];
    const runner = createRunner({
      plugins: [
        ...builtinPlugins(),
        {
          type: 'leaky',
          configSchema: z.object({}),
          async execute() {
            return {
              variables: {
                response: {
                  headers: { authorization: `Bearer ${CANARY}` },
                  body: { echoed: CANARY, list: [CANARY] },
                },
                [`key-${CANARY}`]: 1,
              },
              request: { method: 'GET', url: `https://api.example.com/?t=${CANARY}`, status: 200 },
            };
          },
        },
        {
          type: 'observe',
          configSchema: z.object({}),
          async execute(ctx) {
            seenByNextBlock.push(structuredClone(ctx.variables));
            return {};
          },
        },
      ],
      sink,
    });
    const record = await runner.run(
      baseOptions({
        start: 'leak',
        blocks: [
          { id: 'leak', type: 'leaky', next: 'look', config: {} },
          { id: 'look', type: 'observe', next: 'copy', config: {} },
          { id: 'copy', type: 'set', config: { values: { again: '{{response.body.echoed}}' } } },
        ],
      }),
    );
    expect(record.status).toBe('succeeded');
    const everything = JSON.stringify({ record, seenByNextBlock, saved: sink.saved });
    expect(everything).not.toContain(CANARY);
    expect(seenByNextBlock[0]).toMatchObject({ response: { body: { echoed: '[REDACTED:API_TOKEN]' } } });
    expect(record.output).toMatchObject({ again: '[REDACTED:API_TOKEN]' });
    expect(record.steps[0]!.request?.url).toBe('https://api.example.com/?t=[REDACTED:API_TOKEN]');
  });

  it('invariant 6: log lines and error messages are masked, in every stored record', async () => {
    const sink = memorySink();
    const encoded = Buffer.from(CANARY).toString('base64');
    const runner = createRunner({
      plugins: [
        {
          type: 'noisy',
          configSchema: z.object({}),
          async execute(ctx) {
            ctx.log('token is', CANARY, { nested: CANARY });
            ctx.log(`encoded ${encoded}`);
            ctx.log(new Error(`failed with ${CANARY}`));
            throw Object.assign(
              new Error(`401 from https://api.example.com/?key=${encodeURIComponent(CANARY)}`),
              {
                code: 'HTTP_STATUS',
              },
            );
          },
        },
      ],
      sink,
    });
    const record = await runner.run(
      baseOptions({ start: 'n', blocks: [{ id: 'n', type: 'noisy', config: {} }] }),
    );
    expect(record.status).toBe('failed');
    const everything = JSON.stringify({ record, saved: sink.saved });
    expect(everything).not.toContain(CANARY);
    expect(everything).not.toContain(encoded);
    expect(record.steps[0]!.logs[0]).toBe('token is [REDACTED:API_TOKEN] {"nested":"[REDACTED:API_TOKEN]"}');
    expect(record.steps[0]!.logs[1]).toBe('encoded [REDACTED:API_TOKEN]');
    expect(record.error).toEqual({
      code: 'HTTP_STATUS',
      message: '401 from https://api.example.com/?key=[REDACTED:API_TOKEN]',
    });
  });

  it('invariant 6: input variables, cancellation reasons and outputs holding a secret are masked', async () => {
    const runner = createRunner({ plugins: builtinPlugins() });
    const record = await runner.run(
      baseOptions(
        {
          start: 'e',
          variables: { fromDefinition: `x${CANARY}` },
          blocks: [{ id: 'e', type: 'end', config: { output: { a: '{{fromInput}}', b: `${CANARY}` } } }],
        },
        { input: { fromInput: CANARY } },
      ),
    );
    expect(JSON.stringify(record)).not.toContain(CANARY);
    expect(record.output).toEqual({ a: '[REDACTED:API_TOKEN]', b: '[REDACTED:API_TOKEN]' });

    const cancelled = await runner.run(
      baseOptions(
        { start: 'e', blocks: [{ id: 'e', type: 'end', config: {} }] },
        { signal: AbortSignal.abort(new Error(`stop ${CANARY}`)) },
      ),
    );
    expect(cancelled.error).toEqual({ code: 'CANCELLED', message: 'stop [REDACTED:API_TOKEN]' });
  });

  it('invariant 5: tokens a plugin registers during the run are masked from then on', async () => {
    const token = 'fetched-access-token-9f8e7d';
    const runner = createRunner({
      plugins: [
        {
          type: 'oauth',
          configSchema: z.object({}),
          async execute(ctx) {
            ctx.redactor.add('OAUTH', token);
            ctx.log(`got ${token}`);
            return { variables: { token } };
          },
        },
      ],
    });
    const record = await runner.run(
      baseOptions({ start: 'o', blocks: [{ id: 'o', type: 'oauth', config: {} }] }),
    );
    expect(JSON.stringify(record)).not.toContain(token);
    expect(record.output).toEqual({ token: '[REDACTED:OAUTH]' });
  });

  it('invariant 6: a value learned mid-run is masked in the parts recorded before it was known', async () => {
    const token = 'late-learned-token-4c3b2a1';
    const sink = memorySink();
    const runner = createRunner({
      sink,
      plugins: [
        {
          type: 'echo',
          configSchema: z.object({}),
          async execute(ctx) {
            ctx.log(`saw ${token}`);
            return { variables: { early: token }, request: { method: 'GET', url: `https://x/${token}` } };
          },
        },
        {
          type: 'learn',
          configSchema: z.object({}),
          async execute(ctx) {
            ctx.redactor.add('LATE', token);
            return {};
          },
        },
      ],
    });
    const record = await runner.run(
      baseOptions({
        start: 'a',
        blocks: [
          { id: 'a', type: 'echo', config: {}, next: 'b' },
          { id: 'b', type: 'learn', config: {} },
        ],
      }),
    );
    expect(record.status).toBe('succeeded');
    expect(JSON.stringify(record)).not.toContain(token);
    expect(JSON.stringify(sink.saved.at(-1))).not.toContain(token);
    expect(record.output).toEqual({ early: '[REDACTED:LATE]' });
    expect(record.steps[0]!.logs).toEqual(['saw [REDACTED:LATE]']);
  });

  it('invariant 6: error codes, block outputs and numbers holding a secret are masked as they are recorded', async () => {
    const digits = '73914';
    const r = redactor();
    r.add('PIN', digits);
    const runner = createRunner({
      plugins: [
        {
          type: 'finish',
          configSchema: z.object({}),
          async execute() {
            return {
              end: true,
              output: { text: `out ${CANARY}`, n: Number(digits), nested: [{ k: CANARY }] },
            };
          },
        },
        throwingPlugin(Object.assign(new Error('failed'), { code: `CODE_${CANARY}` })),
      ],
    });
    const ok = await runner.run({
      ...baseOptions({ start: 'f', blocks: [{ id: 'f', type: 'finish', config: {} }] }),
      run: { ...run, actor: `user-${CANARY}`, flowId: `flow-${digits}` },
      redactor: r,
    });
    expect(ok.actor).toBe('user-[REDACTED:API_TOKEN]');
    expect(ok.flowId).toBe('flow-[REDACTED:PIN]');
    expect(JSON.stringify(ok)).not.toContain(CANARY);
    expect(JSON.stringify(ok)).not.toContain(digits);
    expect(ok.output).toEqual({
      text: 'out [REDACTED:API_TOKEN]',
      n: '[REDACTED:PIN]',
      nested: [{ k: '[REDACTED:API_TOKEN]' }],
    });
    const failed = await runner.run({
      ...baseOptions({ start: 'x', blocks: [{ id: 'x', type: 'boom', config: {} }] }),
      redactor: r,
    });
    expect(failed.status).toBe('failed');
    expect(JSON.stringify(failed)).not.toContain(CANARY);
    expect(failed.error?.code).toBe('CODE_[REDACTED:API_TOKEN]');
  });
});
