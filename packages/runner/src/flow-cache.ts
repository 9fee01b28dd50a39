// The parsed form of a flow definition, kept between runs: the definition checked with the
// flow schema once, its blocks by id, and each block's config parsed by its plugin's schema on
// first use. Runs of the same flow (the server hands every run a fresh copy from the store)
// then skip zod entirely. Keyed by the definition's JSON text, so a definition changed in place
// or loaded again is parsed again whenever its content differs; bounded (oldest out first).
// The cache parses its own copy of that text, so nothing it keeps is shared with a caller
// (a caller changing its object later cannot change what another run executes). A definition
// that is deeply frozen (the stores hand out frozen records) can never change, so it is also
// known by identity, and its runs skip even the JSON text.
import { flowDefinitionSchema } from './flow-schema';
import type { BlockDefinition, BlockPlugin, FlowDefinition } from './types';

export type ParsedConfig = { ok: true; data: unknown } | { ok: false; message: string };

export interface CompiledBlock {
  def: BlockDefinition;
  /** the plugin the config was parsed with (set together with `config`) */
  plugin?: BlockPlugin;
  config?: ParsedConfig;
}

export type CompiledFlow =
  | { ok: true; definition: FlowDefinition; blocks: Map<string, CompiledBlock> }
  | { ok: false; message: string };

export interface FlowCacheOptions {
  /** definitions kept (default 256) */
  maxEntries?: number;
  /** total characters of the kept definitions' JSON text (default 8 MiB) */
  maxChars?: number;
}

export class FlowCache {
  readonly #byText = new Map<string, CompiledFlow>();
  /** deeply frozen definitions seen before (they cannot change, and go when they are dropped) */
  readonly #byObject = new WeakMap<object, CompiledFlow>();
  readonly #maxEntries: number;
  readonly #maxChars: number;
  #chars = 0;

  constructor(options: FlowCacheOptions = {}) {
    this.#maxEntries = options.maxEntries ?? 256;
    this.#maxChars = options.maxChars ?? 8 * 1024 * 1024;
  }

  /** The parsed definition (or why it is invalid). */
  compile(definition: unknown): CompiledFlow {
    const frozen = typeof definition === 'object' && definition !== null && Object.isFrozen(definition);
    if (frozen) {
      const known = this.#byObject.get(definition);
      if (known) return known;
    }
    const compiled = this.#compileText(definition);
    if (frozen && isDeepFrozen(definition, new Set())) this.#byObject.set(definition, compiled);
    return compiled;
  }

  #compileText(definition: unknown): CompiledFlow {
    let text: string | undefined;
    try {
      text = JSON.stringify(definition);
    } catch {
      text = undefined; // not JSON (a cycle, a BigInt): parsed every time, as before
    }
    if (text === undefined) return compileFlow(definition);
    const hit = this.#byText.get(text);
    if (hit) return hit;
    const compiled = compileFlow(JSON.parse(text));
    if (text.length <= this.#maxChars) {
      this.#byText.set(text, compiled);
      this.#chars += text.length;
      while (this.#byText.size > this.#maxEntries || this.#chars > this.#maxChars) {
        const oldest = this.#byText.keys().next().value as string;
        this.#byText.delete(oldest);
        this.#chars -= oldest.length;
      }
    }
    return compiled;
  }
}

function isDeepFrozen(value: object, seen: Set<object>): boolean {
  if (!Object.isFrozen(value)) return false;
  if (seen.has(value)) return true;
  seen.add(value);
  for (const key of Object.keys(value)) {
    const child = (value as Record<string, unknown>)[key];
    if (typeof child === 'object' && child !== null && !isDeepFrozen(child, seen)) return false;
  }
  return true;
}

function compileFlow(input: unknown): CompiledFlow {
  const parsed = flowDefinitionSchema.safeParse(input);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    return {
      ok: false,
      message: `the flow definition is invalid: ${first ? `${first.path.join('.')}: ${first.message}` : 'unknown problem'}`,
    };
  }
  const definition = parsed.data;
  const blocks = new Map<string, CompiledBlock>();
  for (const def of definition.blocks) if (!blocks.has(def.id)) blocks.set(def.id, { def });
  return { ok: true, definition, blocks };
}

/** A block's config parsed by `plugin`'s schema, parsed once per compiled block. */
export async function parseBlockConfig(block: CompiledBlock, plugin: BlockPlugin): Promise<ParsedConfig> {
  if (block.config && block.plugin === plugin) return block.config;
  const result = await plugin.configSchema.safeParseAsync(block.def.config);
  let config: ParsedConfig;
  if (result.success) config = { ok: true, data: result.data };
  else {
    const first = result.error.issues[0];
    config = {
      ok: false,
      message: `the config of block "${block.def.id}" is invalid: ${first ? `${first.path.join('.')}: ${first.message}` : ''}`,
    };
  }
  block.plugin = plugin;
  block.config = config;
  return config;
}
