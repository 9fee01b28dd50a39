// A small, safe renderer for the `{{var}}`, `{{a.b}}` and `{{settings.NAME}}` templates of
// the built-in blocks (set, end). It only looks names up: no helpers, no sections, no code,
// no prototype walking. api-block has its own context-aware encoder for requests.

export interface TemplateScope {
  variables: Readonly<Record<string, unknown>>;
  settings: Readonly<Record<string, string>>;
}

const TAG = /\{\{\s*([A-Za-z_$][\w$-]*(?:\.[\w$-]+)*)\s*\}\}/g;
const WHOLE_TAG = /^\{\{\s*([A-Za-z_$][\w$-]*(?:\.[\w$-]+)*)\s*\}\}$/;
const MAX_DEPTH = 64;

/** Reads a dotted path (`a.b.0.c`) through own properties only; undefined when absent. */
export function getPath(root: unknown, dotted: string): unknown {
  let current: unknown = root;
  for (const key of dotted.split('.')) {
    if (current === null || typeof current !== 'object') return undefined;
    if (!Object.hasOwn(current, key)) return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

function lookup(name: string, scope: TemplateScope): unknown {
  if (name === 'settings' || name.startsWith('settings.')) {
    return name === 'settings' ? scope.settings : getPath(scope.settings, name.slice('settings.'.length));
  }
  return getPath(scope.variables, name);
}

function stringify(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint')
    return String(value);
  try {
    return JSON.stringify(value) ?? '';
  } catch {
    return '';
  }
}

/**
 * Renders a template string. A string that is exactly one tag (`"{{items}}"`) yields the
 * variable's own value (object, number, …) so a set block can copy structured values;
 * anything else yields a string with missing names rendered as ''.
 */
export function renderTemplate(text: string, scope: TemplateScope): unknown {
  if (!text.includes('{{')) return text;
  const whole = WHOLE_TAG.exec(text);
  if (whole) return lookup(whole[1] as string, scope);
  return text.replace(TAG, (_tag, name: string) => stringify(lookup(name, scope)));
}

/** Renders every string leaf of a JSON-like value; keys and non-string leaves stay as they are. */
export function renderTemplateValue(value: unknown, scope: TemplateScope, depth = 0): unknown {
  if (typeof value === 'string') return renderTemplate(value, scope);
  if (depth > MAX_DEPTH) return value;
  if (Array.isArray(value)) return value.map((item) => renderTemplateValue(item, scope, depth + 1));
  if (value !== null && typeof value === 'object') {
    // fromEntries defines properties, so a "__proto__" key stays a plain key
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [key, renderTemplateValue(item, scope, depth + 1)]),
    );
  }
  return value;
}
