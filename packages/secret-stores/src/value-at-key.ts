// A `ref#key` picks one key out of a JSON object a store returned (a Vault KV secret, an AWS
// SecretString). Every store accepts the same shapes for that value.
import type { RefFailure } from './ref-failure';
import type { FetchedValue } from './secret-store';

/**
 * The value at `key` as a store returns it: a string as is, a number or boolean as its text,
 * an object as it is; anything else fails with VALUE_SHAPE_INVALID.
 */
export function valueAtKey(value: unknown, key: string, ref: string, fail: RefFailure): FetchedValue {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (value && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
  throw fail(
    'VALUE_SHAPE_INVALID',
    ref,
    `the value at key ${JSON.stringify(key)} is neither a string nor an object`,
  );
}
