// Templates of the API block (SPEC §5). A template string is split into literal text and
// `<secret:NAME>` slots FIRST; mustache is parsed only inside the literal pieces. So a variable
// whose value contains `<secret:X>` is just text (invariant 3: no second-order resolution).
// Mustache's HTML escaping is off; each variable is encoded for the position it lands in.
import Mustache from 'mustache';
import { ApiBlockError } from './errors';

/** how a variable or secret value is encoded where it lands */
export type Encoding = 'raw' | 'component' | 'segment';

export interface VarPart {
  kind: 'var';
  name: string;
  path: string[];
  enc: Encoding;
}

export interface SecretPart {
  kind: 'secret';
  name: string;
  field: string | undefined;
  enc: Encoding;
}

export type Part = string | VarPart | SecretPart;

export interface Template {
  source: string;
  parts: Part[];
  /** the template is plain text: no variables, no secrets */
  literal: boolean;
  secrets: SecretPart[];
}

/** The variables a template can reach: flow variables and `settings.NAME`. */
export interface Scope {
  variables: Readonly<Record<string, unknown>>;
  settings: Readonly<Record<string, string>>;
}

export const SECRET_FIELDS = ['username', 'password', 'clientId'] as const;
const SECRET_SLOT = /<secret:([A-Za-z_][A-Za-z0-9_]{0,63})(?:\.([A-Za-z]+))?>/g;

/** Compile a template string into literal text, variable and secret parts (all `raw`). */
export function compileTemplate(source: string): Template {
  const parts: Part[] = [];
  const secrets: SecretPart[] = [];
  let last = 0;
  for (const m of source.matchAll(SECRET_SLOT)) {
    pushLiteral(parts, source.slice(last, m.index));
    const field = m[2];
    if (field !== undefined && !(SECRET_FIELDS as readonly string[]).includes(field)) {
      throw new ApiBlockError(
        'TEMPLATE_INVALID',
        `<secret:${m[1]}.${field}>: unknown field "${field}" (use username or password of a basic secret, clientId of an oauth2 secret)`,
      );
    }
    const slot: SecretPart = { kind: 'secret', name: m[1]!, field, enc: 'raw' };
    parts.push(slot);
    secrets.push(slot);
    last = m.index + m[0].length;
  }
  pushLiteral(parts, source.slice(last));
  return { source, parts: mergeText(parts), literal: parts.every((p) => typeof p === 'string'), secrets };
}

function pushLiteral(parts: Part[], text: string): void {
  if (text === '') return;
  if (!text.includes('{{')) {
    parts.push(text);
    return;
  }
  let tokens: Mustache.TemplateSpans;
  try {
    tokens = Mustache.parse(text);
  } catch (err) {
    throw new ApiBlockError('TEMPLATE_INVALID', `template "${text}": ${(err as Error).message}`);
  }
  for (const token of tokens) {
    const [type, value] = token as unknown as [string, string];
    if (type === 'text') parts.push(value);
    else if (type === 'name' || type === '&') {
      const name = value.trim();
      if (name === '' || name === '.') {
        throw new ApiBlockError('TEMPLATE_INVALID', `template "${text}": {{${value}}} names no variable`);
      }
      parts.push({ kind: 'var', name, path: name.split('.'), enc: 'raw' });
    } else if (type === '!' || type === '=') continue;
    else {
      throw new ApiBlockError(
        'TEMPLATE_INVALID',
        `template "${text}": mustache sections and partials ({{${type}${value}}}) are not supported in API blocks; use a condition or set block`,
      );
    }
  }
}

function mergeText(parts: Part[]): Part[] {
  const out: Part[] = [];
  for (const p of parts) {
    const prev = out[out.length - 1];
    if (typeof p === 'string' && typeof prev === 'string') out[out.length - 1] = prev + p;
    else out.push(p);
  }
  return out;
}

/** The value of `{{a.b}}`; `settings.NAME` reads the project's settings. Own properties only. */
export function lookup(scope: Scope, path: string[]): unknown {
  const head = path[0]!;
  let cur: unknown =
    head === 'settings'
      ? scope.settings
      : Object.hasOwn(scope.variables, head)
        ? scope.variables[head]
        : undefined;
  for (let i = 1; i < path.length; i++) {
    if (cur === null || typeof cur !== 'object' || !Object.hasOwn(cur, path[i]!)) return undefined;
    cur = (cur as Record<string, unknown>)[path[i]!];
  }
  return cur;
}

/** How a variable value becomes text: missing → '', objects → JSON. */
export function stringify(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value === undefined || value === null) return '';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/** Encode a value (variable or secret) for its position. */
export function encode(value: string, enc: Encoding, what: string): string {
  if (enc === 'raw') return value;
  if (enc === 'segment' && (value === '.' || value === '..')) {
    throw new ApiBlockError('URL_INVALID', `${what} renders "${value}" as a URL path segment`);
  }
  return encodeURIComponent(value);
}

/** Render the variables of a template; secret slots stay in place. Returns a string when the
 *  template has no secret slots. */
export function renderVars(t: Template, scope: Scope): string | Array<string | SecretPart> {
  if (t.literal) return t.source;
  if (t.secrets.length === 0) {
    let s = '';
    for (const p of t.parts) s += typeof p === 'string' ? p : renderVar(p as VarPart, scope);
    return s;
  }
  const out: Array<string | SecretPart> = [];
  let s = '';
  for (const p of t.parts) {
    if (typeof p === 'string') s += p;
    else if (p.kind === 'var') s += renderVar(p, scope);
    else {
      if (s !== '') out.push(s);
      s = '';
      out.push(p);
    }
  }
  if (s !== '') out.push(s);
  return out;
}

function renderVar(p: VarPart, scope: Scope): string {
  return encode(stringify(lookup(scope, p.path)), p.enc, `{{${p.name}}}`);
}

/** Put secret values into rendered parts; `value` returns the text of a slot. */
export function fillSecrets(
  rendered: string | Array<string | SecretPart>,
  value: (slot: SecretPart) => string,
): string {
  if (typeof rendered === 'string') return rendered;
  let s = '';
  for (const p of rendered) {
    s += typeof p === 'string' ? p : encode(value(p), p.enc, `secret ${p.name}`);
  }
  return s;
}

const SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//;

/** Compile the URL template and give every variable and secret slot the encoding of its
 *  position: the origin (scheme, userinfo, host, port) is raw and checked after rendering,
 *  path segments are percent-encoded whole (a `/` in a value stays inside its segment), query
 *  values and the fragment are percent-encoded. */
export function compileUrlTemplate(source: string): Template {
  const t = compileTemplate(source);
  const shape = t.parts.map((p) => (typeof p === 'string' ? p : '\0')).join('');
  const scheme = SCHEME.exec(shape);
  if (scheme) {
    const proto = scheme[0].slice(0, -3).toLowerCase();
    if (proto !== 'http' && proto !== 'https') {
      throw new ApiBlockError('URL_INVALID', `the URL must use http or https, not ${proto}`);
    }
  } else if (!shape.startsWith('\0')) {
    throw new ApiBlockError('URL_INVALID', 'the URL must start with http://, https:// or a {{variable}}');
  }
  const originStart = scheme ? scheme[0].length : 0;
  const rest = shape.slice(originStart).search(/[/?#]/);
  const originEnd = rest < 0 ? shape.length : originStart + rest;
  const q = shape.indexOf('?', originEnd);
  const h = shape.indexOf('#', originEnd);
  const queryStart = Math.min(q < 0 ? shape.length : q, h < 0 ? shape.length : h);
  let offset = 0;
  for (const p of t.parts) {
    if (typeof p === 'string') {
      offset += p.length;
      continue;
    }
    p.enc = offset < originEnd ? 'raw' : offset < queryStart ? 'segment' : 'component';
    offset += 1;
  }
  return t;
}

/** The secret slots that sit in the origin part of a compiled URL template. */
export function originSecrets(t: Template): SecretPart[] {
  return t.secrets.filter((s) => s.enc === 'raw');
}
