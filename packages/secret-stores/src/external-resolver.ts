// Resolves secrets whose value lives in an external store, at dispatch (SPEC §12). The value
// is shaped into the secret's type and handed to `onFetched` (the server registers it with
// the redactor) before the caller sees it; raw fetched data is cached in memory only, per
// store and ref, for the store's cacheTtlS; concurrent resolves of one ref share one fetch.
// Errors name the secret, the store and the ref, never a value or a store credential.
import { valueFields, type SecretType, type SecretValue, type ValueField } from '@flowsafe/secrets';
import { SecretStoreError } from './secret-store-error';
import type { FetchedValue, SecretStore } from './secret-store';
import { shapeValue } from './shape-value';

export interface ResolveRequest {
  /** The store's name (source.store). */
  store: string;
  /** The ref to read, usually refFor(source, environment). */
  ref: string;
  type: SecretType;
  secretName: string;
  environment: string;
}

export interface FetchedInfo {
  store: string;
  ref: string;
  type: SecretType;
  environment: string;
  /** True when the value came from the memory cache rather than a fetch. */
  fromCache: boolean;
}

export interface ExternalResolverOptions {
  /** The workspace's configured store of that name, if any. */
  getStore(name: string): SecretStore | undefined;
  /**
   * Called with the sensitive fields of each resolved value, on every resolve (cache hits
   * too, so every project's redactor learns it), before resolve returns. If it throws, resolve
   * fails and the value is not returned.
   */
  onFetched?(secretName: string, fields: ValueField[], info: FetchedInfo): void | Promise<void>;
  /** Clock in ms (tests). */
  now?: () => number;
  /** Most cached refs kept; the oldest goes first. Default 10 000. */
  maxEntries?: number;
}

export interface ExternalSecretResolver {
  /** The value of a secret kept in an external store, shaped for its type. Throws SecretStoreError. */
  resolve(request: ResolveRequest): Promise<SecretValue>;
  /** Forgets cached values of one store (after its config changed or it was deleted), or of all. */
  invalidate(store?: string): void;
  /** Number of cached refs (for tests and metrics). */
  cacheSize(): number;
}

interface CacheEntry {
  store: SecretStore;
  value: FetchedValue;
  expiresAt: number;
}

interface InFlight {
  store: SecretStore;
  promise: Promise<FetchedValue>;
}

const DEFAULT_MAX_ENTRIES = 10_000;

export function createExternalResolver(options: ExternalResolverOptions): ExternalSecretResolver {
  const now = options.now ?? Date.now;
  const maxEntries = options.maxEntries ?? DEFAULT_MAX_ENTRIES;
  const cache = new Map<string, CacheEntry>();
  const inFlight = new Map<string, InFlight>();
  const generations = new Map<string, number>();
  let globalGeneration = 0;

  const keyOf = (store: string, ref: string) => `${store}\u0000${ref}`;
  const generationOf = (store: string) => `${globalGeneration}:${generations.get(store) ?? 0}`;

  function remember(key: string, entry: CacheEntry): void {
    cache.delete(key);
    cache.set(key, entry);
    while (cache.size > maxEntries) {
      const oldest = cache.keys().next();
      if (oldest.done) break;
      cache.delete(oldest.value);
    }
  }

  function fetchShared(store: SecretStore, name: string, ref: string, key: string): Promise<FetchedValue> {
    const running = inFlight.get(key);
    if (running && running.store === store) return running.promise;
    const generation = generationOf(name);
    const ttlMs = Math.max(0, store.cacheTtlS) * 1000;
    const flight: InFlight = { store, promise: Promise.resolve('') };
    flight.promise = (async () => {
      try {
        const value = await store.fetch(ref);
        if (ttlMs > 0 && generationOf(name) === generation)
          remember(key, { store, value, expiresAt: now() + ttlMs });
        return value;
      } finally {
        if (inFlight.get(key) === flight) inFlight.delete(key);
      }
    })();
    inFlight.set(key, flight);
    return flight.promise;
  }

  async function resolve(request: ResolveRequest): Promise<SecretValue> {
    const { secretName, ref, type, environment } = request;
    const name = request.store;
    const store = options.getStore(name);
    if (store === undefined)
      throw new SecretStoreError(
        'STORE_NOT_FOUND',
        `secret ${secretName}: store ${name} is not configured in this workspace (ref ${ref}, environment ${environment})`,
        { store: name, ref, secretName },
      );
    const key = keyOf(name, ref);
    let fetched: FetchedValue;
    let fromCache = false;
    const entry = cache.get(key);
    if (entry && entry.store === store && now() < entry.expiresAt && store.cacheTtlS > 0) {
      fetched = entry.value;
      fromCache = true;
    } else {
      if (entry) cache.delete(key);
      try {
        fetched = await fetchShared(store, name, ref, key);
      } catch (err) {
        if (err instanceof SecretStoreError)
          throw new SecretStoreError(err.code, `secret ${secretName}: ${err.message}`, {
            store: name,
            ref,
            secretName,
          });
        throw new SecretStoreError(
          'STORE_REQUEST_FAILED',
          `secret ${secretName}: store ${name} could not read ref ${ref} (unexpected failure)`,
          { store: name, ref, secretName },
        );
      }
    }
    const shaped = shapeValue(type, fetched);
    if (!shaped.ok)
      throw new SecretStoreError(
        'VALUE_SHAPE_INVALID',
        `secret ${secretName}: store ${name} ref ${ref} does not hold a ${type} value (${shaped.detail})`,
        { store: name, ref, secretName },
      );
    await options.onFetched?.(secretName, valueFields(type, shaped.value), {
      store: name,
      ref,
      type,
      environment,
      fromCache,
    });
    return shaped.value;
  }

  function invalidate(store?: string): void {
    if (store === undefined) {
      globalGeneration += 1;
      cache.clear();
      inFlight.clear();
      return;
    }
    generations.set(store, (generations.get(store) ?? 0) + 1);
    const prefix = `${store}\u0000`;
    for (const key of [...cache.keys()]) if (key.startsWith(prefix)) cache.delete(key);
    for (const key of [...inFlight.keys()]) if (key.startsWith(prefix)) inFlight.delete(key);
  }

  return { resolve, invalidate, cacheSize: () => cache.size };
}
