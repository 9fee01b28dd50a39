// Resolution: the secrets a request uses are opened at the last moment (after the variable
// stage and the egress check), registered with the run's redactor if it does not know them
// yet, and turned into the text of each slot. Nothing here outlives one execution of a block.
import type { Redactor } from '@flowsafe/redact';
import type { BlockContext } from '@flowsafe/runner';
import type { SecretValue } from '@flowsafe/secrets';
import { ApiBlockError } from './errors';
import type { OAuth2Credentials, OAuth2TokenCache } from './oauth2';
import type { Plan } from './plan';
import type { SecretPart } from './template';
import type { SecretAccess, SecretMeta, TlsMaterial } from './types';

export interface ResolveEnv {
  ctx: BlockContext;
  access: SecretAccess;
  tokens: OAuth2TokenCache;
  timeoutMs: number;
}

type Basic = { username: string; password: string };
type Binary = { base64: string; filename?: string };

/** Which field a slot may use, per secret type (SPEC §5). */
const FIELDS: Record<SecretMeta['type'], ReadonlyArray<string | undefined>> = {
  text: [undefined],
  binary: [undefined],
  basic: [undefined, 'username', 'password'],
  oauth2: [undefined, 'clientId'],
};
const AUTH_TYPES: Record<'bearer' | 'basic' | 'oauth2', ReadonlyArray<SecretMeta['type']>> = {
  bearer: ['text', 'oauth2'],
  basic: ['basic'],
  oauth2: ['oauth2'],
};

/** Metadata of every secret the plan uses; unknown names and wrong types/fields are refused. */
export async function describeSecrets(plan: Plan, env: ResolveEnv): Promise<Map<string, SecretMeta>> {
  const metas = new Map<string, SecretMeta>();
  for (const name of plan.secrets) {
    const described = env.access.describe(env.ctx.run, name);
    const meta = described instanceof Promise ? await described : described;
    if (!meta) throw new ApiBlockError('SECRET_UNKNOWN', `secret ${name} does not exist in this project`);
    metas.set(name, meta);
  }
  for (const slot of plan.slots) {
    const meta = metas.get(slot.name)!;
    if (!FIELDS[meta.type].includes(slot.field)) {
      const shown = slot.field ? `<secret:${slot.name}.${slot.field}>` : `<secret:${slot.name}>`;
      throw new ApiBlockError('SECRET_FIELD_INVALID', `${shown} cannot be used with a ${meta.type} secret`);
    }
  }
  if (plan.auth) {
    const meta = metas.get(plan.auth.secret)!;
    if (!AUTH_TYPES[plan.auth.type].includes(meta.type)) {
      throw new ApiBlockError(
        'SECRET_FIELD_INVALID',
        `auth ${plan.auth.type} needs a ${AUTH_TYPES[plan.auth.type].join(' or ')} secret; ${meta.name} is ${meta.type}`,
      );
    }
  }
  for (const name of [plan.tls?.cert, plan.tls?.key, plan.tls?.ca]) {
    if (name && metas.get(name)!.type !== 'binary') {
      throw new ApiBlockError(
        'SECRET_FIELD_INVALID',
        `tls needs binary secrets (PEM files); ${name} is not binary`,
      );
    }
  }
  return metas;
}

/** The opened values of one execution and the OAuth2 tokens it uses. */
export class Resolution {
  private readonly values = new Map<string, SecretValue>();
  private readonly tokens = new Map<string, { key: string; token: string }>();
  private readonly needsToken = new Set<string>();

  constructor(
    private readonly env: ResolveEnv,
    private readonly metas: ReadonlyMap<string, SecretMeta>,
    plan: Plan,
  ) {
    for (const slot of plan.slots)
      if (slot.field === undefined && metas.get(slot.name)!.type === 'oauth2') this.needsToken.add(slot.name);
    if (plan.auth && metas.get(plan.auth.secret)!.type === 'oauth2') this.needsToken.add(plan.auth.secret);
  }

  has(name: string): boolean {
    return this.values.has(name);
  }

  get usesTokens(): boolean {
    return this.tokens.size > 0;
  }

  /** Open these secrets (in parallel), fetching OAuth2 tokens where one is needed. */
  async open(names: Iterable<string>): Promise<void> {
    const pending: Promise<void>[] = [];
    for (const name of names) if (!this.values.has(name)) pending.push(this.openOne(name));
    if (pending.length === 1) await pending[0];
    else if (pending.length > 1) await Promise.all(pending);
  }

  private async openOne(name: string): Promise<void> {
    const { ctx, access } = this.env;
    const meta = this.metas.get(name)!;
    let value: SecretValue;
    try {
      value = await access.open(ctx.run, name);
    } catch (err) {
      const e = err as { code?: unknown; message?: unknown };
      if (typeof e?.code === 'string' && /^[A-Z][A-Z0-9_]+$/.test(e.code) && typeof e.message === 'string') {
        throw new ApiBlockError(e.code, e.message);
      }
      throw new ApiBlockError(
        'SECRET_OPEN_FAILED',
        `secret ${name} could not be opened for environment ${ctx.run.environment}`,
      );
    }
    if (!hasShape(meta.type, value)) {
      throw new ApiBlockError('SECRET_OPEN_FAILED', `secret ${name} does not hold a ${meta.type} value`);
    }
    ensureKnown(ctx.redactor, name, meta.type, value);
    this.values.set(name, value);
    if (this.needsToken.has(name)) await this.fetchToken(name);
  }

  private async fetchToken(name: string): Promise<void> {
    const { ctx, tokens, timeoutMs } = this.env;
    const cred = this.values.get(name) as OAuth2Credentials;
    const key = tokens.key(ctx.run.projectId, ctx.run.environment, name, cred);
    const token = await tokens.get(key, name, cred, {
      redactor: ctx.redactor,
      signal: ctx.signal,
      timeoutMs,
    });
    this.tokens.set(name, { key, token });
  }

  /** After a 401: drop the tokens this request used and fetch new ones. */
  async refreshTokens(): Promise<void> {
    const names = [...this.tokens.keys()];
    for (const [, { key, token }] of this.tokens) this.env.tokens.invalidate(key, token);
    await Promise.all(names.map((n) => this.fetchToken(n)));
  }

  /** The text of a `<secret:NAME>` / `<secret:NAME.field>` slot. */
  text(slot: Pick<SecretPart, 'name' | 'field'>): string {
    const value = this.values.get(slot.name);
    if (value === undefined) throw new Error(`secret ${slot.name} used before it was opened`);
    if (typeof value === 'string') return value;
    if ('base64' in value) return value.base64;
    if ('password' in value) {
      if (slot.field === 'username') return value.username;
      if (slot.field === 'password') return value.password;
      return basicToken(value);
    }
    if (slot.field === 'clientId') return value.clientId;
    return this.tokens.get(slot.name)!.token;
  }

  /** The Authorization header of block-level auth. */
  authorization(auth: NonNullable<Plan['auth']>): string {
    const value = this.values.get(auth.secret)!;
    if (auth.type === 'basic') return `Basic ${basicToken(value as Basic)}`;
    return `Bearer ${this.text({ name: auth.secret, field: undefined })}`;
  }

  /** PEM material for mutual TLS from binary secrets. */
  tls(tls: NonNullable<Plan['tls']>): TlsMaterial {
    const pem = (name: string | undefined): string | undefined =>
      name === undefined
        ? undefined
        : Buffer.from((this.values.get(name) as Binary).base64, 'base64').toString('utf8');
    const out: TlsMaterial = {};
    const cert = pem(tls.cert);
    const key = pem(tls.key);
    const ca = pem(tls.ca);
    if (cert !== undefined) out.cert = cert;
    if (key !== undefined) out.key = key;
    if (ca !== undefined) out.ca = ca;
    return out;
  }
}

function basicToken(v: Basic): string {
  return Buffer.from(`${v.username}:${v.password}`).toString('base64');
}

function hasShape(type: SecretMeta['type'], v: SecretValue): boolean {
  if (type === 'text') return typeof v === 'string';
  if (typeof v !== 'object' || v === null) return false;
  if (type === 'binary') return typeof (v as Binary).base64 === 'string';
  if (type === 'basic')
    return typeof (v as Basic).username === 'string' && typeof (v as Basic).password === 'string';
  const o = v as Partial<OAuth2Credentials>;
  return (
    typeof o.clientId === 'string' && typeof o.clientSecret === 'string' && typeof o.tokenUrl === 'string'
  );
}

/** The run's redactor should know every project value already; make sure of the ones we send
 *  (one lookup per value; the redactor's own registration covers every field and encoding). */
function ensureKnown(r: Redactor, name: string, type: SecretMeta['type'], v: SecretValue): void {
  const probe =
    type === 'text'
      ? (v as string)
      : type === 'basic'
        ? (v as Basic).password
        : type === 'oauth2'
          ? (v as OAuth2Credentials).clientSecret
          : (v as Binary).base64;
  if (r.has(probe)) return;
  try {
    r.addSecret(name, v as Parameters<Redactor['addSecret']>[1]);
  } catch {
    // values under 4 characters cannot be masked; @flowsafe/secrets refuses them at creation
  }
}
