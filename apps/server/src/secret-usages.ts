// Which flows and blocks use which secret: `<secret:…>` placeholders anywhere in a definition
// plus names given outside placeholders (api auth.secret, tls cert/key/ca). Used by the
// secrets list (`usedBy`), the usages endpoint, delete (409 with usages) and the
// requireAllowedHosts policy.
import { findSecretRefs } from '@flowsafe/runner';
import type { Flow } from '@flowsafe/store';

export interface SecretUsage {
  secret: string;
  flowId: string;
  flowName: string;
  blockId?: string;
  path: (string | number)[];
}

/** Every secret use in one flow definition (paths inside the definition). */
export function secretUsesOf(
  definition: unknown,
): Array<{ secret: string; blockId?: string; path: (string | number)[] }> {
  const out: Array<{ secret: string; blockId?: string; path: (string | number)[] }> = [];
  const blocks = isRecord(definition) && Array.isArray(definition.blocks) ? definition.blocks : [];
  const blockIdAt = (path: (string | number)[]): string | undefined => {
    if (path[0] !== 'blocks' || typeof path[1] !== 'number') return undefined;
    const block: unknown = blocks[path[1]];
    return isRecord(block) && typeof block.id === 'string' ? block.id : undefined;
  };
  for (const ref of findSecretRefs(definition)) {
    const blockId = blockIdAt(ref.path);
    out.push(
      blockId === undefined
        ? { secret: ref.name, path: ref.path }
        : { secret: ref.name, blockId, path: ref.path },
    );
  }
  blocks.forEach((block: unknown, i: number) => {
    if (!isRecord(block) || !isRecord(block.config)) return;
    const blockId = typeof block.id === 'string' ? block.id : undefined;
    const push = (secret: unknown, path: (string | number)[]) => {
      if (typeof secret !== 'string') return;
      out.push(blockId === undefined ? { secret, path } : { secret, blockId, path });
    };
    const { auth, tls } = block.config;
    if (isRecord(auth)) push(auth.secret, ['blocks', i, 'config', 'auth', 'secret']);
    if (isRecord(tls)) {
      for (const key of ['cert', 'key', 'ca'] as const) push(tls[key], ['blocks', i, 'config', 'tls', key]);
    }
  });
  return out;
}

/** Every use of every secret across `flows`. */
export function secretUsages(flows: Flow[]): SecretUsage[] {
  const out: SecretUsage[] = [];
  for (const flow of flows) {
    for (const use of secretUsesOf(flow.definition))
      out.push({ ...use, flowId: flow.id, flowName: flow.name });
  }
  return out;
}

function isRecord(v: unknown): v is Record<string, any> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
