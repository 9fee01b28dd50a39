// The seam between flowsafe and a secret store a company already runs (SPEC §12). The server
// and the resolver only see this interface; which product sits behind it is configuration.

export type SecretStoreType = 'vault' | 'aws-secrets-manager';

/** What a ref names in the store: a string, or a JSON object (basic/oauth2 fields, {base64}). */
export type FetchedValue = string | Record<string, unknown>;

export interface StoreTestResult {
  ok: boolean;
  /** One line about connection and authentication; never a value or a credential. */
  message: string;
}

export interface SecretStore {
  readonly name: string;
  readonly type: SecretStoreType;
  /** Seconds a fetched value stays in the resolver's memory cache; 0 = fetch at every use. */
  readonly cacheTtlS: number;
  /** Reads one ref. Throws SecretStoreError (REF_INVALID, REF_NOT_FOUND, STORE_UNREACHABLE, …). */
  fetch(ref: string): Promise<FetchedValue>;
  /** Connects and authenticates without reading any secret. Never throws. */
  test(): Promise<StoreTestResult>;
  /** Releases connections. */
  close?(): Promise<void>;
}
