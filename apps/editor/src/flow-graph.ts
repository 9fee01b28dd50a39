// Pure conversions between a flow definition (SPEC §6) and the canvas: edges come from each
// block's `next` and a condition's then/else; connecting and deleting edges write those back;
// validation issues from the server (paths like ['blocks', 2, 'config', 'url']) are grouped
// by block id and field so the canvas and side panel can show them where they belong.
import type { BlockDef, FlowDefinition, ValidationDetail } from './api';

export const BLOCK_TYPES = ['api', 'function', 'set', 'condition', 'end'] as const;
export type BlockType = (typeof BLOCK_TYPES)[number];

export interface GraphEdge {
  id: string;
  source: string;
  target: string;
  sourceHandle: 'out' | 'then' | 'else';
  label?: string;
}

export function edgesOf(def: FlowDefinition): GraphEdge[] {
  const ids = new Set(def.blocks.map((b) => b.id));
  const edges: GraphEdge[] = [];
  for (const b of def.blocks) {
    if (b.type === 'condition') {
      for (const h of ['then', 'else'] as const) {
        const t = b.config[h];
        if (typeof t === 'string' && ids.has(t))
          edges.push({ id: `${b.id}:${h}`, source: b.id, target: t, sourceHandle: h, label: h });
      }
    } else if (b.next && ids.has(b.next)) {
      edges.push({ id: `${b.id}:out`, source: b.id, target: b.next, sourceHandle: 'out' });
    }
  }
  return edges;
}

function mapBlock(def: FlowDefinition, id: string, f: (b: BlockDef) => BlockDef): FlowDefinition {
  return { ...def, blocks: def.blocks.map((b) => (b.id === id ? f(b) : b)) };
}

export function connect(
  def: FlowDefinition,
  source: string,
  handle: string | null | undefined,
  target: string,
): FlowDefinition {
  if (source === target) return def;
  return mapBlock(def, source, (b) => {
    if (b.type === 'condition') {
      const h = handle === 'else' ? 'else' : 'then';
      return { ...b, config: { ...b.config, [h]: target } };
    }
    if (b.type === 'end') return b;
    return { ...b, next: target };
  });
}

export function disconnect(def: FlowDefinition, edgeId: string): FlowDefinition {
  const [source, handle] = edgeId.split(':');
  if (!source) return def;
  return mapBlock(def, source, (b) => {
    if (handle === 'then' || handle === 'else') {
      const config = { ...b.config };
      delete config[handle];
      return { ...b, config };
    }
    const copy = { ...b };
    delete copy.next;
    return copy;
  });
}

export function defaultConfig(type: BlockType): Record<string, unknown> {
  switch (type) {
    case 'api':
      return { method: 'GET', url: 'https://api.example.com/', timeoutMs: 10000 };
    case 'function':
      return { code: 'return input;', timeoutMs: 1000, memoryMb: 32 };
    case 'set':
      return { values: { greeting: 'Hello {{name}}' } };
    case 'condition':
      return { if: { var: 'status', op: 'eq', value: 'ok' } };
    case 'end':
      return {};
  }
}

export function newBlockId(def: FlowDefinition, type: string): string {
  const ids = new Set(def.blocks.map((b) => b.id));
  for (let i = 1; i < 10_000; i++) {
    const id = `${type}${i}`;
    if (!ids.has(id)) return id;
  }
  return `${type}${Date.now()}`;
}

export function addBlock(
  def: FlowDefinition,
  type: BlockType,
  position: { x: number; y: number },
): { def: FlowDefinition; id: string } {
  const id = newBlockId(def, type);
  const block: BlockDef = { id, type, config: defaultConfig(type), position };
  const blocks = [...def.blocks, block];
  return { def: { ...def, blocks, start: def.start && def.blocks.length ? def.start : id }, id };
}

export function removeBlock(def: FlowDefinition, id: string): FlowDefinition {
  const blocks = def.blocks
    .filter((b) => b.id !== id)
    .map((b) => {
      let nb = b;
      if (nb.next === id) {
        nb = { ...nb };
        delete nb.next;
      }
      if (nb.config.then === id || nb.config.else === id) {
        const config = { ...nb.config };
        if (config.then === id) delete config.then;
        if (config.else === id) delete config.else;
        nb = { ...nb, config };
      }
      return nb;
    });
  return { ...def, blocks, start: def.start === id ? (blocks[0]?.id ?? '') : def.start };
}

/** Issues grouped by block id; each keeps the path inside the block (e.g. ['config', 'url']). */
export interface BlockIssue {
  field: (string | number)[];
  message: string;
}

export function issuesByBlock(
  def: FlowDefinition,
  issues: ValidationDetail[],
): { byBlock: Map<string, BlockIssue[]>; general: string[] } {
  const byBlock = new Map<string, BlockIssue[]>();
  const general: string[] = [];
  for (const issue of issues) {
    let blockId = issue.blockId;
    let field = issue.path;
    if (issue.path[0] === 'definition') field = issue.path.slice(1);
    if (field[0] === 'blocks' && typeof field[1] === 'number') {
      blockId = blockId ?? def.blocks[field[1]]?.id;
      field = field.slice(2);
    } else if (!blockId) {
      general.push(issue.path.length ? `${issue.path.join('.')}: ${issue.message}` : issue.message);
      continue;
    }
    if (!blockId) {
      general.push(issue.message);
      continue;
    }
    const list = byBlock.get(blockId) ?? [];
    list.push({ field, message: issue.message });
    byBlock.set(blockId, list);
  }
  return { byBlock, general };
}

/** The message for one field of a block, if the server flagged it (matches by path prefix). */
export function fieldIssue(
  issues: BlockIssue[] | undefined,
  ...field: (string | number)[]
): string | undefined {
  if (!issues) return undefined;
  const key = field.join('.');
  const hit =
    issues.find((i) => i.field.join('.') === key) ??
    issues.find((i) => i.field.join('.').startsWith(`${key}.`));
  return hit?.message;
}

/** Variable names a template may use: flow variables, saveAs targets, set-block names, settings. */
export function variableNames(def: FlowDefinition, settings: string[]): string[] {
  const names = new Set<string>();
  for (const k of Object.keys(def.variables ?? {})) names.add(k);
  for (const b of def.blocks) {
    const c = b.config;
    if (typeof c.saveAs === 'string' && c.saveAs) {
      names.add(c.saveAs);
      names.add(`${c.saveAs}.status`);
      names.add(`${c.saveAs}.body`);
    }
    if (b.type === 'set' && c.values && typeof c.values === 'object')
      for (const k of Object.keys(c.values)) names.add(k);
  }
  for (const s of settings) names.add(`settings.${s}`);
  return [...names];
}
