// Deep copy of a JSON-like value with every string leaf and every object key redacted, for
// run records and HTTP bodies. Numbers whose decimal form holds a secret become redacted
// strings (the type changes, the value does not leak). Cycles are kept as cycles.

export interface StringRedactor {
  redact(text: string): string;
  redactBuffer(buf: Buffer): Buffer;
}

export function deepRedact<T>(value: T, r: StringRedactor): T {
  if (typeof value === 'string') return r.redact(value) as T;
  return walk(value, r, new Map()) as T;
}

function walk(value: unknown, r: StringRedactor, seen: Map<object, unknown>): unknown {
  switch (typeof value) {
    case 'string':
      return r.redact(value);
    case 'number':
    case 'bigint': {
      const s = String(value);
      const red = r.redact(s);
      return red === s ? value : red;
    }
    case 'object': {
      if (value === null) return null;
      const done = seen.get(value);
      if (done !== undefined) return done;
      if (Buffer.isBuffer(value)) return r.redactBuffer(value);
      if (value instanceof Date) return new Date(value.getTime());
      if (Array.isArray(value)) {
        const copy: unknown[] = [];
        seen.set(value, copy);
        for (const item of value) copy.push(walk(item, r, seen));
        return copy;
      }
      if (value instanceof Map) {
        const copy = new Map<unknown, unknown>();
        seen.set(value, copy);
        for (const [k, v] of value) copy.set(walk(k, r, seen), walk(v, r, seen));
        return copy;
      }
      if (value instanceof Set) {
        const copy = new Set<unknown>();
        seen.set(value, copy);
        for (const v of value) copy.add(walk(v, r, seen));
        return copy;
      }
      const copy: Record<string, unknown> = {};
      seen.set(value, copy);
      const source = value instanceof Error ? errorFields(value) : (value as Record<string, unknown>);
      for (const key of Object.keys(source)) {
        copy[r.redact(key)] = walk(source[key], r, seen);
      }
      return copy;
    }
    default:
      return value;
  }
}

/** An Error's own enumerable fields plus its (non-enumerable) name, message and stack. */
function errorFields(err: Error): Record<string, unknown> {
  const fields: Record<string, unknown> = { name: err.name, message: err.message };
  if (err.stack !== undefined) fields.stack = err.stack;
  for (const key of Object.keys(err)) fields[key] = (err as unknown as Record<string, unknown>)[key];
  return fields;
}
