// Every store reports a failed read the same way: one SecretStoreError that names the store
// and the ref, with the store's own detail scrubbed of its credentials.
import { SecretStoreError, type SecretStoreErrorCode } from './secret-store-error';

/** A store's failure for one ref; `detail` is scrubbed by the store's `scrub` before use. */
export type RefFailure = (code: SecretStoreErrorCode, ref: string, detail: string) => SecretStoreError;

/** Builds the `fail(code, ref, detail)` a store throws with when it cannot read a ref. */
export function refFailure(store: string, scrub: (text: string) => string): RefFailure {
  return (code, ref, detail) =>
    new SecretStoreError(code, `store ${store} could not read ref ${ref} (${scrub(detail)})`, {
      store,
      ref,
    });
}
