// The plan of an API block: its config compiled once (templates parsed, secret slots found in
// the definition's text, encodings fixed per position) and cached per config object, so a
// dispatch only renders variables and fills slots. `renderPlan` is the variable stage: it runs
// before egress and resolution, so nothing here ever sees a secret value.
import { type ApiBlockConfig, DEFAULT_TIMEOUT_MS } from './config-schema';
import type { ValidationIssue } from '@flowsafe/runner';
import { ApiBlockError } from './errors';
import {
  compileTemplate,
  compileUrlTemplate,
  originSecrets,
  renderVars,
  type Scope,
  type SecretPart,
  type Template,
} from './template';

export type JsonNode =
  | { t: 0; v: unknown }
  | { t: 1; tpl: Template }
  /** a leaf that is exactly one `{{var}}`: the variable's own JSON value */
  | { t: 4; path: string[] }
  | { t: 2; items: JsonNode[] }
  | { t: 3; entries: Array<[string, JsonNode]> };

export type BodyPlan =
  | { kind: 'static'; text: string }
  | { kind: 'json'; node: JsonNode }
  | { kind: 'form'; entries: Array<[string, Template]> }
  | { kind: 'raw'; tpl: Template };

export interface HeaderPlan {
  name: string;
  lower: string;
  tpl: Template;
  /** the secrets this header carries */
  secrets: string[];
}

export interface Plan {
  method: string;
  url: Template;
  /** secret slots in the host part: refused unless the secret's allowedHosts covers the result */
  originSecrets: SecretPart[];
  /** `query` entries: encoded key, value template (the whole value is percent-encoded) */
  query: Array<[string, Template]>;
  headers: HeaderPlan[];
  body: BodyPlan | undefined;
  contentType: string | undefined;
  auth: ApiBlockConfig['auth'];
  tls: ApiBlockConfig['tls'];
  /** every `<secret:…>` slot of the request's templates */
  slots: SecretPart[];
  /** the URL or its query entries hold secret slots (the URL is composed again with values) */
  urlHasSecrets: boolean;
  /** every secret the request uses, once */
  secrets: string[];
  /** secrets that travel in the body (a cross-origin 307/308 would resend them) */
  bodySecrets: string[];
  timeoutMs: number;
  saveAs: string | undefined;
  /** the step's request record: the URL template, secrets shown as <secret:NAME> */
  record: { method: string; url: string };
}

/** The variable stage of a request: strings where no secret is involved, parts where one is. */
export interface RenderedRequest {
  url: string | Array<string | SecretPart>;
  query: Array<[string, string | Array<string | SecretPart>]>;
  headers: Array<[HeaderPlan, string | Array<string | SecretPart>]>;
}

const byObject = new WeakMap<object, Plan>();
const byText = new Map<string, Plan>();
const MAX_TEXT_CACHE = 1000;

/** The plan of a config, compiled on first use and cached per config object. The runner parses
 *  a block's config on every run (a new object each time), so plans are also cached by the
 *  config's JSON text (bounded, oldest out first). */
export function getPlan(config: ApiBlockConfig): Plan {
  let plan = byObject.get(config);
  if (plan) return plan;
  const text = JSON.stringify(config);
  plan = byText.get(text);
  if (!plan) {
    plan = compilePlan(config);
    if (byText.size >= MAX_TEXT_CACHE) byText.delete(byText.keys().next().value!);
    byText.set(text, plan);
  }
  byObject.set(config, plan);
  return plan;
}

/** Compile a config. With `issues`, template problems are collected (save-time validation)
 *  instead of thrown. */
export function compilePlan(config: ApiBlockConfig, issues?: ValidationIssue[]): Plan {
  const used = new Set<string>();
  const slots: SecretPart[] = [];
  const collect = (t: Template): Template => {
    for (const s of t.secrets) {
      used.add(s.name);
      slots.push(s);
    }
    return t;
  };
  const at = (where: Where, compile: () => Template): Template => {
    try {
      return collect(compile());
    } catch (err) {
      if (!(err instanceof ApiBlockError)) throw err;
      if (!issues) {
        err.message = `${where.join('.')}: ${err.message}`;
        throw err;
      }
      issues.push({ path: where, message: err.message, code: err.code });
      return compileTemplate('');
    }
  };

  const url = at(['url'], () => compileUrlTemplate(config.url));
  const query = Object.entries(config.query ?? {}).map(
    ([k, v]) => [encodeURIComponent(k), at(['query', k], () => compileTemplate(v))] as [string, Template],
  );
  const headers = Object.entries(config.headers ?? {}).map(([name, v]): HeaderPlan => {
    const tpl = at(['headers', name], () => compileTemplate(v));
    return { name, lower: name.toLowerCase(), tpl, secrets: [...new Set(tpl.secrets.map((s) => s.name))] };
  });
  const authHeader = config.auth ? headers.find((h) => h.lower === 'authorization') : undefined;
  if (authHeader) {
    const message = 'auth sets the Authorization header; remove this header or remove auth';
    if (!issues) throw new ApiBlockError('CONFIG_INVALID', `headers.${authHeader.name}: ${message}`);
    issues.push({ path: ['headers', authHeader.name], message, code: 'CONFIG_INVALID' });
  }

  const bodyUsed = new Set<string>();
  const body = compileBody(config.body, (where: Where, compile) => {
    const t = at(where, compile);
    for (const s of t.secrets) bodyUsed.add(s.name);
    return t;
  });
  let contentType: string | undefined;
  if (config.body && !headers.some((h) => h.lower === 'content-type')) {
    contentType =
      config.body.type === 'json'
        ? 'application/json'
        : config.body.type === 'form'
          ? 'application/x-www-form-urlencoded'
          : (config.body.contentType ?? 'text/plain; charset=utf-8');
  }

  if (config.auth) used.add(config.auth.secret);
  for (const name of [config.tls?.cert, config.tls?.key, config.tls?.ca]) if (name) used.add(name);

  let recordUrl = config.url;
  const q = Object.entries(config.query ?? {});
  if (q.length > 0) {
    const hash = recordUrl.indexOf('#');
    const head = hash < 0 ? recordUrl : recordUrl.slice(0, hash);
    const tail = hash < 0 ? '' : recordUrl.slice(hash);
    recordUrl = head + (head.includes('?') ? '&' : '?') + q.map(([k, v]) => `${k}=${v}`).join('&') + tail;
  }

  return {
    method: config.method,
    url,
    originSecrets: originSecrets(url),
    query,
    headers,
    body,
    contentType,
    auth: config.auth,
    tls: config.tls,
    slots,
    urlHasSecrets: url.secrets.length > 0 || query.some(([, t]) => t.secrets.length > 0),
    secrets: [...used],
    bodySecrets: [...bodyUsed],
    timeoutMs: config.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    saveAs: config.saveAs,
    record: { method: config.method, url: recordUrl },
  };
}

type Where = (string | number)[];

function compileBody(
  body: ApiBlockConfig['body'],
  at: (where: Where, compile: () => Template) => Template,
): BodyPlan | undefined {
  if (!body) return undefined;
  if (body.type === 'raw') {
    const tpl = at(['body', 'content'], () => compileTemplate(body.content));
    return tpl.literal ? { kind: 'static', text: body.content } : { kind: 'raw', tpl };
  }
  if (body.type === 'form') {
    const entries = Object.entries(body.content).map(
      ([k, v]) => [formEncode(k), at(['body', 'content', k], () => compileTemplate(v))] as [string, Template],
    );
    return { kind: 'form', entries };
  }
  let dynamic = false;
  const walk = (value: unknown, where: Where): JsonNode => {
    if (typeof value === 'string') {
      const tpl = at(where, () => compileTemplate(value));
      if (tpl.literal) return { t: 0, v: value };
      dynamic = true;
      const only = tpl.parts.length === 1 ? tpl.parts[0] : undefined;
      if (typeof only === 'object' && only.kind === 'var') return { t: 4, path: only.path };
      return { t: 1, tpl };
    }
    if (Array.isArray(value)) return { t: 2, items: value.map((v, i) => walk(v, [...where, i])) };
    if (value !== null && typeof value === 'object') {
      return { t: 3, entries: Object.entries(value).map(([k, v]) => [k, walk(v, [...where, k])]) };
    }
    return { t: 0, v: value };
  };
  const node = walk(body.content, ['body', 'content']);
  return dynamic ? { kind: 'json', node } : { kind: 'static', text: JSON.stringify(body.content) };
}

/** application/x-www-form-urlencoded encoding of one key or value */
export function formEncode(s: string): string {
  return encodeURIComponent(s).replace(/%20/g, '+');
}

const LINE_BREAK = /[\r\n\0]/;

/** The variable stage: render every variable of the request for its position. Header values
 *  that would contain CR, LF or NUL are refused (HEADER_INJECTION). */
export function renderPlan(plan: Plan, scope: Scope): RenderedRequest {
  const headers: RenderedRequest['headers'] = [];
  for (const h of plan.headers) {
    const r = renderVars(h.tpl, scope);
    const injected =
      typeof r === 'string' ? LINE_BREAK.test(r) : r.some((p) => typeof p === 'string' && LINE_BREAK.test(p));
    if (injected) {
      throw new ApiBlockError(
        'HEADER_INJECTION',
        `header ${h.name} would contain a line break after rendering; refused`,
      );
    }
    headers.push([h, r]);
  }
  return {
    url: renderVars(plan.url, scope),
    query: plan.query.map(([k, t]) => [k, renderVars(t, scope)]),
    headers,
  };
}
