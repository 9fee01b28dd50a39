// @flowsafe/sandbox public API: the `function` block plugin on isolated-vm (SPEC §3 invariant 7).
export {
  createFunctionBlockPlugin,
  disposeSandbox,
  functionConfigSchema,
  type FunctionBlockConfig,
  type FunctionBlockPlugin,
  type FunctionBlockPluginOptions,
} from './function-block-plugin';
export { IsolatePool, type IsolatePoolOptions } from './host/isolate-pool';
export { LIMITS } from './host/limits';
export { SandboxError, type SandboxErrorCode } from './sandbox-error';
export { validateFunctionCode, type CodeProblem } from './validate-function-code';
