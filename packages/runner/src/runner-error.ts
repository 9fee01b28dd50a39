// One error base class for the runner, so callers (the server's code → HTTP status table,
// the queue) can branch on a stable string `code` instead of on messages.

export type RunnerErrorCode =
  | 'FLOW_INVALID'
  | 'STEP_LIMIT'
  | 'RUN_TIMEOUT'
  | 'CANCELLED'
  | 'UNKNOWN_BLOCK_TYPE'
  | 'UNKNOWN_TARGET'
  | 'BLOCK_FAILED'
  | 'DUPLICATE_PLUGIN';

export class RunnerError extends Error {
  override readonly name = 'RunnerError';
  readonly code: RunnerErrorCode;

  constructor(code: RunnerErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}
