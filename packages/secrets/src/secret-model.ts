// The secret model (SPEC §4) as zod schemas: names, types and their value shapes,
// visibility, allowed hosts and per-environment values. Validation happens here, at the
// edge, so sealing and the store only ever see well-formed values.
import { z } from 'zod';

export type SecretType = 'text' | 'binary' | 'basic' | 'oauth2';
export type Visibility = 'masked' | 'restricted';

export interface BinaryValue {
  base64: string;
  filename?: string;
}
export interface BasicValue {
  username: string;
  password: string;
}
export interface OAuth2Value {
  clientId: string;
  clientSecret: string;
  tokenUrl: string;
  scope?: string;
  audience?: string;
}
export type SecretValue = string | BinaryValue | BasicValue | OAuth2Value;

/** Values shorter than this cannot be masked safely in logs (SPEC §3 invariant 6). */
export const MIN_VALUE_LENGTH = 4;
/** Largest decoded binary secret (certificates, keys). */
export const MAX_BINARY_BYTES = 64 * 1024;

export const secretNameSchema = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/, {
  error: 'secret names start with a letter or _, then up to 63 letters, digits or _ (e.g. ZENDESK_TOKEN)',
});

export const secretTypeSchema = z.enum(['text', 'binary', 'basic', 'oauth2']);
export const visibilitySchema = z.enum(['masked', 'restricted']);

/** Environment names; 'default' is reserved for the value used when no override exists. */
export const environmentNameSchema = z
  .string()
  .regex(/^[a-z][a-z0-9_-]{0,31}$/, {
    error: 'environment names are lowercase letters, digits, _ or -, starting with a letter (max 32)',
  })
  .refine((name) => name !== 'default', {
    error: "'default' is reserved for the value used in every environment",
  });

const HOST_LABEL = '[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?';
const HOST_RE = new RegExp(`^(?:\\*\\.)?${HOST_LABEL}(?:\\.${HOST_LABEL})*$`);

/** An allowed host: an exact host name (or IPv4 address) or `*.example.com` (any subdomain). */
export const allowedHostSchema = z
  .string()
  .trim()
  .toLowerCase()
  .max(253)
  .refine((host) => HOST_RE.test(host), {
    error: 'allowed hosts are host names like api.example.com or *.example.com (no scheme, port or path)',
  })
  .refine((host) => !host.startsWith('*.') || host.slice(2).includes('.'), {
    error: 'a wildcard needs at least a registrable domain, e.g. *.example.com, not *.com',
  });

function sensitive(field: string) {
  return z.string().min(MIN_VALUE_LENGTH, {
    error: `${field} must be at least ${MIN_VALUE_LENGTH} characters: shorter values cannot be masked safely in logs`,
  });
}

const BASE64_RE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

const textValueSchema = sensitive('the value');

const binaryValueSchema = z.strictObject({
  base64: sensitive('base64')
    .transform((s) => s.replace(/\s+/g, ''))
    .refine((s) => BASE64_RE.test(s), {
      error: 'base64 is not valid base64 (A-Z, a-z, 0-9, +, / and = padding)',
    })
    .refine(
      (s) => (s.length / 4) * 3 - (s.endsWith('==') ? 2 : s.endsWith('=') ? 1 : 0) <= MAX_BINARY_BYTES,
      {
        error: `binary secrets are limited to ${MAX_BINARY_BYTES / 1024} KiB (decoded)`,
      },
    ),
  filename: z
    .string()
    .min(1)
    .max(255)
    .regex(/^[^/\\\0]+$/, { error: 'filename must not contain a path separator' })
    .optional(),
});

const basicValueSchema = z.strictObject({
  username: sensitive('username'),
  password: sensitive('password'),
});

const oauth2ValueSchema = z.strictObject({
  clientId: sensitive('clientId'),
  clientSecret: sensitive('clientSecret'),
  tokenUrl: z.url({ protocol: /^https?$/, error: 'tokenUrl must be an http(s) URL' }),
  scope: z.string().min(1).max(2048).optional(),
  audience: z.string().min(1).max(2048).optional(),
});

const valueSchemas = {
  text: textValueSchema,
  binary: binaryValueSchema,
  basic: basicValueSchema,
  oauth2: oauth2ValueSchema,
} as const;

/** The schema of a value of the given type; refuses sensitive fields shorter than 4 characters. */
export function secretValueSchema(type: SecretType): z.ZodType<SecretValue> {
  return valueSchemas[type] as z.ZodType<SecretValue>;
}

function variant<T extends SecretType>(type: T) {
  const value = valueSchemas[type];
  return z.strictObject({
    name: secretNameSchema,
    type: z.literal(type),
    visibility: visibilitySchema.default('masked'),
    value: value.optional(),
    environments: z.record(environmentNameSchema, value).optional(),
    allowedHosts: z.array(allowedHostSchema).max(100).optional(),
    description: z.string().max(1000).optional(),
  });
}

/** A new secret as the API receives it: the value (and each override) is validated against its type. */
export const secretCreateSchema = z.discriminatedUnion('type', [
  variant('text'),
  variant('binary'),
  variant('basic'),
  variant('oauth2'),
]);
export type SecretCreate = z.infer<typeof secretCreateSchema>;

/** A sensitive string of a value, by field name (for the redactor). */
export interface ValueField {
  field: string;
  value: string;
}

const FATAL_UTF8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The sensitive string fields of a value, for the redactor:
 * text → value; binary → base64, plus `text` (the decoded content) when it is printable
 * UTF-8 such as a PEM file, because a log could print the decoded form; basic → username,
 * password; oauth2 → clientId, clientSecret (tokenUrl, scope and audience are not secret;
 * they are sealed with the rest but not listed here).
 */
export function valueFields(type: SecretType, value: SecretValue): ValueField[] {
  switch (type) {
    case 'text':
      return [{ field: 'value', value: value as string }];
    case 'binary': {
      const v = value as BinaryValue;
      const out: ValueField[] = [{ field: 'base64', value: v.base64 }];
      const text = decodedText(v.base64);
      if (text !== undefined && text.trim().length >= MIN_VALUE_LENGTH)
        out.push({ field: 'text', value: text });
      return out;
    }
    case 'basic': {
      const v = value as BasicValue;
      return [
        { field: 'username', value: v.username },
        { field: 'password', value: v.password },
      ];
    }
    case 'oauth2': {
      const v = value as OAuth2Value;
      return [
        { field: 'clientId', value: v.clientId },
        { field: 'clientSecret', value: v.clientSecret },
      ];
    }
  }
}

/** The decoded content when it is valid UTF-8 text without control characters (other than whitespace). */
function decodedText(base64: string): string | undefined {
  try {
    const text = FATAL_UTF8.decode(Buffer.from(base64, 'base64'));
    // eslint-disable-next-line no-control-regex
    return /[\u0000-\u0008\u000e-\u001f\u007f]/.test(text) ? undefined : text;
  } catch {
    return undefined;
  }
}
