// The `function` block (SPEC §6, §3 invariant 7): user JavaScript run in isolated-vm.
//
// The code is the body of `async function (input, log)`:
//   - `input` is a deep copy (through JSON) of the flow variables, which never hold secret values;
//   - `log(...args)` turns its arguments into one text line (objects as JSON) that goes to
//     ctx.log, which the runner redacts; at most 100 lines per call are kept.
// The returned value must be JSON-serialisable and becomes the block's variables:
//   - with `saveAs`, it is stored whole under that name (`{ [saveAs]: value }`);
//   - without `saveAs`, it must be a plain object, whose keys are merged into the variables
//     (anything else fails with FUNCTION_RESULT_NOT_OBJECT and says to use saveAs);
//   - returning nothing (undefined) changes no variable.
// Limits come from the config (timeoutMs, memoryMb, maxOutputBytes) with defaults and hard maxima
// in host/limits.ts; the run's deadline shortens timeoutMs. Isolate reuse: host/isolate-pool.ts.
import type { BlockContext, BlockPlugin, BlockResult, ValidationIssue } from '@flowsafe/runner';
import { z } from 'zod';
import { IsolatePool, type IsolatePoolOptions } from './host/isolate-pool';
import { LIMITS } from './host/limits';
import { runFunction } from './host/run-function';
import { SandboxError } from './sandbox-error';
import { validateFunctionCode } from './validate-function-code';

export const functionConfigSchema = z.object({
  code: z.string().max(LIMITS.codeChars.max),
  timeoutMs: z
    .number()
    .int()
    .min(LIMITS.timeoutMs.min)
    .max(LIMITS.timeoutMs.max)
    .default(LIMITS.timeoutMs.default),
  memoryMb: z
    .number()
    .int()
    .min(LIMITS.memoryMb.min)
    .max(LIMITS.memoryMb.max)
    .default(LIMITS.memoryMb.default),
  maxOutputBytes: z
    .number()
    .int()
    .min(LIMITS.maxOutputBytes.min)
    .max(LIMITS.maxOutputBytes.max)
    .default(LIMITS.maxOutputBytes.default),
  saveAs: z.string().min(1).max(200).optional(),
});

export type FunctionBlockConfig = z.output<typeof functionConfigSchema>;

export interface FunctionBlockPluginOptions extends IsolatePoolOptions {
  /** share one pool between plugins; by default each plugin owns one */
  pool?: IsolatePool;
}

export interface FunctionBlockPlugin extends BlockPlugin<FunctionBlockConfig> {
  type: 'function';
  /** the plugin's isolate pool (stats for tests and metrics) */
  readonly pool: IsolatePool;
  /** dispose every isolate of this plugin's pool; later calls fail with SANDBOX_CLOSED */
  close(): void;
}

const openPools = new Set<IsolatePool>();

/** The `function` block plugin. Call close() (or disposeSandbox()) on shutdown. */
export function createFunctionBlockPlugin(options: FunctionBlockPluginOptions = {}): FunctionBlockPlugin {
  const { pool: shared, ...poolOptions } = options;
  const pool = shared ?? new IsolatePool(poolOptions);
  openPools.add(pool);

  return {
    type: 'function',
    configSchema: functionConfigSchema,
    pool,
    close() {
      openPools.delete(pool);
      pool.close();
    },
    validate(config: FunctionBlockConfig): ValidationIssue[] {
      return typeof config?.code === 'string' ? validateFunctionCode(config.code) : [];
    },
    async execute(ctx: BlockContext, rawConfig: FunctionBlockConfig): Promise<BlockResult> {
      const config = functionConfigSchema.parse(rawConfig);
      const label = `function block "${ctx.block.id}"`;
      let timeoutMs = config.timeoutMs;
      if (Number.isFinite(ctx.deadline)) {
        timeoutMs = Math.min(timeoutMs, Math.floor(ctx.deadline - Date.now()));
        if (timeoutMs <= 0) {
          throw new SandboxError('FUNCTION_TIMEOUT', `${label}: the run has no time left`, {
            blockId: ctx.block.id,
          });
        }
      }
      let inputJson: string;
      try {
        inputJson = JSON.stringify(ctx.variables ?? {}) ?? '{}';
      } catch (err) {
        throw new SandboxError(
          'FUNCTION_INPUT_NOT_JSON',
          `${label}: the flow variables cannot be copied as JSON`,
          {
            blockId: ctx.block.id,
            cause: err,
          },
        );
      }
      const outcome = await runFunction(pool, {
        code: config.code,
        inputJson,
        timeoutMs,
        memoryMb: config.memoryMb,
        maxOutputBytes: config.maxOutputBytes,
        onLog: (line) => ctx.log(line),
        signal: ctx.signal,
        label,
        blockId: ctx.block.id,
      });
      if (!outcome.returned) return {};
      return { variables: toVariables(outcome.value, config.saveAs, label, ctx.block.id) };
    },
  };
}

function toVariables(
  value: unknown,
  saveAs: string | undefined,
  label: string,
  blockId: string,
): Record<string, unknown> {
  if (saveAs !== undefined) return { [saveAs]: value };
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    const kind = value === null ? 'null' : Array.isArray(value) ? 'an array' : `a ${typeof value}`;
    throw new SandboxError(
      'FUNCTION_RESULT_NOT_OBJECT',
      `${label} returned ${kind}; return an object (its keys become variables) or set saveAs to store the value under a name`,
      { blockId },
    );
  }
  const variables = value as Record<string, unknown>;
  // JSON.parse made "__proto__" an own data property; drop it so no consumer's Object.assign
  // turns it into a prototype
  if (Object.hasOwn(variables, '__proto__')) delete variables['__proto__'];
  return variables;
}

/** Dispose every isolate of every function block plugin (process shutdown, test teardown). */
export function disposeSandbox(): void {
  for (const pool of openPools) pool.close();
  openPools.clear();
}
