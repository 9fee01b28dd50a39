// The executor: walks a flow from its start block, one block at a time, and records each
// step. It is the one place where plugin results become flow variables, logs and run
// records, so it is where the redactor is applied to all of them (invariants 5 and 6).
//
// Output: the end block's output; a flow that ends without an end block (a block with no
// `next`, or a branch left empty) outputs its final variables.
import type { Redactor } from '@flowsafe/redact';
import { FlowCache, parseBlockConfig } from './flow-cache';
import { isoAt, isoNow } from './iso-time';
import { RunnerError } from './runner-error';
import type {
  BlockContext,
  BlockPlugin,
  BlockResult,
  RunnerLimits,
  RunnerLogger,
  RunOptions,
  RunRecord,
  RunSink,
  StepRecord,
} from './types';

export interface ExecutorDeps {
  plugins: ReadonlyMap<string, BlockPlugin>;
  sink?: RunSink | undefined;
  limits: RunnerLimits;
  logger?: RunnerLogger | undefined;
  /** parsed definitions kept between runs (createRunner passes one per runner) */
  flows?: FlowCache | undefined;
}

/** for executeRun called without a cache of its own */
const sharedFlows = new FlowCache({ maxEntries: 64 });

/** A step keeps at most this many log lines of at most this many characters (records stay small). */
export const MAX_LOG_LINES = 200;
export const MAX_LOG_LINE_CHARS = 8192;

function roundMs(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}

function messageOf(err: unknown): string {
  if (err instanceof Error) return err.message;
  if (typeof err === 'string') return err;
  try {
    return JSON.stringify(err) ?? String(err);
  } catch {
    return String(err);
  }
}

function codeOf(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code !== '' ? code : 'BLOCK_FAILED';
}

function formatLogPart(part: unknown): string {
  if (typeof part === 'string') return part;
  if (part instanceof Error) return `${part.name}: ${part.message}`;
  if (part === undefined) return 'undefined';
  try {
    return JSON.stringify(part) ?? String(part);
  } catch {
    return String(part);
  }
}

/** Rejects with the signal's reason as soon as it aborts, even if the plugin ignores it. */
function raceAbort<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    promise.catch(() => undefined);
    return Promise.reject(signal.reason as Error);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => {
      promise.catch(() => undefined);
      reject(signal.reason as Error);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err instanceof Error ? err : new Error(messageOf(err)));
      },
    );
  });
}

function cancelReason(reason: unknown): RunnerError {
  const message =
    reason instanceof Error && reason.name !== 'AbortError' && reason.message !== ''
      ? reason.message
      : 'run cancelled';
  return new RunnerError('CANCELLED', message);
}

/** Runs one flow and returns its final, redacted record (also handed to the sink). */
export async function executeRun(deps: ExecutorDeps, opts: RunOptions): Promise<RunRecord> {
  const { run, redactor } = opts;
  const startedAtMs = Date.now();
  const t0 = performance.now();
  const startedAt = isoAt(startedAtMs);
  // Every part of the record is redacted as it is put in (these ids here, then each step's
  // parts, variables and output), so the final record needs a pass of its own only when the
  // redactor learned a value during the run (an access token fetched by a block).
  const version = redactor.version;
  const r = (text: string): string => redactor.redact(text);
  const record: RunRecord = {
    id: r(run.runId),
    flowId: r(run.flowId),
    projectId: r(run.projectId),
    environment: r(run.environment),
    status: 'running',
    queuedAt: r(opts.queuedAt ?? startedAt),
    startedAt,
    steps: [],
  };
  if (run.actor !== undefined) record.actor = r(run.actor);

  const save = async (snapshot: RunRecord): Promise<void> => {
    if (!deps.sink) return;
    try {
      await deps.sink.save(snapshot);
    } catch (err) {
      deps.logger?.error(
        { runId: run.runId, err: redactor.redact(messageOf(err)) },
        'could not save the run record',
      );
    }
  };

  const { runTimeoutMs } = deps.limits;
  const controller = new AbortController();
  const timer = setTimeout(() => {
    controller.abort(
      new RunnerError('RUN_TIMEOUT', `run stopped after its time limit of ${runTimeoutMs} ms`),
    );
  }, runTimeoutMs);
  timer.unref();
  const callerSignal = opts.signal;
  const onCallerAbort = (): void => controller.abort(cancelReason(callerSignal?.reason));
  if (callerSignal?.aborted) onCallerAbort();
  else callerSignal?.addEventListener('abort', onCallerAbort, { once: true });

  // The start snapshot is saved while the blocks run; the final record is saved only after
  // it (same promise chain), so a sink never sees the final record overtaken by the start one.
  const started = save({ ...record, steps: [] });
  try {
    await walk(deps, opts, record, controller.signal, startedAtMs + runTimeoutMs);
  } finally {
    clearTimeout(timer);
    callerSignal?.removeEventListener('abort', onCallerAbort);
  }

  // durations are measured here, from no input: nothing in them to redact
  record.durationMs = roundMs(performance.now() - t0);
  const final = redactor.version === version ? record : redactor.redactJson(record);
  await started;
  await save(final);
  return final;
}

function endFromAbort(record: RunRecord, signal: AbortSignal, redactor: Redactor): void {
  const reason = signal.reason instanceof RunnerError ? signal.reason : cancelReason(signal.reason);
  record.status = reason.code === 'CANCELLED' ? 'cancelled' : 'failed';
  record.error = { code: reason.code, message: redactor.redact(reason.message) };
}

async function walk(
  deps: ExecutorDeps,
  opts: RunOptions,
  record: RunRecord,
  signal: AbortSignal,
  deadline: number,
): Promise<void> {
  const { redactor } = opts;
  const flow = (deps.flows ?? sharedFlows).compile(opts.definition);
  if (!flow.ok) {
    record.status = 'failed';
    record.error = { code: 'FLOW_INVALID', message: redactor.redact(flow.message) };
    return;
  }
  const { definition, blocks } = flow;

  const settings = Object.freeze({ ...opts.settings });
  // frozen: a step's variables are replaced (never changed), so plugins share them without a copy
  let variables: Record<string, unknown> = Object.freeze(
    redactor.redactJson({ ...definition.variables, ...opts.input }),
  );
  let output: unknown = undefined;
  let ended = false;
  let nextId: string | null = definition.start;
  let executed = 0;

  while (nextId !== null) {
    if (signal.aborted) {
      endFromAbort(record, signal, redactor);
      return;
    }
    if (executed >= deps.limits.maxSteps) {
      record.status = 'failed';
      record.error = {
        code: 'STEP_LIMIT',
        message: `run stopped after ${deps.limits.maxSteps} steps (the step limit); check loops for a way out`,
      };
      return;
    }
    const compiled = blocks.get(nextId);
    if (!compiled) {
      record.status = 'failed';
      record.error = { code: 'FLOW_INVALID', message: redactor.redact(`block "${nextId}" does not exist`) };
      return;
    }
    executed += 1;
    const block = compiled.def;

    const step: StepRecord = {
      blockId: redactor.redact(block.id),
      type: redactor.redact(block.type),
      status: 'running',
      startedAt: isoNow(),
      durationMs: 0,
      logs: [],
    };
    record.steps.push(step);
    const s0 = performance.now();
    let open = true;
    let result: BlockResult | undefined;
    try {
      const plugin = deps.plugins.get(block.type);
      if (!plugin) throw new RunnerError('UNKNOWN_BLOCK_TYPE', `unknown block type "${block.type}"`);
      // parsed once per compiled block; later runs take it without a trip through the microtask queue
      const config =
        compiled.config !== undefined && compiled.plugin === plugin
          ? compiled.config
          : await parseBlockConfig(compiled, plugin);
      if (!config.ok) throw new RunnerError('FLOW_INVALID', config.message);
      const ctx: BlockContext = {
        run: opts.run,
        block: { id: block.id, type: block.type },
        variables,
        settings,
        redactor,
        signal,
        deadline,
        log: (...parts: unknown[]) => {
          if (!open) return;
          if (step.logs.length >= MAX_LOG_LINES) {
            if (step.logs.length === MAX_LOG_LINES)
              step.logs.push(`… further log lines dropped (limit ${MAX_LOG_LINES})`);
            return;
          }
          // redact first: cutting first could split a secret so that it is no longer recognised
          const line = redactor.redact(parts.map(formatLogPart).join(' '));
          step.logs.push(line.length > MAX_LOG_LINE_CHARS ? `${line.slice(0, MAX_LOG_LINE_CHARS)}…` : line);
        },
      };
      result = (await raceAbort(plugin.execute(ctx, config.data), signal)) ?? {};
      if (result.request) step.request = redactor.redactJson(result.request);
      if (result.variables)
        variables = Object.freeze({ ...variables, ...redactor.redactJson(result.variables) });
      step.status = 'succeeded';
    } catch (err) {
      if (signal.aborted) {
        const reason = signal.reason instanceof RunnerError ? signal.reason : cancelReason(signal.reason);
        step.status = reason.code === 'CANCELLED' ? 'cancelled' : 'failed';
        step.error = { code: reason.code, message: redactor.redact(reason.message) };
      } else {
        step.status = 'failed';
        step.error = { code: redactor.redact(codeOf(err)), message: redactor.redact(messageOf(err)) };
      }
    } finally {
      open = false;
      step.durationMs = roundMs(performance.now() - s0);
      if (opts.onStep) {
        try {
          opts.onStep(step);
        } catch (err) {
          deps.logger?.warn(
            { runId: opts.run.runId, err: redactor.redact(messageOf(err)) },
            'onStep callback threw',
          );
        }
      }
    }

    if (step.status !== 'succeeded' || !result) {
      record.status = step.status === 'cancelled' ? 'cancelled' : 'failed';
      if (step.error) record.error = step.error;
      return;
    }
    if (result.end) {
      ended = true;
      output = redactor.redactJson(result.output);
      nextId = null;
    } else {
      nextId = result.next !== undefined ? result.next : (block.next ?? null);
    }
  }

  record.status = 'succeeded';
  record.output = ended ? output : variables;
}
