// Test helper (used by *.test.ts only): the store tests all check a failed read the same way,
// that the promise rejects with this package's SecretStoreError, before checking its text.
import { expect } from 'vitest';
import { SecretStoreError } from './secret-store-error';

/** Awaits `p`, expects it to reject with a SecretStoreError, and returns that error. */
export async function expectSecretStoreError(p: Promise<unknown>): Promise<SecretStoreError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(SecretStoreError);
  return err as SecretStoreError;
}
