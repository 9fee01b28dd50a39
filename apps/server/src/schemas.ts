// The zod schemas of every request body and query of the HTTP API. They validate input at the
// edge and are the single source of the OpenAPI document (openapi.ts), so the editor and any
// other client read the same shapes the server enforces. Objects are strict: an unknown field
// is a 400, not silently ignored.
import { z } from 'zod';
import { secretSourceSchema, storeDefinitionSchema } from '@flowsafe/secret-stores';
import { secretCreateSchema, secretNameSchema, secretTypeSchema, visibilitySchema } from '@flowsafe/secrets';

/** A display name (workspace, project, flow, member): 1–100 printable characters. */
export const displayName = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(100, 'must be at most 100 characters')
  // eslint-disable-next-line no-control-regex
  .regex(/^[^\u0000-\u001f\u007f]+$/, 'must not contain control characters');

export const roleSchema = z.enum(['owner', 'admin', 'editor', 'viewer']);

/** Environment names; `default` is the reserved key of the value used when no override exists. */
export const environmentName = z
  .string()
  .regex(
    /^[a-z][a-z0-9_-]{0,31}$/,
    'environment names are lowercase letters, digits, _ or -, starting with a letter (max 32)',
  )
  .refine((n) => n !== 'default', "'default' is reserved for the value used in every environment");

/** An environment name or `default` (the value used when an environment has no override). */
export const environmentKey = z.union([z.literal('default'), environmentName]);

/** Setting names follow secret names, so a setting can become a secret and back. */
export const settingNameSchema = secretNameSchema;
export { secretCreateSchema, secretNameSchema, secretTypeSchema, secretSourceSchema, visibilitySchema };

/** A secret whose value lives in an external store (SPEC §12): `source` instead of values; always restricted. */
export const externalSecretCreateSchema = z.strictObject({
  name: secretNameSchema,
  type: secretTypeSchema,
  visibility: visibilitySchema.optional(),
  source: secretSourceSchema,
  allowedHosts: z.array(z.string()).max(100).optional(),
  description: z.string().max(1000).optional(),
});

/** POST /api/workspaces/:ws/secret-stores: `{ name, type, config, cacheTtlS? }` (credentials inside config). */
export { storeDefinitionSchema };
/** PATCH of a store: top-level config fields replace the current ones; credentials left out are kept. */
export const storePatchSchema = z
  .strictObject({
    config: z.record(z.string(), z.unknown()).optional(),
    cacheTtlS: z.number().int().min(0).max(86_400).optional(),
  })
  .refine((v) => v.config !== undefined || v.cacheTtlS !== undefined, 'send config and/or cacheTtlS');

export const workspaceCreateSchema = z.strictObject({ name: displayName });

export const memberCreateSchema = z.union([
  z.strictObject({ name: displayName, role: roleSchema }),
  z.strictObject({ userId: z.string().min(1).max(100), role: roleSchema }),
]);
export const memberUpdateSchema = z.strictObject({ role: roleSchema });

export const projectCreateSchema = z.strictObject({ name: displayName });
export const projectPatchSchema = z.strictObject({
  name: displayName.optional(),
  policy: z.strictObject({ requireAllowedHosts: z.boolean() }).optional(),
});
export const duplicateSchema = z.strictObject({ name: displayName });
export const environmentCreateSchema = z.strictObject({ name: environmentName });

export const allowedHostsSchema = z.array(z.string()).max(100);

/** PATCH of a secret; `value` is checked against the secret's type, `null` clears a field. */
export const secretPatchSchema = z.strictObject({
  value: z.unknown().optional(),
  visibility: visibilitySchema.optional(),
  allowedHosts: z.union([z.array(z.string()).max(100), z.null()]).optional(),
  description: z.union([z.string().max(1000), z.null()]).optional(),
  /** keep the value in an external store (stored values are dropped), or `null` to keep it in flowsafe */
  source: z.union([secretSourceSchema, z.null()]).optional(),
});
export const overridePutSchema = z.strictObject({ value: z.unknown() });
export const revealSchema = z.strictObject({ environment: environmentKey.optional() });
export const deleteSecretQuery = z.object({
  confirm: z.string().optional(),
  force: z.enum(['true', 'false']).optional(),
});
export const makeSettingQuery = z.object({ force: z.enum(['true', 'false']).optional() });
export const secretsListQuery = z.object({
  search: z.string().max(100).optional(),
  type: secretTypeSchema.optional(),
});

export const settingValue = z.string().max(64 * 1024, 'setting values are limited to 64 KiB');
export const settingPutSchema = z.strictObject({
  value: settingValue.optional(),
  environments: z.record(environmentName, settingValue).optional(),
});
export const makeSecretSchema = z.strictObject({
  visibility: visibilitySchema.default('masked'),
  allowedHosts: z.array(z.string()).max(100).optional(),
  description: z.string().max(1000).optional(),
});

export const flowDefinitionInput = z.record(z.string(), z.unknown());
export const flowCreateSchema = z.strictObject({ name: displayName, definition: flowDefinitionInput });
export const flowPutSchema = z
  .strictObject({ name: displayName.optional(), definition: flowDefinitionInput.optional() })
  .refine((v) => v.name !== undefined || v.definition !== undefined, 'send name and/or definition');

export const runCreateSchema = z.strictObject({
  environment: environmentName,
  input: z.record(z.string(), z.unknown()).optional(),
  waitMs: z.number().int().min(0).max(300_000).optional(),
});

const limit = z.coerce.number().int().min(1).max(100).default(20);
const cursor = z.string().max(200).optional();
export const pageQuery = z.object({ limit, cursor });

/** Export bundle (SPEC §9). */
export const bundleSchema = z.strictObject({
  format: z.literal('flowsafe.project'),
  version: z.literal(1),
  exportedAt: z.string().max(100).optional(),
  project: z.strictObject({
    name: displayName,
    environments: z.array(environmentName).max(50).optional(),
    policy: z.strictObject({ requireAllowedHosts: z.boolean() }).optional(),
  }),
  settings: z
    .array(z.strictObject({ name: settingNameSchema, values: z.record(environmentKey, settingValue) }))
    .max(1000)
    .default([]),
  secrets: z
    .array(
      z.strictObject({
        name: secretNameSchema,
        type: secretTypeSchema,
        visibility: visibilitySchema,
        allowedHosts: z.array(z.string()).max(100).optional(),
        description: z.string().max(1000).optional(),
        hadValues: z.array(environmentKey).max(51).default([]),
        source: secretSourceSchema.optional(),
      }),
    )
    .max(1000)
    .default([]),
  flows: z
    .array(z.strictObject({ name: displayName, definition: flowDefinitionInput }))
    .max(1000)
    .default([]),
});
export type Bundle = z.infer<typeof bundleSchema>;
export const importQuery = z.object({ name: displayName.optional() });
