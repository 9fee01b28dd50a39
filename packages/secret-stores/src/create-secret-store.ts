// Builds a SecretStore from a definition `{ name, type, config, cacheTtlS? }`: validates it
// with the zod schemas, applies defaults, then hands the typed config to the implementation.
// An invalid definition fails with STORE_CONFIG_INVALID naming the field, never its value.
import { createAwsSecretsManagerStore } from './aws-secrets-manager-store';
import { SecretStoreError } from './secret-store-error';
import type { SecretStore } from './secret-store';
import { storeDefinitionSchema, storeNameSchema, type StoreDefinition } from './store-config';
import { createVaultStore } from './vault-store';

export interface CreateSecretStoreOptions {
  /** Clock for the Vault AppRole lease (tests). */
  now?: () => number;
}

/** Validates a store definition; throws SecretStoreError STORE_CONFIG_INVALID. */
export function parseStoreDefinition(input: unknown): StoreDefinition {
  const parsed = storeDefinitionSchema.safeParse(input);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues
    .slice(0, 5)
    .map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : 'definition'}: ${issue.message}`)
    .join('; ');
  const name = (input as { name?: unknown } | null)?.name;
  const named = storeNameSchema.safeParse(name).success ? (name as string) : undefined;
  throw new SecretStoreError(
    'STORE_CONFIG_INVALID',
    `${named === undefined ? 'store' : `store ${named}`} is not configured correctly: ${problems}`,
    named === undefined ? {} : { store: named },
  );
}

/** A ready store for a definition `{ name, type, config, cacheTtlS? }` (cacheTtlS defaults to 300). */
export function createSecretStore(input: unknown, options: CreateSecretStoreOptions = {}): SecretStore {
  const def = parseStoreDefinition(input);
  if (def.type === 'vault')
    return createVaultStore({
      name: def.name,
      config: def.config,
      cacheTtlS: def.cacheTtlS,
      ...(options.now ? { now: options.now } : {}),
    });
  return createAwsSecretsManagerStore({ name: def.name, config: def.config, cacheTtlS: def.cacheTtlS });
}
