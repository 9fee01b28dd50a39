import { Redactor } from '@flowsafe/redact';
import { describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { createRunner } from './create-runner';
import { FlowCache, parseBlockConfig } from './flow-cache';
import { builtinPlugins } from './plugins/builtin-plugins';
import type { BlockPlugin, FlowDefinition, RunInfo, RunRecord } from './types';

const run: RunInfo = {
  runId: 'run_1',
  flowId: 'flow_1',
  projectId: 'proj_1',
  workspaceId: 'ws_1',
  environment: 'production',
};

const setFlow = (value: unknown): FlowDefinition => ({
  start: 's',
  blocks: [{ id: 's', type: 'set', config: { values: { x: value } } }],
});

describe('flow cache', () => {
  it('a definition changed in place between runs runs as changed', async () => {
    const runner = createRunner({ plugins: builtinPlugins() });
    const definition = setFlow({ n: 1 });
    const first = await runner.run({ definition, run, redactor: new Redactor() });
    expect(first.output).toEqual({ x: { n: 1 } });
    (definition.blocks[0]!.config as { values: { x: { n: number } } }).values.x.n = 2;
    const second = await runner.run({ definition, run, redactor: new Redactor() });
    expect(second.output).toEqual({ x: { n: 2 } });
    definition.blocks[0]!.type = 'nope';
    const third = await runner.run({ definition, run, redactor: new Redactor() });
    expect(third.status).toBe('failed');
    expect(third.error?.code).toBe('UNKNOWN_BLOCK_TYPE');
  });

  it('a deeply frozen definition is known by identity; one frozen only on top is read as text', async () => {
    const deepFreeze = <T>(v: T): T => {
      if (typeof v === 'object' && v !== null) {
        for (const child of Object.values(v)) deepFreeze(child);
        Object.freeze(v);
      }
      return v;
    };
    const cache = new FlowCache();
    const frozen = deepFreeze(setFlow({ n: 1 }));
    const first = cache.compile(frozen);
    expect(first.ok).toBe(true);
    expect(cache.compile(frozen)).toBe(first);
    // known by identity: not even serialised again
    const stringify = vi.spyOn(JSON, 'stringify');
    try {
      cache.compile(frozen);
      expect(stringify).not.toHaveBeenCalled();
    } finally {
      stringify.mockRestore();
    }

    // frozen on top, changeable inside: never trusted by identity
    const shallow = Object.freeze(setFlow({ n: 1 }));
    const runner = createRunner({ plugins: builtinPlugins() });
    expect((await runner.run({ definition: shallow, run, redactor: new Redactor() })).output).toEqual({
      x: { n: 1 },
    });
    (shallow.blocks[0]!.config as { values: { x: { n: number } } }).values.x.n = 2;
    expect((await runner.run({ definition: shallow, run, redactor: new Redactor() })).output).toEqual({
      x: { n: 2 },
    });
  });

  it('what one caller changes later never reaches another run of an equal definition', async () => {
    const runner = createRunner({ plugins: builtinPlugins() });
    const mine = setFlow({ n: 1 });
    await runner.run({ definition: mine, run, redactor: new Redactor() });
    (mine.blocks[0]!.config as { values: { x: { n: number } } }).values.x.n = 99;
    const other = await runner.run({ definition: setFlow({ n: 1 }), run, redactor: new Redactor() });
    expect(other.output).toEqual({ x: { n: 1 } });
  });

  it('parses the definition and each block config once for equal definitions', async () => {
    let parses = 0;
    const counted: BlockPlugin<{ v: string }> = {
      type: 'counted',
      configSchema: z.object({ v: z.string() }).transform((c) => {
        parses++;
        return c;
      }),
      async execute(_ctx, config) {
        return { variables: { v: config.v } };
      },
    };
    const runner = createRunner({ plugins: [counted] });
    const definition = (): FlowDefinition => ({
      start: 'a',
      blocks: [{ id: 'a', type: 'counted', config: { v: 'hello' } }],
    });
    for (let i = 0; i < 5; i++) {
      const record = await runner.run({ definition: definition(), run, redactor: new Redactor() });
      expect(record.output).toEqual({ v: 'hello' });
    }
    expect(parses).toBe(1);
  });

  it('keeps reporting an invalid definition or config on every run', async () => {
    const runner = createRunner({ plugins: builtinPlugins() });
    for (let i = 0; i < 2; i++) {
      const broken = await runner.run({
        definition: { start: '', blocks: [] } as FlowDefinition,
        run,
        redactor: new Redactor(),
      });
      expect(broken.error?.code).toBe('FLOW_INVALID');
      const valid = await runner.run({ definition: setFlow(1), run, redactor: new Redactor() });
      expect(valid.status).toBe('succeeded');
      const wrong = await runner.run({
        definition: { start: 's', blocks: [{ id: 's', type: 'set', config: { values: 'no' } }] },
        run,
        redactor: new Redactor(),
      });
      expect(wrong.error?.code).toBe('FLOW_INVALID');
      expect(wrong.error?.message).toMatch(/the config of block "s" is invalid: values/);
    }
  });

  it('a block type registered after a run that did not know it runs with its plugin', async () => {
    const runner = createRunner({ plugins: builtinPlugins() });
    const definition: FlowDefinition = { start: 'l', blocks: [{ id: 'l', type: 'later', config: {} }] };
    expect((await runner.run({ definition, run, redactor: new Redactor() })).error?.code).toBe(
      'UNKNOWN_BLOCK_TYPE',
    );
    runner.register({
      type: 'later',
      configSchema: z.object({}),
      execute: async () => ({ variables: { ok: true } }),
    });
    expect((await runner.run({ definition, run, redactor: new Redactor() })).output).toEqual({ ok: true });
  });

  it('is bounded: the oldest definitions leave first', async () => {
    const cache = new FlowCache({ maxEntries: 2 });
    const a = cache.compile(setFlow('a'));
    expect(cache.compile(setFlow('a'))).toBe(a);
    cache.compile(setFlow('b'));
    cache.compile(setFlow('c'));
    expect(cache.compile(setFlow('a'))).not.toBe(a);
    const compiled = cache.compile(setFlow('a'));
    if (!compiled.ok) throw new Error('expected a valid flow');
    const plugin = builtinPlugins().find((p) => p.type === 'set')!;
    const block = compiled.blocks.get('s')!;
    expect(await parseBlockConfig(block, plugin)).toBe(await parseBlockConfig(block, plugin));
  });
});

describe('run record saves', () => {
  it('the final record is saved after the start record even when the first save is slow', async () => {
    const saved: RunRecord[] = [];
    let calls = 0;
    const runner = createRunner({
      plugins: builtinPlugins(),
      sink: {
        async save(record) {
          const copy = structuredClone(record);
          if (calls++ === 0) await new Promise((r) => setTimeout(r, 30));
          saved.push(copy);
        },
      },
    });
    const record = await runner.run({ definition: setFlow(1), run, redactor: new Redactor() });
    expect(saved.map((r) => r.status)).toEqual(['running', 'succeeded']);
    expect(saved[1]).toEqual(record);
  });
});
