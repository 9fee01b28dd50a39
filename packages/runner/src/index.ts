// @flowsafe/runner: flow schema, executor and the block-plugin interface.
export type {
  BlockContext, BlockDefinition, BlockPlugin, BlockResult, FlowDefinition, RunInfo, RunRecord, RunSink,
  RunStatus, StepRecord, StepRequest, StepStatus, ValidationIssue,
} from './types';
