import { describe, expect, it } from 'vitest';
import type { FlowDefinition } from './api';
import {
  addBlock,
  connect,
  disconnect,
  edgesOf,
  fieldIssue,
  issuesByBlock,
  removeBlock,
  variableNames,
} from './flow-graph';

const def = (): FlowDefinition => ({
  start: 'a',
  variables: { lang: 'en' },
  blocks: [
    { id: 'a', type: 'api', next: 'c', config: { url: 'https://x/', saveAs: 'resp' } },
    {
      id: 'c',
      type: 'condition',
      config: { if: { var: 'resp.status', op: 'eq', value: 200 }, then: 'e', else: 's' },
    },
    { id: 's', type: 'set', config: { values: { error: 'bad' } } },
    { id: 'e', type: 'end', config: {} },
  ],
});

describe('flow graph', () => {
  it('derives edges from next and condition then/else', () => {
    expect(edgesOf(def()).map((e) => e.id)).toEqual(['a:out', 'c:then', 'c:else']);
  });

  it('connects: next for plain blocks, then/else by handle for conditions, nothing out of end', () => {
    let d = connect(def(), 's', 'out', 'e');
    expect(d.blocks.find((b) => b.id === 's')?.next).toBe('e');
    d = connect(d, 'c', 'else', 'a');
    expect(d.blocks.find((b) => b.id === 'c')?.config.else).toBe('a');
    expect(connect(d, 'e', 'out', 'a').blocks.find((b) => b.id === 'e')?.next).toBeUndefined();
    expect(connect(d, 'a', 'out', 'a')).toBe(d);
  });

  it('disconnects an edge by id', () => {
    const d = disconnect(disconnect(def(), 'a:out'), 'c:then');
    expect(d.blocks[0]?.next).toBeUndefined();
    expect(d.blocks[1]?.config.then).toBeUndefined();
    expect(d.blocks[1]?.config.else).toBe('s');
  });

  it('removes a block with every reference to it and moves the start', () => {
    const d = removeBlock(removeBlock(def(), 'e'), 'a');
    expect(d.start).toBe('c');
    expect(d.blocks.map((b) => b.id)).toEqual(['c', 's']);
    expect(d.blocks[0]?.config.then).toBeUndefined();
  });

  it('adds blocks with unique ids and a default config', () => {
    const { def: d, id } = addBlock(def(), 'api', { x: 1, y: 2 });
    expect(id).toBe('api1');
    expect(addBlock(d, 'api', { x: 0, y: 0 }).id).toBe('api2');
    expect(d.blocks.at(-1)).toMatchObject({ id: 'api1', type: 'api', position: { x: 1, y: 2 } });
  });

  it('groups server issues by block and field (index paths and blockId)', () => {
    const { byBlock, general } = issuesByBlock(def(), [
      { path: ['blocks', 0, 'config', 'url'], message: 'bad url' },
      { path: ['definition', 'blocks', 2, 'config', 'values'], message: 'empty' },
      { path: ['start'], message: 'unknown start' },
      { path: [], message: 'cycle', blockId: 'c' },
    ]);
    expect(fieldIssue(byBlock.get('a'), 'config', 'url')).toBe('bad url');
    expect(fieldIssue(byBlock.get('s'), 'config', 'values')).toBe('empty');
    expect(byBlock.get('c')?.[0]?.message).toBe('cycle');
    expect(general).toEqual(['start: unknown start']);
    expect(fieldIssue(byBlock.get('a'), 'config')).toBe('bad url');
    expect(fieldIssue(byBlock.get('a'), 'config', 'method')).toBeUndefined();
  });

  it('offers variables, saveAs results, set-block names and settings for {{…}}', () => {
    expect(variableNames(def(), ['REGION'])).toEqual([
      'lang',
      'resp',
      'resp.status',
      'resp.body',
      'error',
      'settings.REGION',
    ]);
  });
});
