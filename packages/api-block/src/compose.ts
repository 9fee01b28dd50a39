// Composition: the last step before undici. Secret values are put into the rendered request
// here, each encoded for its position, and nowhere earlier (invariant 3). JSON bodies are built
// as values and serialised once: a string leaf renders to a string, and a leaf that is exactly
// one `{{var}}` takes the variable's own JSON value (as in the runner's set/end blocks; missing
// → null), so a variable fills its leaf and can never break the structure around it.
import { ApiBlockError } from './errors';
import { type JsonNode, type Plan, type RenderedRequest, formEncode } from './plan';
import type { Resolution } from './resolve';
import { fillSecrets, lookup, renderVars, type Scope, type SecretPart } from './template';

export interface ComposedRequest {
  url: URL;
  method: string;
  headers: Record<string, string>;
  body: string | undefined;
  secretHeaders: Map<string, readonly string[]>;
  bodySecrets: readonly string[];
}

const LINE_BREAK = /[\r\n\0]/;

/** The last parsed URL of a plan whose rendered URL held no secret slot (secret-free text only:
 *  a URL carrying a value is never kept). Most plans render the same URL every time. */
const lastUrl = new WeakMap<Plan, { text: string; url: URL }>();

/** The URL with its `query` entries; `text` gives the text of a secret slot. The URL object may
 *  be shared between dispatches of the same plan: read it, never change it. */
export function composeUrl(plan: Plan, rendered: RenderedRequest, text: (slot: SecretPart) => string): URL {
  const plain = typeof rendered.url === 'string' && rendered.query.every(([, v]) => typeof v === 'string');
  let url = fillSecrets(rendered.url, text);
  if (rendered.query.length > 0) {
    let qs = '';
    for (const [k, v] of rendered.query)
      qs += `${qs === '' ? '' : '&'}${k}=${encodeURIComponent(fillSecrets(v, text))}`;
    const hash = url.indexOf('#');
    const head = hash < 0 ? url : url.slice(0, hash);
    url = head + (head.includes('?') ? '&' : '?') + qs + (hash < 0 ? '' : url.slice(hash));
  }
  if (plain) {
    const hit = lastUrl.get(plan);
    if (hit !== undefined && hit.text === url) return hit.url;
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ApiBlockError('URL_INVALID', `the URL ${plan.record.url} does not render to a valid URL`);
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
    throw new ApiBlockError(
      'URL_INVALID',
      `the URL ${plan.record.url} renders to a ${parsed.protocol} URL; use http or https`,
    );
  }
  if (plain) lastUrl.set(plan, { text: url, url: parsed });
  return parsed;
}

/** The request as undici will send it, secret values in place. */
export function composeRequest(
  plan: Plan,
  rendered: RenderedRequest,
  scope: Scope,
  res: Resolution,
  url: URL,
): ComposedRequest {
  const text = (slot: SecretPart): string => res.text(slot);
  const headers: Record<string, string> = {};
  const secretHeaders = new Map<string, readonly string[]>();
  for (const [h, r] of rendered.headers) {
    if (typeof r === 'string') {
      headers[h.lower] = r;
      continue;
    }
    headers[h.lower] = fillSecrets(r, (slot) => {
      const t = res.text(slot);
      if (LINE_BREAK.test(t)) {
        throw new ApiBlockError(
          'HEADER_INJECTION',
          `header ${h.name}: the value of secret ${slot.name} contains a line break`,
        );
      }
      return t;
    });
    secretHeaders.set(h.lower, h.secrets);
  }
  if (plan.auth) {
    const auth = res.authorization(plan.auth);
    if (LINE_BREAK.test(auth)) {
      throw new ApiBlockError(
        'HEADER_INJECTION',
        `auth: the value of secret ${plan.auth.secret} contains a line break`,
      );
    }
    headers.authorization = auth;
    secretHeaders.set('authorization', [plan.auth.secret]);
  }
  if (plan.contentType) headers['content-type'] = plan.contentType;

  let body: string | undefined;
  const b = plan.body;
  if (b?.kind === 'static') body = b.text;
  else if (b?.kind === 'raw') body = fillSecrets(renderVars(b.tpl, scope), text);
  else if (b?.kind === 'form') {
    body = '';
    for (const [k, t] of b.entries)
      body += `${body === '' ? '' : '&'}${k}=${formEncode(fillSecrets(renderVars(t, scope), text))}`;
  } else if (b?.kind === 'json') body = JSON.stringify(buildJson(b.node, scope, text));

  return { url, method: plan.method, headers, body, secretHeaders, bodySecrets: plan.bodySecrets };
}

function buildJson(node: JsonNode, scope: Scope, text: (slot: SecretPart) => string): unknown {
  switch (node.t) {
    case 0:
      return node.v;
    case 1:
      return fillSecrets(renderVars(node.tpl, scope), text);
    case 4: {
      const value = lookup(scope, node.path);
      return value === undefined ? null : value;
    }
    case 2:
      return node.items.map((n) => buildJson(n, scope, text));
    case 3: {
      const o = Object.create(null) as Record<string, unknown>;
      for (const [k, n] of node.entries) o[k] = buildJson(n, scope, text);
      return o;
    }
  }
}
