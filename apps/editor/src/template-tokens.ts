// Splits template text into literal text, `<secret:NAME[.field]>` references and `{{var}}`
// variables, so the editor can render references as chips (never as values).

export type TemplateToken =
  | { kind: 'text'; text: string }
  | { kind: 'secret'; text: string; name: string; field?: string }
  | { kind: 'var'; text: string; name: string };

const TOKEN_PATTERN =
  /<secret:([A-Za-z_][A-Za-z0-9_]{0,63})(?:\.([A-Za-z_][A-Za-z0-9_]*))?>|\{\{\s*([^{}]+?)\s*\}\}/g;

export function tokenize(text: string): TemplateToken[] {
  const out: TemplateToken[] = [];
  let last = 0;
  for (const m of text.matchAll(TOKEN_PATTERN)) {
    const at = m.index ?? 0;
    if (at > last) out.push({ kind: 'text', text: text.slice(last, at) });
    if (m[1] !== undefined) {
      out.push(
        m[2] === undefined
          ? { kind: 'secret', text: m[0], name: m[1] }
          : { kind: 'secret', text: m[0], name: m[1], field: m[2] },
      );
    } else {
      out.push({ kind: 'var', text: m[0], name: (m[3] ?? '').trim() });
    }
    last = at + m[0].length;
  }
  if (last < text.length) out.push({ kind: 'text', text: text.slice(last) });
  return out;
}

/** Every secret name referenced in a JSON-like value (string leaves and keys). */
export function secretNamesIn(value: unknown, into: Set<string> = new Set()): Set<string> {
  if (typeof value === 'string') {
    for (const t of tokenize(value)) if (t.kind === 'secret') into.add(t.name);
  } else if (Array.isArray(value)) {
    for (const v of value) secretNamesIn(v, into);
  } else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      secretNamesIn(k, into);
      secretNamesIn(v, into);
    }
  }
  return into;
}

/** The reference text a pick in the secret dropdown inserts. */
export function secretRef(name: string, field?: string): string {
  return field ? `<secret:${name}.${field}>` : `<secret:${name}>`;
}

/** Fields a secret of this type can be referenced by (besides the whole secret). */
export function refFields(type: string): { field?: string; label: string }[] {
  switch (type) {
    case 'basic':
      return [
        { field: 'username', label: 'username' },
        { field: 'password', label: 'password' },
      ];
    case 'oauth2':
      return [{ label: 'access token' }, { field: 'clientId', label: 'clientId' }];
    case 'binary':
      return [{ label: 'file (base64)' }];
    default:
      return [{ label: 'value' }];
  }
}
