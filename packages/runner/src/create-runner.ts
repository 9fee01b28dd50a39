// createRunner: registers block plugins by type, applies default limits and hands out
// validate (save time) and run (execution). Options → defaults → one typed object.
import { executeRun } from './execute-run';
import { FlowCache } from './flow-cache';
import { RunnerError } from './runner-error';
import type { BlockPlugin, Runner, RunnerLimits, RunnerOptions } from './types';
import { validateFlow } from './validate-flow';

export const DEFAULT_LIMITS: Readonly<RunnerLimits> = Object.freeze({
  maxSteps: 1000,
  runTimeoutMs: 300_000,
});

function checkLimit(name: keyof RunnerLimits, value: number): number {
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new RunnerError('FLOW_INVALID', `limits.${name} must be a positive integer, got ${value}`);
  }
  return value;
}

/** A runner that knows exactly the plugins it is given (and those registered later). */
export function createRunner(options: RunnerOptions): Runner {
  const plugins = new Map<string, BlockPlugin>();
  const register = (plugin: BlockPlugin): void => {
    if (plugins.has(plugin.type)) {
      throw new RunnerError(
        'DUPLICATE_PLUGIN',
        `a plugin for block type "${plugin.type}" is already registered`,
      );
    }
    plugins.set(plugin.type, plugin);
  };
  for (const plugin of options.plugins) register(plugin);

  const limits: RunnerLimits = {
    maxSteps: checkLimit('maxSteps', options.limits?.maxSteps ?? DEFAULT_LIMITS.maxSteps),
    runTimeoutMs: checkLimit('runTimeoutMs', options.limits?.runTimeoutMs ?? DEFAULT_LIMITS.runTimeoutMs),
  };
  const deps = { plugins, sink: options.sink, limits, logger: options.logger, flows: new FlowCache() };

  return {
    plugins,
    register,
    validate: (definition, opts) => validateFlow(definition, plugins, new Set(opts.secretNames)),
    run: (opts) => executeRun(deps, opts),
  };
}
