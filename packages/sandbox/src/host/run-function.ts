// One function-block call on a leased isolate: a fresh context, the per-call arguments put on its
// global (input as JSON text, `log` as the only ivm.Callback), the cached guest script run with
// the CPU/wall `timeout`, and a host-side wall-clock guard that disposes the isolate if the call
// outlives timeoutMs + grace (a never-settling promise, anything isolated-vm's timeout missed).
// Everything that crosses back is a string primitive, decoded and size-checked here again.
import ivm from 'isolated-vm';
import {
  buildGuestScript,
  GUEST_ARGS_GLOBAL,
  GUEST_LOG_GLOBAL,
  GUEST_PRELUDE_LINES,
} from '../guest/guest-script';
import { SandboxError } from '../sandbox-error';
import { checkFunctionBody } from '../validate-function-code';
import type { IsolatePool, PooledIsolate } from './isolate-pool';
import { LIMITS } from './limits';

export interface RunFunctionRequest {
  code: string;
  /** the input variables as JSON text */
  inputJson: string;
  timeoutMs: number;
  memoryMb: number;
  maxOutputBytes: number;
  /** receives each log line (already a string, clipped); the caller redacts */
  onLog: (line: string) => void;
  signal?: AbortSignal | undefined;
  /** names the block in error messages, e.g. `function block "shape"` */
  label: string;
  blockId?: string | undefined;
}

export type RunFunctionOutcome = { returned: false } | { returned: true; value: unknown };

type Stop = 'timeout' | 'cancel';

/** Run the user's function body once; throws SandboxError with a stable code on any failure. */
export async function runFunction(pool: IsolatePool, req: RunFunctionRequest): Promise<RunFunctionOutcome> {
  const fail = (code: ConstructorParameters<typeof SandboxError>[0], message: string, cause?: unknown) =>
    new SandboxError(code, message, { blockId: req.blockId, cause });

  const problem = checkFunctionBody(req.code);
  if (problem !== null) {
    const at = problem.line === undefined ? '' : ` (line ${problem.line}, column ${problem.column ?? 1})`;
    throw fail('FUNCTION_COMPILE_ERROR', `${req.label}: code does not compile${at}: ${problem.message}`);
  }
  if (req.signal?.aborted === true) throw fail('FUNCTION_CANCELLED', `${req.label}: the run was cancelled`);

  const lease = await pool.acquire(req.memoryMb, req.signal);
  let reusable = false;
  let stop: Stop | undefined;
  let finished = false;
  let context: ivm.Context | undefined;
  let timer: NodeJS.Timeout | undefined;
  let stopCall: (() => void) | undefined;
  const halt = (why: Stop) => {
    if (stop !== undefined || finished) return;
    stop = why;
    lease.dispose();
    stopCall?.();
  };
  const onAbort = () => halt('cancel');
  req.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const script = await lease.script(req.code, () => buildGuestScript(req.code), {
      filename: 'function.js',
      lineOffset: -GUEST_PRELUDE_LINES,
    });
    context = lease.isolate.createContextSync();
    const global = context.global;
    let lines = 0;
    const hostLog = (line: unknown): void => {
      if (finished || typeof line !== 'string') return;
      lines++;
      try {
        if (lines <= LIMITS.logLinesPerCall)
          req.onLog(line.length > LIMITS.logLineChars ? line.slice(0, LIMITS.logLineChars) : line);
        else if (lines === LIMITS.logLinesPerCall + 1) {
          req.onLog(`log: further lines dropped (at most ${LIMITS.logLinesPerCall} lines per call)`);
        }
      } catch {
        // a failing host logger must not hand a host error (with host stack) to the guest
      }
    };
    global.setIgnored(GUEST_LOG_GLOBAL, new ivm.Callback(hostLog));
    global.setIgnored(
      GUEST_ARGS_GLOBAL,
      `{"m":${req.maxOutputBytes},"l":${LIMITS.logLinesPerCall},"c":${LIMITS.logLineChars},"e":${LIMITS.errorMessageChars},"i":${req.inputJson}}`,
    );
    const stopped = new Promise<never>((_, reject) => {
      stopCall = () => reject(new Error('stopped'));
    });
    timer = setTimeout(() => halt('timeout'), req.timeoutMs + LIMITS.wallGraceMs);
    const raw: unknown = await Promise.race([
      script.run(context, { timeout: req.timeoutMs, promise: true }),
      stopped,
    ]);
    reusable = true;
    return decode(raw, req, fail);
  } catch (err) {
    if (err instanceof SandboxError) throw err;
    throw classify(err, stop, lease, req, fail);
  } finally {
    finished = true;
    clearTimeout(timer);
    req.signal?.removeEventListener('abort', onAbort);
    if (context !== undefined && !lease.disposed) {
      try {
        context.release();
      } catch {
        // the isolate went away meanwhile; nothing left to release
      }
    }
    pool.release(lease, reusable && stop === undefined);
  }
}

function decode(
  raw: unknown,
  req: RunFunctionRequest,
  fail: (code: ConstructorParameters<typeof SandboxError>[0], message: string) => SandboxError,
): RunFunctionOutcome {
  if (typeof raw !== 'string' || raw.length === 0) {
    throw fail('SANDBOX_FAILURE', `${req.label}: the sandbox returned no result`);
  }
  const rest = raw.slice(1);
  switch (raw[0]) {
    case 'R': {
      if (rest.length > req.maxOutputBytes || Buffer.byteLength(rest) > req.maxOutputBytes) {
        throw tooLarge(req, fail);
      }
      return { returned: true, value: JSON.parse(rest) as unknown };
    }
    case 'U':
      return { returned: false };
    case 'T':
      throw fail('FUNCTION_THREW', `${req.label} threw: ${clip(rest, LIMITS.errorMessageChars)}`);
    case 'N':
      throw fail(
        'FUNCTION_RESULT_NOT_JSON',
        `${req.label} returned a value that is not JSON-serialisable (${clip(rest, LIMITS.errorMessageChars)}); return plain objects, arrays, strings, numbers, booleans or null`,
      );
    case 'L':
      throw tooLarge(req, fail);
    default:
      throw fail('SANDBOX_FAILURE', `${req.label}: the sandbox returned an unknown result`);
  }
}

function tooLarge(
  req: RunFunctionRequest,
  fail: (code: 'FUNCTION_OUTPUT_TOO_LARGE', message: string) => SandboxError,
): SandboxError {
  return fail(
    'FUNCTION_OUTPUT_TOO_LARGE',
    `${req.label} returned more than ${req.maxOutputBytes} bytes of JSON (maxOutputBytes); return less or raise the limit (at most ${LIMITS.maxOutputBytes.max})`,
  );
}

function classify(
  err: unknown,
  stop: Stop | undefined,
  lease: PooledIsolate,
  req: RunFunctionRequest,
  fail: (
    code: ConstructorParameters<typeof SandboxError>[0],
    message: string,
    cause?: unknown,
  ) => SandboxError,
): SandboxError {
  const message = err instanceof Error ? err.message : String(err);
  if (stop === 'cancel') return fail('FUNCTION_CANCELLED', `${req.label}: the run was cancelled`);
  if (stop === 'timeout' || /timed out/i.test(message)) {
    return fail(
      'FUNCTION_TIMEOUT',
      `${req.label} did not finish within ${req.timeoutMs} ms (timeoutMs, or the run's remaining time)`,
    );
  }
  if (/memory limit/i.test(message) || lease.disposed) {
    return fail(
      'FUNCTION_MEMORY_LIMIT',
      `${req.label} exceeded its memory limit of ${req.memoryMb} MB (memoryMb, at most ${LIMITS.memoryMb.max})`,
    );
  }
  if (err instanceof SyntaxError) {
    return fail('FUNCTION_COMPILE_ERROR', `${req.label}: code does not compile: ${clip(message, 500)}`);
  }
  return fail('SANDBOX_FAILURE', `${req.label}: ${clip(message, LIMITS.errorMessageChars)}`, err);
}

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}
