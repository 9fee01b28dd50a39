// A secret whose value lives in an external store carries `source` instead of values
// (SPEC §12): the store's name, a ref, and optional per-environment refs. Store names and
// refs are not secrets, so they are stored, listed and exported as they are.
import { environmentNameSchema } from '@flowsafe/secrets';
import { z } from 'zod';
import { storeNameSchema } from './store-config';

const refSchema = z.string().min(1, { error: 'ref must not be empty' }).max(2048);

export const secretSourceSchema = z.strictObject({
  store: storeNameSchema,
  ref: refSchema,
  environments: z.record(environmentNameSchema, refSchema).optional(),
});
export type SecretSource = z.infer<typeof secretSourceSchema>;

/** The ref to read in an environment: its per-environment ref, else the default ref. */
export function refFor(source: Pick<SecretSource, 'ref' | 'environments'>, environment: string): string {
  const environments = source.environments;
  if (environments !== undefined && Object.hasOwn(environments, environment)) {
    const ref = environments[environment];
    if (ref !== undefined) return ref;
  }
  return source.ref;
}
