// One error base class for the sandbox, so the runner and the server branch on a stable `code`
// (FUNCTION_TIMEOUT, FUNCTION_MEMORY_LIMIT, …) instead of on isolated-vm's message text.

export type SandboxErrorCode =
  /** the user code threw (or rejected); the message is the thrown error's, redacted by the runner */
  | 'FUNCTION_THREW'
  /** CPU/wall time limit (timeoutMs or the run's deadline) reached; the isolate is disposed */
  | 'FUNCTION_TIMEOUT'
  /** the isolate hit its memoryMb limit; the isolate is disposed */
  | 'FUNCTION_MEMORY_LIMIT'
  /** the returned value serialises to more than maxOutputBytes */
  | 'FUNCTION_OUTPUT_TOO_LARGE'
  /** the returned value is not JSON-serialisable (function, symbol, bigint, cycle) */
  | 'FUNCTION_RESULT_NOT_JSON'
  /** the returned value is not a plain object and no saveAs was given */
  | 'FUNCTION_RESULT_NOT_OBJECT'
  /** the code does not compile as an async function body */
  | 'FUNCTION_COMPILE_ERROR'
  /** the run was cancelled while the function ran */
  | 'FUNCTION_CANCELLED'
  /** the input variables could not be serialised to JSON */
  | 'FUNCTION_INPUT_NOT_JSON'
  /** the sandbox was closed (shutdown) */
  | 'SANDBOX_CLOSED'
  /** isolated-vm failed in a way that is not the user's code's fault */
  | 'SANDBOX_FAILURE';

export class SandboxError extends Error {
  override readonly name = 'SandboxError';
  readonly code: SandboxErrorCode;
  /** the block whose function failed, when known */
  readonly blockId: string | undefined;

  constructor(code: SandboxErrorCode, message: string, options?: { blockId?: string; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.blockId = options?.blockId;
  }
}
