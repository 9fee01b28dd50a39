// The options of the API block plugin and the seam through which it reaches secrets. The
// server implements SecretAccess over the store, the key ring and external secret stores; the
// plugin only ever sees one secret's metadata and, at dispatch, its opened value.
import type { RunInfo } from '@flowsafe/runner';
import type { SecretType, SecretValue } from '@flowsafe/secrets';
import type { Dispatcher } from 'undici';

export interface SecretMeta {
  name: string;
  type: SecretType;
  /** exact hosts or `*.example.com`; absent means the secret is not bound to hosts */
  allowedHosts?: string[];
}

export interface SecretAccess {
  /** metadata of a secret of the run's project; undefined if unknown */
  describe(run: RunInfo, name: string): SecretMeta | undefined | Promise<SecretMeta | undefined>;
  /** the value for run.environment, opened at the last moment; throws an error with code
   *  SECRET_VALUE_MISSING ("secret X has no value for environment Y") */
  open(run: RunInfo, name: string): Promise<SecretValue>;
}

export interface SecretUseEvent {
  run: RunInfo;
  secret: string;
  environment: string;
  blockId: string;
}

export interface TlsMaterial {
  cert?: string;
  key?: string;
  ca?: string;
}

export interface ApiBlockOptions {
  secrets: SecretAccess;
  /** called once per secret used at dispatch (invariant 12): never a value */
  audit?: (event: SecretUseEvent) => void;
  /** undici dispatcher used for requests; default a shared keep-alive Agent. The server passes
   *  the egress guard's agent here. */
  dispatcher?: Dispatcher;
  /** builds a dispatcher for mTLS (PEM strings); default `new Agent({ connect: tls })` */
  tlsDispatcher?: (tls: TlsMaterial) => Dispatcher;
  /** default 10 MiB */
  maxResponseBytes?: number;
  /** default 5 */
  maxRedirects?: number;
}
