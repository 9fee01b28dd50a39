// Which stored value a run in an environment uses (SPEC §4): the override for that
// environment, else the default, else a clear error naming the secret and environment.
import { SecretsError } from './secrets-error';

export function pickEnvironment(values: Record<string, unknown>, name: string, environment: string): string {
  if (Object.hasOwn(values, environment) && values[environment] !== undefined) return environment;
  if (Object.hasOwn(values, 'default') && values.default !== undefined) return 'default';
  throw new SecretsError(
    'SECRET_VALUE_MISSING',
    `secret ${name} has no value for environment ${environment}`,
  );
}
