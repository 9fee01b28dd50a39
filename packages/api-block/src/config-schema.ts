// The API block's config as stored in a flow definition (SPEC §6), validated with zod at the
// edge: the runner checks it when a flow is saved, so a run never meets a malformed block.
import { z } from 'zod';

const SECRET_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

const secretName = z
  .string()
  .regex(SECRET_NAME, 'a secret name: letters, digits and _, not starting with a digit');

export const methodSchema = z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS']);

const jsonValue: z.ZodType<unknown> = z.lazy(() =>
  z.union([
    z.string(),
    z.number(),
    z.boolean(),
    z.null(),
    z.array(jsonValue),
    z.record(z.string(), jsonValue),
  ]),
);

export const bodySchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('json'), content: jsonValue }),
  z.object({ type: z.literal('form'), content: z.record(z.string(), z.string()) }),
  z.object({ type: z.literal('raw'), content: z.string(), contentType: z.string().optional() }),
]);

export const authSchema = z.object({
  type: z.enum(['bearer', 'basic', 'oauth2']),
  secret: secretName,
});

export const tlsSchema = z.object({
  cert: secretName.optional(),
  key: secretName.optional(),
  ca: secretName.optional(),
});

export const DEFAULT_TIMEOUT_MS = 10_000;
export const MAX_TIMEOUT_MS = 120_000;

export const apiBlockConfigSchema = z.object({
  method: methodSchema,
  url: z.string().min(1, 'the URL is empty'),
  query: z.record(z.string().min(1), z.string()).optional(),
  headers: z
    .record(z.string().regex(HEADER_NAME, "a header name: letters, digits and !#$%&'*+.^_`|~-"), z.string())
    .optional(),
  body: bodySchema.optional(),
  auth: authSchema.optional(),
  tls: tlsSchema.optional(),
  timeoutMs: z.number().int().positive().max(MAX_TIMEOUT_MS, 'at most 120000 ms').optional(),
  saveAs: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'a variable name: letters, digits and _, not starting with a digit')
    .optional(),
});

export type ApiBlockConfig = z.infer<typeof apiBlockConfigSchema>;
export type ApiBlockBody = z.infer<typeof bodySchema>;
