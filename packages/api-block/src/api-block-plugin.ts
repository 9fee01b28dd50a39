// The API block plugin: one visible path per request, each step its own module —
// template/plan (variables) → egress (allowedHosts) → resolve (open values) → compose (values
// in place) → dispatch (undici, redirects) → scrub (redactor). A non-2xx answer is not a step
// error: the flow gets `{ status, headers, body }` and can branch on the status; network
// failures, timeouts and refusals are step errors with stable codes.
import type { BlockContext, BlockPlugin, BlockResult, StepRequest, ValidationIssue } from '@flowsafe/runner';
import { Agent, type Dispatcher } from 'undici';
import { composeRequest, composeUrl } from './compose';
import { type ApiBlockConfig, apiBlockConfigSchema } from './config-schema';
import { dispatchRequest, type RawResponse } from './dispatch';
import { checkEgress, checkOriginSecret } from './egress';
import { ApiBlockError } from './errors';
import { OAuth2TokenCache } from './oauth2';
import { compilePlan, getPlan, type Plan, renderPlan } from './plan';
import { describeSecrets, Resolution, type ResolveEnv } from './resolve';
import { type ScrubbedResponse, scrubError, scrubResponse } from './scrub';
import type { SecretPart } from './template';
import type { ApiBlockOptions, SecretMeta, TlsMaterial } from './types';

export const DEFAULT_MAX_RESPONSE_BYTES = 10 * 1024 * 1024;
export const DEFAULT_MAX_REDIRECTS = 5;

export interface ApiBlockPlugin extends BlockPlugin<ApiBlockConfig> {
  /** closes the default keep-alive agent (not a dispatcher passed in options) */
  close(): Promise<void>;
}

const NO_SECRETS: ReadonlyMap<string, SecretMeta> = new Map();

/** The `api` block type. The server passes SecretAccess, audit and the egress guard's agent. */
export function createApiBlockPlugin(options: ApiBlockOptions): ApiBlockPlugin {
  const maxResponseBytes = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  const maxRedirects = options.maxRedirects ?? DEFAULT_MAX_REDIRECTS;
  let ownAgent: Agent | undefined;
  const dispatcher = (): Dispatcher =>
    options.dispatcher ?? (ownAgent ??= new Agent({ keepAliveTimeout: 10_000, keepAliveMaxTimeout: 60_000 }));
  const tlsDispatcher = options.tlsDispatcher ?? ((tls: TlsMaterial) => new Agent({ connect: tls }));
  const tokens = new OAuth2TokenCache(dispatcher);

  async function perform(ctx: BlockContext, plan: Plan, record: StepRequest): Promise<ScrubbedResponse> {
    const scope = { variables: ctx.variables, settings: ctx.settings };
    const rendered = renderPlan(plan, scope);
    const timeoutMs = Math.max(1, Math.min(plan.timeoutMs, ctx.deadline - Date.now()));
    const env: ResolveEnv = { ctx, access: options.secrets, tokens, timeoutMs };
    const metas = plan.secrets.length > 0 ? await describeSecrets(plan, env) : NO_SECRETS;
    const res = new Resolution(env, metas, plan);

    // A secret in the host part decides the host: open it now (still before any byte is sent),
    // and only if its allowedHosts will judge the result.
    if (plan.originSecrets.length > 0) {
      for (const slot of plan.originSecrets) checkOriginSecret(metas.get(slot.name)!);
      await res.open(plan.originSecrets.map((s) => s.name));
    }
    const placeholder = (slot: SecretPart): string => (res.has(slot.name) ? res.text(slot) : 'x');
    const checked = composeUrl(plan, rendered, placeholder);
    checkEgress(checked, metas.values());

    await res.open(plan.secrets);
    if (options.audit) {
      for (const secret of plan.secrets) {
        options.audit({ run: ctx.run, secret, environment: ctx.run.environment, blockId: ctx.block.id });
      }
    }
    const url = plan.urlHasSecrets ? composeUrl(plan, rendered, (slot) => res.text(slot)) : checked;
    if (url.origin !== checked.origin) {
      throw new ApiBlockError(
        'EGRESS_HOST_NOT_ALLOWED',
        'a secret value changed the host of the URL; refused',
      );
    }

    const tls = plan.tls ? tlsDispatcher(res.tls(plan.tls)) : undefined;
    const tlsSecrets = plan.tls
      ? [plan.tls.cert, plan.tls.key, plan.tls.ca].filter((n): n is string => !!n)
      : [];
    const send = (): Promise<RawResponse> =>
      dispatchRequest(
        {
          ...composeRequest(plan, rendered, scope, res, url),
          dispatcher: tls ?? dispatcher(),
          dispatcherSecrets: tlsSecrets,
        },
        {
          plainDispatcher: dispatcher(),
          timeoutMs,
          signal: ctx.signal,
          maxRedirects,
          maxResponseBytes,
          checkHop: (hop, carried) =>
            checkEgress(
              hop,
              carried.map((n) => metas.get(n)!),
            ),
          log: (line) => ctx.log(ctx.redactor.redact(line)),
        },
      );
    try {
      let raw = await send();
      if (raw.status === 401 && res.usesTokens) {
        ctx.log('401 with an OAuth2 access token: fetching a new token and retrying once');
        await res.refreshTokens();
        raw = await send();
      }
      record.status = raw.status;
      return scrubResponse(ctx.redactor, raw);
    } finally {
      if (tls) void tls.close().catch(() => undefined);
    }
  }

  return {
    type: 'api',
    configSchema: apiBlockConfigSchema,

    validate(config: ApiBlockConfig): ValidationIssue[] {
      const issues: ValidationIssue[] = [];
      compilePlan(config, issues);
      return issues;
    },

    secretRefs(config: ApiBlockConfig): string[] {
      const names = [config.auth?.secret, config.tls?.cert, config.tls?.key, config.tls?.ca];
      return [...new Set(names.filter((n): n is string => !!n))];
    },

    async execute(ctx: BlockContext, config: ApiBlockConfig): Promise<BlockResult> {
      let record: StepRequest | undefined;
      try {
        const plan = getPlan(config);
        record = { method: plan.record.method, url: plan.record.url };
        const response = await perform(ctx, plan, record);
        const result: BlockResult = { request: record };
        if (plan.saveAs) result.variables = { [plan.saveAs]: response };
        return result;
      } catch (err) {
        const scrubbed = scrubError(ctx.redactor, err);
        if (record) scrubbed.request = record;
        throw scrubbed;
      }
    },

    async close(): Promise<void> {
      await ownAgent?.close();
      ownAgent = undefined;
    },
  };
}
