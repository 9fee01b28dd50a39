// Turns what a store returned into the value of the secret's type (SPEC §4, §12): text is a
// string; basic and oauth2 come from a JSON object (or a string holding one); binary from
// { base64, filename? }, a base64 string, or text such as a PEM file (encoded as UTF-8).
// Every shape is checked by @flowsafe/secrets' own schema, so an external value obeys the
// same rules as a stored one (e.g. at least 4 characters, so the redactor can mask it).
import { secretValueSchema, type SecretType, type SecretValue } from '@flowsafe/secrets';
import type { FetchedValue } from './secret-store';

export type ShapeResult = { ok: true; value: SecretValue } | { ok: false; detail: string };

const BASE64 =
  /^(?:[A-Za-z0-9+/]{4})+(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$|^(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)$/;

function asObject(fetched: FetchedValue): Record<string, unknown> | undefined {
  if (typeof fetched !== 'string') return fetched;
  const trimmed = fetched.trim();
  if (!trimmed.startsWith('{')) return undefined;
  try {
    const parsed: unknown = JSON.parse(trimmed);
    return parsed && typeof parsed === 'object' && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

function pick(
  source: Record<string, unknown>,
  fields: Record<string, readonly string[]>,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [field, names] of Object.entries(fields)) {
    for (const name of names) {
      if (Object.hasOwn(source, name) && source[name] !== undefined && source[name] !== null) {
        out[field] = source[name];
        break;
      }
    }
  }
  return out;
}

const BASIC_FIELDS = { username: ['username'], password: ['password'] } as const;
const OAUTH2_FIELDS = {
  clientId: ['clientId', 'client_id'],
  clientSecret: ['clientSecret', 'client_secret'],
  tokenUrl: ['tokenUrl', 'token_url'],
  scope: ['scope'],
  audience: ['audience'],
} as const;

function candidate(type: SecretType, fetched: FetchedValue): { value: unknown } | { detail: string } {
  switch (type) {
    case 'text':
      if (typeof fetched === 'string') return { value: fetched };
      return {
        detail:
          'a text secret needs a string, but the ref names a JSON object; point the ref at one of its keys',
      };
    case 'basic': {
      const obj = asObject(fetched);
      if (!obj) return { detail: 'a basic secret needs a JSON object with username and password' };
      return { value: pick(obj, BASIC_FIELDS) };
    }
    case 'oauth2': {
      const obj = asObject(fetched);
      if (!obj)
        return { detail: 'an oauth2 secret needs a JSON object with clientId, clientSecret and tokenUrl' };
      return { value: pick(obj, OAUTH2_FIELDS) };
    }
    case 'binary': {
      const obj = typeof fetched === 'string' ? undefined : fetched;
      if (obj) return { value: pick(obj, { base64: ['base64'], filename: ['filename'] }) };
      const text = fetched as string;
      const compact = text.replace(/\s+/g, '');
      if (BASE64.test(compact)) return { value: { base64: compact } };
      return { value: { base64: Buffer.from(text, 'utf8').toString('base64') } };
    }
  }
}

/** The secret value of `type` made from a fetched value; a failure says what shape was expected. */
export function shapeValue(type: SecretType, fetched: FetchedValue): ShapeResult {
  const c = candidate(type, fetched);
  if ('detail' in c) return { ok: false, detail: c.detail };
  const parsed = secretValueSchema(type).safeParse(c.value);
  if (parsed.success) return { ok: true, value: parsed.data };
  const problems = parsed.error.issues
    .slice(0, 3)
    .map((issue) => (issue.path.length > 0 ? `${issue.path.join('.')}: ${issue.message}` : issue.message))
    .join('; ');
  return { ok: false, detail: `not a valid ${type} value: ${problems}` };
}
