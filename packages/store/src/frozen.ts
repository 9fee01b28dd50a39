// Stored records of the main document are deep-frozen once, when they are written (or read
// from the file), and handed out as they are: a caller cannot change the stored state through
// a returned object (strict-mode code gets a TypeError), and no read pays for a copy. Every
// change replaces a record with a new frozen one (copy on write), so a record handed out
// earlier keeps showing the state it was read in.

/** Freezes `value` and everything reachable from it; returns it. */
export function deepFreeze<T>(value: T): T {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return value;
  // a typed array cannot be frozen (JSON documents hold none; structuredClone keeps them)
  if (ArrayBuffer.isView(value)) return value;
  Object.freeze(value);
  for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
  return value;
}
