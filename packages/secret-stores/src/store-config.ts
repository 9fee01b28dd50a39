// Store configuration as zod schemas (SPEC §12), validated at the edge, plus the list of
// fields that are credentials so the server can seal them, never return them and merge
// them back when an owner edits the rest of the configuration.
import { z } from 'zod';
import type { SecretStoreType } from './secret-store';

export const storeNameSchema = z.string().regex(/^[A-Za-z][A-Za-z0-9_-]{0,63}$/, {
  error: 'store names start with a letter, then up to 63 letters, digits, _ or - (e.g. vault-prod)',
});

export const storeTypeSchema = z.enum(['vault', 'aws-secrets-manager']);

const credential = (field: string) =>
  z
    .string()
    .min(4, { error: `${field} must be at least 4 characters` })
    .max(4096);

const httpUrl = (field: string) =>
  z
    .url({
      protocol: /^https?$/,
      error: `${field} must be an http(s) URL such as https://vault.internal:8200`,
    })
    .refine((u) => !new URL(u).username && !new URL(u).password, {
      error: `${field} must not contain a user name or password; put credentials in auth`,
    })
    .refine((u) => !new URL(u).search && !new URL(u).hash, {
      error: `${field} must not contain a query or fragment`,
    });

const SEGMENTS = /^[A-Za-z0-9_.-]+(?:\/[A-Za-z0-9_.-]+)*$/;

export const vaultConfigSchema = z.strictObject({
  address: httpUrl('address'),
  mount: z
    .string()
    .regex(SEGMENTS, { error: 'mount is a KV v2 mount path such as secret or kv/team' })
    .refine((m) => !m.split('/').some((s) => s === '.' || s === '..'), {
      error: 'mount must not contain . or ..',
    })
    .default('secret'),
  auth: z.discriminatedUnion('method', [
    z.strictObject({ method: z.literal('token'), token: credential('token') }),
    z.strictObject({
      method: z.literal('approle'),
      roleId: z.string().min(1).max(256),
      secretId: credential('secretId'),
    }),
  ]),
  namespace: z
    .string()
    .regex(SEGMENTS, { error: 'namespace is a Vault namespace path such as team/a' })
    .optional(),
  timeoutMs: z.number().int().min(100).max(120_000).default(10_000),
});
export type VaultConfigInput = z.input<typeof vaultConfigSchema>;
export type VaultConfig = z.output<typeof vaultConfigSchema>;

export const awsSecretsManagerConfigSchema = z.strictObject({
  region: z
    .string()
    .regex(/^[a-z]{2}(?:-[a-z]+)+-\d{1,2}$/, { error: 'region is an AWS region such as eu-west-1' }),
  endpoint: httpUrl('endpoint').optional(),
  credentials: z
    .strictObject({
      accessKeyId: z
        .string()
        .regex(/^[A-Z0-9]{16,128}$/, { error: 'accessKeyId looks like AKIA… (16-128 letters/digits)' }),
      secretAccessKey: credential('secretAccessKey'),
      sessionToken: credential('sessionToken').optional(),
    })
    .optional(),
  timeoutMs: z.number().int().min(100).max(120_000).default(10_000),
});
export type AwsSecretsManagerConfigInput = z.input<typeof awsSecretsManagerConfigSchema>;
export type AwsSecretsManagerConfig = z.output<typeof awsSecretsManagerConfigSchema>;

/** Default seconds a fetched value is kept in memory (SPEC §12). */
export const DEFAULT_CACHE_TTL_S = 300;

const base = {
  name: storeNameSchema,
  cacheTtlS: z.number().int().min(0).max(86_400).default(DEFAULT_CACHE_TTL_S),
};

/** A store definition as the API receives it: `{ name, type, config, cacheTtlS? }`. */
export const storeDefinitionSchema = z.discriminatedUnion('type', [
  z.strictObject({ ...base, type: z.literal('vault'), config: vaultConfigSchema }),
  z.strictObject({ ...base, type: z.literal('aws-secrets-manager'), config: awsSecretsManagerConfigSchema }),
]);
export type StoreDefinitionInput = z.input<typeof storeDefinitionSchema>;
export type StoreDefinition = z.output<typeof storeDefinitionSchema>;

const CREDENTIALS: Record<SecretStoreType, { parent: string; fields: readonly string[] }> = {
  vault: { parent: 'auth', fields: ['token', 'secretId'] },
  'aws-secrets-manager': { parent: 'credentials', fields: ['secretAccessKey', 'sessionToken'] },
};

/**
 * The config fields of a store type that are credentials: vault → token (token auth) or
 * secretId (AppRole), both under `auth`; aws-secrets-manager → secretAccessKey and
 * sessionToken under `credentials`. Pass the config to get only the fields it uses
 * (['token'], ['secretId'], ['secretAccessKey', 'sessionToken']).
 */
export function credentialFields(type: SecretStoreType, config?: unknown): string[] {
  const { fields } = CREDENTIALS[type];
  if (config === undefined) return [...fields];
  if (type === 'vault') {
    const method = (config as { auth?: { method?: unknown } }).auth?.method;
    if (method === 'token') return ['token'];
    if (method === 'approle') return ['secretId'];
    return [...fields];
  }
  return [...fields];
}

/** Where the credential fields of a store type live inside its config (`auth`, `credentials`). */
export function credentialParent(type: SecretStoreType): string {
  return CREDENTIALS[type].parent;
}

export interface SplitConfig {
  /** The config without any credential: safe to store in plain text and to return. */
  publicConfig: Record<string, unknown>;
  /** field → value of each credential present (to be sealed). */
  credentials: Record<string, string>;
}

/** Takes the credentials out of a (validated) config so the server can seal them apart. */
export function splitCredentials(type: SecretStoreType, config: Record<string, unknown>): SplitConfig {
  const { parent, fields } = CREDENTIALS[type];
  const publicConfig: Record<string, unknown> = { ...config };
  const credentials: Record<string, string> = {};
  const holder = config[parent];
  if (holder && typeof holder === 'object') {
    const rest: Record<string, unknown> = { ...(holder as Record<string, unknown>) };
    for (const field of fields) {
      const value = rest[field];
      if (typeof value === 'string') credentials[field] = value;
      delete rest[field];
    }
    publicConfig[parent] = rest;
  }
  return { publicConfig, credentials };
}

/** The inverse of splitCredentials: puts (unsealed) credentials back into a public config. */
export function mergeCredentials(
  type: SecretStoreType,
  publicConfig: Record<string, unknown>,
  credentials: Record<string, string>,
): Record<string, unknown> {
  const { parent, fields } = CREDENTIALS[type];
  const present = fields.filter((f) => credentials[f] !== undefined);
  if (present.length === 0) return { ...publicConfig };
  const holder = publicConfig[parent];
  const merged: Record<string, unknown> = { ...(holder && typeof holder === 'object' ? holder : {}) };
  for (const field of present) merged[field] = credentials[field];
  return { ...publicConfig, [parent]: merged };
}
