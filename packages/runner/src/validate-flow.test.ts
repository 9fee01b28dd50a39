import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createRunner } from './create-runner';
import { builtinPlugins } from './plugins/builtin-plugins';
import type { BlockPlugin, FlowValidationResult, ValidationIssue } from './types';

// A stand-in for the api block: a url field, an auth secret named outside <secret:…> text,
// and a save-time check beyond the schema.
const apiLike: BlockPlugin<{ url: string; auth?: { secret: string }; headers?: Record<string, string> }> = {
  type: 'api',
  configSchema: z.object({
    url: z.string().url(),
    auth: z.object({ secret: z.string() }).optional(),
    headers: z.record(z.string(), z.string()).optional(),
  }),
  async execute() {
    return {};
  },
  validate(config) {
    return config.url.includes('{{{')
      ? [{ path: ['url'], code: 'BAD_TEMPLATE', message: 'triple braces are not supported' }]
      : [];
  },
  secretRefs(config) {
    return config.auth ? [config.auth.secret] : [];
  },
};

const runner = createRunner({ plugins: [...builtinPlugins(), apiLike] });
const secretNames = ['API_KEY', 'TOKEN'];

function issuesOf(result: FlowValidationResult): ValidationIssue[] {
  if (result.ok) throw new Error('expected validation to fail');
  return result.issues;
}

const set = (id: string, next?: string) => ({
  id,
  type: 'set',
  ...(next ? { next } : {}),
  config: { values: { a: '1' } },
});

describe('validate', () => {
  it('accepts a valid flow and returns the parsed definition', async () => {
    const result = await runner.validate(
      {
        name: 'ok',
        start: 'call',
        variables: { lang: 'en' },
        blocks: [
          {
            id: 'call',
            type: 'api',
            next: 'check',
            config: {
              url: 'https://api.example.com/x',
              headers: { 'X-Key': '<secret:API_KEY>' },
              auth: { secret: 'TOKEN' },
            },
          },
          {
            id: 'check',
            type: 'condition',
            config: { if: { var: 'lang', op: 'eq', value: 'en' }, then: 'done', else: 'done' },
          },
          { id: 'done', type: 'end' },
        ],
      },
      { secretNames },
    );
    expect(result.ok).toBe(true);
    if (result.ok) expect(result.definition.blocks[2]!.config).toEqual({});
  });

  it('reports a shape error with its path and block id', async () => {
    const issues = issuesOf(
      await runner.validate({ start: 'a', blocks: [set('a'), { id: 'b', config: {} }] }, { secretNames }),
    );
    expect(issues).toEqual([
      expect.objectContaining({ path: ['blocks', 1, 'type'], code: 'INVALID_DEFINITION', blockId: 'b' }),
    ]);
  });

  it('reports an unknown block type at its type field', async () => {
    const issues = issuesOf(
      await runner.validate(
        { start: 'a', blocks: [set('a', 'b'), { id: 'b', type: 'teleport', config: {} }] },
        { secretNames },
      ),
    );
    expect(issues).toEqual([
      expect.objectContaining({ path: ['blocks', 1, 'type'], code: 'UNKNOWN_BLOCK_TYPE', blockId: 'b' }),
    ]);
    expect(issues[0]!.message).toContain('teleport');
  });

  it('reports duplicate block ids', async () => {
    const issues = issuesOf(
      await runner.validate({ start: 'a', blocks: [set('a', 'b'), set('b'), set('b')] }, { secretNames }),
    );
    expect(issues).toEqual([
      expect.objectContaining({ path: ['blocks', 2, 'id'], code: 'DUPLICATE_BLOCK_ID', blockId: 'b' }),
    ]);
  });

  it('reports a missing start block and a missing next target', async () => {
    const issues = issuesOf(
      await runner.validate({ start: 'nope', blocks: [set('a', 'gone')] }, { secretNames }),
    );
    expect(issues).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ path: ['start'], code: 'UNKNOWN_TARGET' }),
        expect.objectContaining({ path: ['blocks', 0, 'next'], code: 'UNKNOWN_TARGET', blockId: 'a' }),
      ]),
    );
    expect(issues).toHaveLength(2);
  });

  it('reports a condition branch that leads nowhere at the branch field', async () => {
    const issues = issuesOf(
      await runner.validate(
        {
          start: 'c',
          blocks: [
            {
              id: 'c',
              type: 'condition',
              config: { if: { var: 'x', op: 'exists' }, then: 'a', else: 'missing' },
            },
            set('a'),
          ],
        },
        { secretNames },
      ),
    );
    expect(issues).toEqual([
      expect.objectContaining({
        path: ['blocks', 0, 'config', 'else'],
        code: 'UNKNOWN_TARGET',
        blockId: 'c',
      }),
    ]);
  });

  it('maps plugin config schema issues to the block config field', async () => {
    const issues = issuesOf(
      await runner.validate(
        {
          start: 'call',
          blocks: [
            { id: 'call', type: 'api', next: 'c', config: { url: 'not a url' } },
            { id: 'c', type: 'condition', config: { if: { var: 'x', op: 'gt' } } },
          ],
        },
        { secretNames },
      ),
    );
    expect(issues).toEqual([
      expect.objectContaining({
        path: ['blocks', 0, 'config', 'url'],
        code: 'INVALID_CONFIG',
        blockId: 'call',
      }),
      expect.objectContaining({
        path: ['blocks', 1, 'config', 'if', 'value'],
        code: 'INVALID_CONFIG',
        blockId: 'c',
      }),
    ]);
  });

  it('maps plugin.validate issues under the block config', async () => {
    const issues = issuesOf(
      await runner.validate(
        {
          start: 'call',
          blocks: [{ id: 'call', type: 'api', config: { url: 'https://x.example/{{{a}}}' } }],
        },
        { secretNames },
      ),
    );
    expect(issues).toEqual([
      {
        path: ['blocks', 0, 'config', 'url'],
        code: 'BAD_TEMPLATE',
        message: 'triple braces are not supported',
        blockId: 'call',
      },
    ]);
  });

  it('reports unknown <secret:…> references in values and keys, and plugin secretRefs', async () => {
    const issues = issuesOf(
      await runner.validate(
        {
          start: 'call',
          blocks: [
            {
              id: 'call',
              type: 'api',
              config: {
                url: 'https://api.example.com/<secret:API_KEY>/<secret:NOPE.password>',
                headers: { '<secret:KEY_IN_KEY>': 'x' },
                auth: { secret: 'MISSING_TOKEN' },
              },
            },
          ],
        },
        { secretNames },
      ),
    );
    expect(issues).toEqual([
      expect.objectContaining({
        path: ['blocks', 0, 'config', 'url'],
        code: 'UNKNOWN_SECRET',
        blockId: 'call',
      }),
      expect.objectContaining({
        path: ['blocks', 0, 'config', 'headers', '<secret:KEY_IN_KEY>'],
        code: 'UNKNOWN_SECRET',
      }),
      expect.objectContaining({ path: ['blocks', 0, 'config', 'auth', 'secret'], code: 'UNKNOWN_SECRET' }),
    ]);
    expect(issues.map((i) => i.message).join('\n')).toMatch(/NOPE[\s\S]*KEY_IN_KEY[\s\S]*MISSING_TOKEN/);
  });

  it('scans every block type for <secret:…> references, even set blocks', async () => {
    const issues = issuesOf(
      await runner.validate(
        { start: 'a', blocks: [{ id: 'a', type: 'set', config: { values: { x: ['<secret:GHOST>'] } } }] },
        { secretNames },
      ),
    );
    expect(issues).toEqual([
      expect.objectContaining({
        path: ['blocks', 0, 'config', 'values', 'x', 0],
        code: 'UNKNOWN_SECRET',
        blockId: 'a',
      }),
    ]);
  });

  it('reports a loop with no exit', async () => {
    const issues = issuesOf(
      await runner.validate(
        { start: 'a', blocks: [set('a', 'b'), set('b', 'c'), set('c', 'b')] },
        { secretNames },
      ),
    );
    expect(issues).toEqual([
      expect.objectContaining({ path: ['blocks', 1], code: 'CYCLE_WITHOUT_EXIT', blockId: 'b' }),
    ]);
    expect(issues[0]!.message).toContain('"b", "c"');
  });

  it('reports a block that continues with itself', async () => {
    const issues = issuesOf(await runner.validate({ start: 'a', blocks: [set('a', 'a')] }, { secretNames }));
    expect(issues).toEqual([
      expect.objectContaining({ path: ['blocks', 0], code: 'CYCLE_WITHOUT_EXIT', blockId: 'a' }),
    ]);
  });

  it('reports a loop whose condition branches both stay inside it', async () => {
    const issues = issuesOf(
      await runner.validate(
        {
          start: 'a',
          blocks: [
            set('a', 'c'),
            { id: 'c', type: 'condition', config: { if: { var: 'x', op: 'exists' }, then: 'a', else: 'c' } },
          ],
        },
        { secretNames },
      ),
    );
    expect(issues).toEqual([expect.objectContaining({ code: 'CYCLE_WITHOUT_EXIT', blockId: 'a' })]);
  });

  it('accepts a loop with a condition exit, or with a branch left open', async () => {
    for (const exit of [{ then: 'a', else: 'done' }, { then: 'a' }]) {
      const result = await runner.validate(
        {
          start: 'a',
          blocks: [
            set('a', 'c'),
            { id: 'c', type: 'condition', config: { if: { var: 'x', op: 'lt', value: 3 }, ...exit } },
            { id: 'done', type: 'end' },
          ],
        },
        { secretNames },
      );
      expect(result).toEqual(expect.objectContaining({ ok: true }));
    }
  });

  it('reports every problem at once', async () => {
    const issues = issuesOf(
      await runner.validate(
        { start: 'a', blocks: [set('a', 'zzz'), { id: 'b', type: 'ghost', config: {} }, set('a')] },
        { secretNames },
      ),
    );
    expect(issues.map((i) => i.code).sort()).toEqual([
      'DUPLICATE_BLOCK_ID',
      'UNKNOWN_BLOCK_TYPE',
      'UNKNOWN_TARGET',
    ]);
  });
});
