// External secret stores of each workspace (SPEC §12) as the server uses them: the stores'
// own credentials sealed apart from their plain configuration (AAD bound to the workspace and
// the store's name), a live SecretStore per configured store, and one resolver per workspace
// that fetches, caches and shapes values at dispatch. Every fetched value (and every store
// credential) is handed to `onValue` — the project redactors — before anything else sees it.
import type { Redactor } from '@flowsafe/redact';
import {
  createExternalResolver,
  createSecretStore,
  type ExternalSecretResolver,
  mergeCredentials,
  parseStoreDefinition,
  type SecretStore,
  SecretStoreError,
  splitCredentials,
  type StoreDefinition,
} from '@flowsafe/secret-stores';
import type {
  KeyRing,
  SealedValue,
  SecretType,
  SecretValue,
  ValueField,
  WrappedKey,
} from '@flowsafe/secrets';
import type { SecretStoreConfig, Store } from '@flowsafe/store';

/** The seal context's project id for store credentials (never a real project id: those are UUIDs). */
const CREDENTIALS_SCOPE = 'secret-stores';
/** A cached store instance is checked against the stored config at most this often (ms). */
const REVALIDATE_MS = 5_000;

export interface ExternalSecretsOptions {
  store: Store;
  keyRing: KeyRing;
  /** registers sensitive strings of a workspace (fetched values, store credentials) with redactors */
  onValue(workspaceId: string, name: string, type: SecretType, fields: ValueField[]): void;
  /** returns true when the redactors already know `value` (saves work on cache hits) */
  knows(workspaceId: string, value: string): boolean;
}

interface LiveStore {
  instance: SecretStore;
  updatedAt: string;
  checkedAt: number;
}

interface WorkspaceStores {
  resolver: ExternalSecretResolver;
  live: Map<string, LiveStore>;
}

/** Dotted keys with string values, as SecretStoreConfig.config holds them. */
export function flattenConfig(config: Record<string, unknown>, prefix = ''): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(config)) {
    if (value === undefined || value === null) continue;
    if (typeof value === 'object' && !Array.isArray(value))
      Object.assign(out, flattenConfig(value as Record<string, unknown>, `${prefix}${key}.`));
    else out[`${prefix}${key}`] = String(value);
  }
  return out;
}

/** The inverse of flattenConfig (numeric fields of the schemas become numbers again). */
export function unflattenConfig(flat: Record<string, string>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(flat)) {
    const parts = key.split('.');
    let holder = out;
    for (const part of parts.slice(0, -1)) {
      const next = holder[part];
      if (typeof next === 'object' && next !== null) holder = next as Record<string, unknown>;
      else holder = holder[part] = {};
    }
    const last = parts[parts.length - 1] as string;
    holder[last] = last === 'timeoutMs' && /^\d+$/.test(value) ? Number(value) : value;
  }
  return out;
}

export class ExternalSecrets {
  private readonly store: Store;
  private readonly keyRing: KeyRing;
  private readonly options: ExternalSecretsOptions;
  private readonly workspaces = new Map<string, WorkspaceStores>();

  constructor(options: ExternalSecretsOptions) {
    this.store = options.store;
    this.keyRing = options.keyRing;
    this.options = options;
  }

  /** Seals the credentials of a validated definition; returns what the store repo keeps. */
  seal(
    workspaceId: string,
    def: StoreDefinition,
    wrappedKey: WrappedKey,
  ): { config: Record<string, string>; credentials: SealedValue } {
    const { publicConfig, credentials } = splitCredentials(def.type, def.config as Record<string, unknown>);
    const sealed: SealedValue = {};
    for (const [field, value] of Object.entries(credentials)) {
      const blob = this.keyRing.seal(
        wrappedKey,
        this.sealContext(workspaceId, def.name, field),
        'text',
        value,
      ).value;
      if (blob !== undefined) sealed[field] = blob;
    }
    return { config: flattenConfig(publicConfig), credentials: sealed };
  }

  /** Opens a stored store's credentials (field → value). */
  openCredentials(config: SecretStoreConfig): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [field, blob] of Object.entries(config.credentials)) {
      out[field] = this.keyRing.open(
        config.wrappedKey,
        this.sealContext(config.workspaceId, config.name, field),
        'text',
        { value: blob },
      ) as string;
    }
    return out;
  }

  /** The full definition of a stored store (credentials opened): for building an instance. */
  definition(config: SecretStoreConfig): StoreDefinition {
    return parseStoreDefinition({
      name: config.name,
      type: config.type,
      cacheTtlS: config.cacheTtlS,
      config: mergeCredentials(config.type, unflattenConfig(config.config), this.openCredentials(config)),
    });
  }

  /** Registers a stored store's credentials with the workspace's redactors. */
  registerCredentials(config: SecretStoreConfig): void {
    const credentials = this.openCredentials(config);
    const fields = Object.entries(credentials).map(([field, value]) => ({ field, value }));
    if (fields.length > 0) this.options.onValue(config.workspaceId, `store ${config.name}`, 'text', fields);
  }

  /** The live store of that name (built from the stored config on first use, revalidated now and then). */
  async live(workspaceId: string, name: string): Promise<SecretStore | undefined> {
    const ws = this.workspace(workspaceId);
    const cached = ws.live.get(name);
    const now = Date.now();
    if (cached && now - cached.checkedAt < REVALIDATE_MS) return cached.instance;
    const config = await this.store.secretStores.get(workspaceId, name);
    if (!config) {
      if (cached) this.forget(workspaceId, name);
      return undefined;
    }
    if (cached && cached.updatedAt === config.updatedAt) {
      cached.checkedAt = now;
      return cached.instance;
    }
    if (cached) this.forget(workspaceId, name);
    this.registerCredentials(config);
    const instance = createSecretStore(this.definition(config));
    ws.live.set(name, { instance, updatedAt: config.updatedAt, checkedAt: now });
    return instance;
  }

  /** Drops the live instance of a store and its cached values (after an edit or a delete). */
  forget(workspaceId: string, name: string): void {
    const ws = this.workspaces.get(workspaceId);
    if (!ws) return;
    const cached = ws.live.get(name);
    ws.live.delete(name);
    ws.resolver.invalidate(name);
    cached?.instance.close?.().catch(() => undefined);
  }

  /** The value of an external secret at dispatch; throws SecretStoreError naming secret, store and ref. */
  async resolve(
    workspaceId: string,
    request: { store: string; ref: string; type: SecretType; secretName: string; environment: string },
  ): Promise<SecretValue> {
    await this.live(workspaceId, request.store);
    return this.workspace(workspaceId).resolver.resolve(request);
  }

  /** Closes every live store. */
  async close(): Promise<void> {
    const all = [...this.workspaces.values()].flatMap((ws) => [...ws.live.values()]);
    this.workspaces.clear();
    await Promise.all(all.map((l) => l.instance.close?.().catch(() => undefined)));
  }

  private workspace(workspaceId: string): WorkspaceStores {
    let ws = this.workspaces.get(workspaceId);
    if (!ws) {
      const live = new Map<string, LiveStore>();
      ws = {
        live,
        resolver: createExternalResolver({
          getStore: (name) => live.get(name)?.instance,
          onFetched: (secretName, fields, info) => {
            // Cache hits come here too: skip the redactor work when the value is known already.
            if (info.fromCache && fields.every((f) => this.options.knows(workspaceId, f.value))) return;
            this.options.onValue(workspaceId, secretName, info.type, fields);
          },
        }),
      };
      this.workspaces.set(workspaceId, ws);
    }
    return ws;
  }

  private sealContext(workspaceId: string, name: string, field: string) {
    return { workspaceId, projectId: CREDENTIALS_SCOPE, secretId: `store:${name}`, environment: field };
  }
}

/** Registers the fields of a value (and the basic-auth pairs a type implies) with a redactor. */
export function registerFields(
  redactor: Redactor,
  name: string,
  type: SecretType,
  fields: ValueField[],
): void {
  const get = (field: string) => fields.find((f) => f.field === field)?.value;
  const attempt = (fn: () => void) => {
    try {
      fn();
    } catch {
      // too short to mask: refused by the resolver's shape check before it gets here
    }
  };
  const pair =
    type === 'basic'
      ? [get('username'), get('password')]
      : type === 'oauth2'
        ? [get('clientId'), get('clientSecret')]
        : [];
  if (pair[0] !== undefined && pair[1] !== undefined) {
    const [user, secret] = pair as [string, string];
    attempt(() => redactor.addBasic(name, user, secret));
  }
  if (type === 'binary') {
    const base64 = get('base64');
    if (base64 !== undefined) attempt(() => redactor.addSecret(name, { base64 }));
  }
  for (const f of fields) attempt(() => redactor.add(name, f.value));
}

/** True for a SecretStoreError (the step error passes its code and message on). */
export function isStoreError(err: unknown): err is SecretStoreError {
  return err instanceof SecretStoreError;
}
