// @flowsafe/secrets: the secret model, envelope sealing and the master key.
export { KeyRing } from './key-ring';
export type { SealContext, SealedBlob, SealedValue, WrappedKey } from './key-ring';
export { loadMasterKey, MasterKey } from './master-key';
export { pickEnvironment } from './pick-environment';
export {
  allowedHostSchema,
  environmentNameSchema,
  MAX_BINARY_BYTES,
  MIN_VALUE_LENGTH,
  secretCreateSchema,
  secretNameSchema,
  secretTypeSchema,
  secretValueSchema,
  valueFields,
  visibilitySchema,
} from './secret-model';
export type {
  BasicValue,
  BinaryValue,
  OAuth2Value,
  SecretCreate,
  SecretType,
  SecretValue,
  ValueField,
  Visibility,
} from './secret-model';
export { SecretsError } from './secrets-error';
export type { SecretsErrorCode } from './secrets-error';
