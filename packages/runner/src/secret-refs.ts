// Finds `<secret:NAME>` / `<secret:NAME.field>` placeholders in any JSON-like value, with the
// path where each one sits, so validation can say which block field names an unknown secret.
// api-block reuses the same pattern so both packages agree on what a placeholder is.

/** Global pattern of a secret placeholder: group 1 is the name, group 2 the optional field. */
export const SECRET_PLACEHOLDER_PATTERN =
  /<secret:([A-Za-z_][A-Za-z0-9_]{0,63})(?:\.([A-Za-z_][A-Za-z0-9_]*))?>/g;

export interface SecretRef {
  name: string;
  field?: string;
  /** path inside the scanned value; for a placeholder found in an object key, the key's path */
  path: (string | number)[];
}

/** Every secret placeholder in every string leaf and object key of `value` (depth-bounded). */
export function findSecretRefs(value: unknown): SecretRef[] {
  const refs: SecretRef[] = [];
  walk(value, [], refs, 0);
  return refs;
}

const MAX_DEPTH = 64;

function walk(value: unknown, path: (string | number)[], refs: SecretRef[], depth: number): void {
  if (depth > MAX_DEPTH) return;
  if (typeof value === 'string') {
    scanString(value, path, refs);
  } else if (Array.isArray(value)) {
    value.forEach((item, i) => walk(item, [...path, i], refs, depth + 1));
  } else if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      scanString(key, [...path, key], refs);
      walk(item, [...path, key], refs, depth + 1);
    }
  }
}

function scanString(text: string, path: (string | number)[], refs: SecretRef[]): void {
  if (!text.includes('<secret:')) return;
  for (const match of text.matchAll(SECRET_PLACEHOLDER_PATTERN)) {
    const name = match[1] as string;
    const field = match[2];
    refs.push(field === undefined ? { name, path } : { name, field, path });
  }
}
