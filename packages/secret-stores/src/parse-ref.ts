// Refs name a value inside a store (SPEC §12): vault `path#key` (key required),
// aws-secrets-manager `secretId` or `secretId#jsonKey`. Parsed and checked before any
// request, so a malformed ref fails with REF_INVALID instead of reaching the store.
import { SecretStoreError } from './secret-store-error';
import type { SecretStoreType } from './secret-store';

export interface ParsedRef {
  /** Vault: the path under the mount; AWS: the secret id (name or ARN). */
  path: string;
  /** Vault: the key in the KV data; AWS: the JSON key, when given. */
  key: string | undefined;
}

const MAX_REF_LENGTH = 2048;
const VAULT_PATH = /^[A-Za-z0-9_.@+=-]+(?:\/[A-Za-z0-9_.@+=-]+)*$/;
const AWS_SECRET_ID = /^[A-Za-z0-9/_+=.@:-]{1,2048}$/;
// eslint-disable-next-line no-control-regex -- refuse control characters in keys
const KEY = /^[^\0-\x1f\x7f]{1,256}$/;

function invalid(type: SecretStoreType, ref: string, why: string, store?: string): SecretStoreError {
  const shown = ref.length > 120 ? `${ref.slice(0, 120)}…` : ref;
  const where = store === undefined ? '' : `store ${store}: `;
  return new SecretStoreError(
    'REF_INVALID',
    `${where}ref ${JSON.stringify(shown)} is not a valid ${type} ref: ${why}`,
    {
      ...(store === undefined ? {} : { store }),
      ref,
    },
  );
}

/** Parses a ref for a store type; throws SecretStoreError REF_INVALID with what to write instead. */
export function parseRef(type: SecretStoreType, ref: string, store?: string): ParsedRef {
  if (typeof ref !== 'string' || ref.length === 0) throw invalid(type, String(ref), 'it is empty', store);
  if (ref.length > MAX_REF_LENGTH)
    throw invalid(type, ref, `it is longer than ${MAX_REF_LENGTH} characters`, store);
  const hash = ref.indexOf('#');
  const path = hash === -1 ? ref : ref.slice(0, hash);
  const key = hash === -1 ? undefined : ref.slice(hash + 1);
  if (key !== undefined && !KEY.test(key))
    throw invalid(type, ref, 'the key after # is empty or has control characters', store);
  if (type === 'vault') {
    if (key === undefined) throw invalid(type, ref, 'write path#key, e.g. kv/zendesk#token', store);
    if (!VAULT_PATH.test(path) || path.split('/').some((s) => s === '.' || s === '..'))
      throw invalid(
        type,
        ref,
        'the path is segments of letters, digits and _ . - @ + = separated by /, without . or ..',
        store,
      );
    return { path, key };
  }
  if (!AWS_SECRET_ID.test(path))
    throw invalid(type, ref, 'write a secret name or ARN, optionally followed by #jsonKey', store);
  return { path, key };
}

/** True when the ref is well-formed for the store type (for validating a secret's source on save). */
export function isValidRef(type: SecretStoreType, ref: string): boolean {
  try {
    parseRef(type, ref);
    return true;
  } catch {
    return false;
  }
}
