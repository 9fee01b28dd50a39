// Save-time validation of a flow definition. Every problem is reported at once, each with a
// path into the definition (['blocks', 2, 'config', 'url']) and the block id, so the editor
// can point at the field: shape errors, unknown block types, duplicate ids, missing targets,
// plugin config errors, loops no run can leave, and unknown <secret:…> references.
import { type z } from 'zod';
import { findClosedLoops, type BlockNode } from './find-closed-loops';
import { flowDefinitionSchema } from './flow-schema';
import { findSecretRefs } from './secret-refs';
import type { BlockPlugin, FlowDefinition, FlowValidationResult, ValidationIssue } from './types';

type Path = (string | number)[];

function toPath(path: readonly PropertyKey[]): Path {
  return path.map((key) => (typeof key === 'number' ? key : String(key)));
}

function blockIdAt(definition: unknown, index: unknown): string | undefined {
  if (typeof index !== 'number' || definition === null || typeof definition !== 'object') return undefined;
  const blocks = (definition as { blocks?: unknown }).blocks;
  if (!Array.isArray(blocks)) return undefined;
  const id = (blocks[index] as { id?: unknown } | undefined)?.id;
  return typeof id === 'string' ? id : undefined;
}

function issue(path: Path, code: string, message: string, blockId?: string): ValidationIssue {
  return blockId === undefined ? { path, code, message } : { path, code, message, blockId };
}

/** Path of the first string leaf equal to `text` inside `value`, for issues about a name. */
function pathOfString(value: unknown, text: string, path: Path = [], depth = 0): Path | undefined {
  if (value === text) return path;
  if (depth > 64 || value === null || typeof value !== 'object') return undefined;
  for (const [key, item] of Object.entries(value)) {
    const found = pathOfString(item, text, [...path, Array.isArray(value) ? Number(key) : key], depth + 1);
    if (found) return found;
  }
  return undefined;
}

function zodIssues(error: z.ZodError, prefix: Path, code: string, blockId?: string): ValidationIssue[] {
  return error.issues.map((zi) => issue([...prefix, ...toPath(zi.path)], code, zi.message, blockId));
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Validates a flow definition against the registered plugins and the project's secret names. */
export async function validateFlow(
  input: unknown,
  plugins: ReadonlyMap<string, BlockPlugin>,
  secretNames: ReadonlySet<string>,
): Promise<FlowValidationResult> {
  const parsed = flowDefinitionSchema.safeParse(input);
  if (!parsed.success) {
    return {
      ok: false,
      issues: parsed.error.issues.map((zi) => {
        const path = toPath(zi.path);
        const blockId = path[0] === 'blocks' ? blockIdAt(input, path[1]) : undefined;
        return issue(path, 'INVALID_DEFINITION', zi.message, blockId);
      }),
    };
  }
  const definition: FlowDefinition = parsed.data;
  const issues: ValidationIssue[] = [];

  const firstIndex = new Map<string, number>();
  definition.blocks.forEach((block, i) => {
    if (firstIndex.has(block.id)) {
      issues.push(
        issue(
          ['blocks', i, 'id'],
          'DUPLICATE_BLOCK_ID',
          `block id "${block.id}" is used by more than one block`,
          block.id,
        ),
      );
    } else {
      firstIndex.set(block.id, i);
    }
  });

  if (!firstIndex.has(definition.start)) {
    issues.push(issue(['start'], 'UNKNOWN_TARGET', `start block "${definition.start}" does not exist`));
  }

  const graph = new Map<string, BlockNode>();
  for (const [i, block] of definition.blocks.entries()) {
    const at: Path = ['blocks', i];
    const targets: string[] = [];
    let mayEnd = block.next === undefined;

    if (block.next !== undefined) {
      targets.push(block.next);
      if (!firstIndex.has(block.next)) {
        issues.push(
          issue([...at, 'next'], 'UNKNOWN_TARGET', `next block "${block.next}" does not exist`, block.id),
        );
      }
    }

    for (const ref of findSecretRefs(block.config)) {
      if (!secretNames.has(ref.name)) {
        issues.push(
          issue(
            [...at, 'config', ...ref.path],
            'UNKNOWN_SECRET',
            `secret "${ref.name}" does not exist in this project`,
            block.id,
          ),
        );
      }
    }

    const plugin = plugins.get(block.type);
    if (!plugin) {
      issues.push(
        issue(
          [...at, 'type'],
          'UNKNOWN_BLOCK_TYPE',
          `unknown block type "${block.type}"; known types: ${[...plugins.keys()].join(', ')}`,
          block.id,
        ),
      );
      if (firstIndex.get(block.id) === i) graph.set(block.id, { targets, mayEnd: true });
      continue;
    }

    const config = await plugin.configSchema.safeParseAsync(block.config);
    if (!config.success) {
      issues.push(...zodIssues(config.error, [...at, 'config'], 'INVALID_CONFIG', block.id));
      if (firstIndex.get(block.id) === i) graph.set(block.id, { targets, mayEnd: true });
      continue;
    }

    try {
      for (const found of (await plugin.validate?.(config.data)) ?? []) {
        issues.push({ ...found, path: [...at, 'config', ...found.path], blockId: block.id });
      }
    } catch (err) {
      issues.push(
        issue(
          [...at, 'config'],
          'INVALID_CONFIG',
          `the ${block.type} block could not be checked: ${errorMessage(err)}`,
          block.id,
        ),
      );
    }

    for (const name of plugin.secretRefs?.(config.data) ?? []) {
      if (!secretNames.has(name)) {
        const path = pathOfString(block.config, name) ?? [];
        issues.push(
          issue(
            [...at, 'config', ...path],
            'UNKNOWN_SECRET',
            `secret "${name}" does not exist in this project`,
            block.id,
          ),
        );
      }
    }

    // a plugin that declares targets picks its own continuation, so it ends the run only
    // where a target is null; any other block ends the run when it has no `next`
    if (plugin.targets) mayEnd = false;
    for (const target of plugin.targets?.(config.data) ?? []) {
      if (target === null) {
        mayEnd = true;
        continue;
      }
      targets.push(target);
      if (!firstIndex.has(target)) {
        const path = pathOfString(block.config, target) ?? [];
        issues.push(
          issue(
            [...at, 'config', ...path],
            'UNKNOWN_TARGET',
            `target block "${target}" does not exist`,
            block.id,
          ),
        );
      }
    }
    if (firstIndex.get(block.id) === i) graph.set(block.id, { targets, mayEnd });
  }

  for (const loop of findClosedLoops([...graph.keys()], graph)) {
    const first = loop[0]!;
    issues.push(
      issue(
        ['blocks', firstIndex.get(first)!],
        'CYCLE_WITHOUT_EXIT',
        `blocks ${loop.map((id) => `"${id}"`).join(', ')} form a loop with no way out; ` +
          'add a condition block whose then or else leads out of the loop',
        first,
      ),
    );
  }

  return issues.length === 0 ? { ok: true, definition } : { ok: false, issues };
}
