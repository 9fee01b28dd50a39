// @flowsafe/runner: flow schema, executor and the block-plugin interface.
export type {
  BlockContext,
  BlockDefinition,
  BlockPlugin,
  BlockResult,
  FlowDefinition,
  FlowValidationResult,
  RunInfo,
  Runner,
  RunnerLimits,
  RunnerLogger,
  RunnerOptions,
  RunOptions,
  RunRecord,
  RunSink,
  RunStatus,
  StepRecord,
  StepRequest,
  StepStatus,
  ValidationIssue,
} from './types';
export { createRunner, DEFAULT_LIMITS } from './create-runner';
export { executeRun, MAX_LOG_LINE_CHARS, MAX_LOG_LINES } from './execute-run';
export { blockDefinitionSchema, blockIdSchema, flowDefinitionSchema } from './flow-schema';
export { RunnerError, type RunnerErrorCode } from './runner-error';
export { findSecretRefs, SECRET_PLACEHOLDER_PATTERN, type SecretRef } from './secret-refs';
export { getPath, renderTemplate, renderTemplateValue, type TemplateScope } from './template';
export { validateFlow } from './validate-flow';
export { builtinPlugins } from './plugins/builtin-plugins';
export {
  conditionConfigSchema,
  conditionPlugin,
  evaluateCondition,
  type ConditionConfig,
} from './plugins/condition-plugin';
export { endConfigSchema, endPlugin, type EndConfig } from './plugins/end-plugin';
export { setConfigSchema, setPlugin, type SetConfig } from './plugins/set-plugin';
export { isoAt, isoNow } from './iso-time';
