// The contract between the executor and block plugins. The runner knows no block type by
// name: api, function, set, condition and end are all plugins that implement BlockPlugin.
import type { Redactor } from '@flowsafe/redact';
import type { z } from 'zod';

export interface BlockDefinition {
  id: string;
  type: string;
  next?: string;
  config: unknown;
  /** editor-only layout, ignored by the executor */
  position?: { x: number; y: number };
  label?: string;
}

export interface FlowDefinition {
  name?: string;
  start: string;
  variables?: Record<string, unknown>;
  /** times a run is retried when its worker is lost (SPEC §11); default 0 */
  retries?: number;
  blocks: BlockDefinition[];
}

/** Identity of the run a block executes in; ids only, never values. */
export interface RunInfo {
  runId: string;
  flowId: string;
  projectId: string;
  workspaceId: string;
  environment: string;
  actor?: string;
}

export interface BlockContext {
  run: RunInfo;
  block: { id: string; type: string };
  /** the flow variables as they stand (never holding a secret value) */
  variables: Readonly<Record<string, unknown>>;
  /** the project's settings resolved for the run's environment */
  settings: Readonly<Record<string, string>>;
  /** the project's redactor; plugins register values fetched during the run (OAuth2 tokens) */
  redactor: Redactor;
  /** append a line to the step's logs; the runner redacts it */
  log(...parts: unknown[]): void;
  /** aborted on cancellation and on the run timeout */
  signal: AbortSignal;
  /** epoch ms by which the run must end */
  deadline: number;
}

export interface StepRequest {
  method: string;
  /** the URL template, secrets shown as <secret:NAME>, never a value */
  url: string;
  status?: number;
}

export interface BlockResult {
  /** merged into the flow variables (the runner redacts them first) */
  variables?: Record<string, unknown>;
  /** the next block to run instead of the block's `next` (condition); null ends the run */
  next?: string | null;
  /** ends the run successfully with this output (end block) */
  end?: boolean;
  output?: unknown;
  request?: StepRequest;
}

export interface ValidationIssue {
  /** path inside the flow definition, e.g. ['blocks', 2, 'config', 'url'] */
  path: (string | number)[];
  message: string;
  code: string;
  blockId?: string;
}

export interface BlockPlugin<C = any> {
  type: string;
  configSchema: z.ZodType<C>;
  execute(ctx: BlockContext, config: C): Promise<BlockResult>;
  /** save-time checks beyond the schema (code that does not compile); paths relative to config */
  validate?(config: C): ValidationIssue[] | Promise<ValidationIssue[]>;
  /** secret names the config uses besides <secret:…> text (e.g. auth.secret) */
  secretRefs?(config: C): string[];
  /**
   * block ids this block may continue with besides `next` (condition then/else). A plugin
   * that declares targets picks its continuation itself; `null` in the list means it may end
   * the run there. Used to find loops without an exit at save time.
   */
  targets?(config: C): (string | null)[];
}

export type RunStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';
export type StepStatus = 'running' | 'succeeded' | 'failed' | 'cancelled';

export interface StepRecord {
  blockId: string;
  type: string;
  status: StepStatus;
  startedAt: string;
  durationMs: number;
  request?: StepRequest;
  logs: string[];
  error?: { code: string; message: string };
}

/** SPEC §6 run record; everything in it has passed the redactor. */
export interface RunRecord {
  id: string;
  flowId: string;
  projectId: string;
  environment: string;
  status: RunStatus;
  queuedAt: string;
  startedAt?: string;
  durationMs?: number;
  steps: StepRecord[];
  output?: unknown;
  error?: { code: string; message: string };
  actor?: string;
}

/** Where run records go (apps/server adapts @flowsafe/store's RunsRepo to it). */
export interface RunSink {
  save(record: RunRecord): Promise<void>;
}

// ---- the runner's own API (createRunner); added with the implementation, additive only ----

export type FlowValidationResult =
  { ok: true; definition: FlowDefinition } | { ok: false; issues: ValidationIssue[] };

export interface RunnerLimits {
  /** blocks one run may execute before it fails with STEP_LIMIT (a loop cannot run forever); default 1000 */
  maxSteps: number;
  /** wall-clock limit of a run before it fails with RUN_TIMEOUT; default 300000 */
  runTimeoutMs: number;
}

/** The subset of a pino logger the runner uses (pass createLogger(redactor) from @flowsafe/redact). */
export interface RunnerLogger {
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface RunnerOptions {
  plugins: BlockPlugin[];
  sink?: RunSink;
  limits?: Partial<RunnerLimits>;
  logger?: RunnerLogger;
}

export interface RunOptions {
  definition: FlowDefinition;
  run: RunInfo;
  /** merged over definition.variables */
  input?: Record<string, unknown>;
  /** the project's settings resolved for the run's environment */
  settings?: Record<string, string>;
  /** knows every secret value of the project; a per-run child is fine (OAuth2 tokens) */
  redactor: Redactor;
  /** abort to cancel the run (status 'cancelled') */
  signal?: AbortSignal;
  /** ISO time the run was queued; defaults to its start */
  queuedAt?: string;
  /** called after each step ends, with the step as recorded (already redacted) */
  onStep?(step: StepRecord): void;
}

export interface Runner {
  /** type → plugin; the runner looks blocks up here and knows no type by name */
  readonly plugins: Map<string, BlockPlugin>;
  /** adds a plugin at run time (throws DUPLICATE_PLUGIN if its type is taken) */
  register(plugin: BlockPlugin): void;
  validate(definition: unknown, opts: { secretNames: Iterable<string> }): Promise<FlowValidationResult>;
  /** never rejects for a flow problem: failures end up in the returned (and saved) record */
  run(opts: RunOptions): Promise<RunRecord>;
}
