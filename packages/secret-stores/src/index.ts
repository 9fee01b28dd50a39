// @flowsafe/secret-stores public API: external secret stores (HashiCorp Vault/OpenBao KV v2,
// AWS Secrets Manager) behind one interface, and the resolver that shapes, caches and hands
// their values to the redactor at dispatch (SPEC §12).
export { SecretStoreError } from './secret-store-error';
export type { SecretStoreErrorCode, SecretStoreErrorContext } from './secret-store-error';
export type { FetchedValue, SecretStore, SecretStoreType, StoreTestResult } from './secret-store';
export {
  awsSecretsManagerConfigSchema,
  credentialFields,
  credentialParent,
  DEFAULT_CACHE_TTL_S,
  mergeCredentials,
  splitCredentials,
  storeDefinitionSchema,
  storeNameSchema,
  storeTypeSchema,
  vaultConfigSchema,
} from './store-config';
export type {
  AwsSecretsManagerConfig,
  AwsSecretsManagerConfigInput,
  SplitConfig,
  StoreDefinition,
  StoreDefinitionInput,
  VaultConfig,
  VaultConfigInput,
} from './store-config';
export { isValidRef, parseRef } from './parse-ref';
export type { ParsedRef } from './parse-ref';
export { createSecretStore, parseStoreDefinition } from './create-secret-store';
export type { CreateSecretStoreOptions } from './create-secret-store';
export { createVaultStore } from './vault-store';
export type { VaultStoreOptions } from './vault-store';
export { createAwsSecretsManagerStore } from './aws-secrets-manager-store';
export type { AwsSecretsManagerStoreOptions } from './aws-secrets-manager-store';
export { shapeValue } from './shape-value';
export type { ShapeResult } from './shape-value';
export { refFor, secretSourceSchema } from './secret-source';
export type { SecretSource } from './secret-source';
export { createExternalResolver } from './external-resolver';
export type {
  ExternalResolverOptions,
  ExternalSecretResolver,
  FetchedInfo,
  ResolveRequest,
} from './external-resolver';
// Local stand-ins (127.0.0.1) for Vault and Secrets Manager: for the server's tests, the
// leak suite and the dispatch benchmark. They never reach a real store.
export { startVaultStandIn } from './stand-ins/vault-stand-in';
export type { VaultStandIn, VaultStandInOptions, VaultStandInRequest } from './stand-ins/vault-stand-in';
export { startAwsStandIn } from './stand-ins/aws-stand-in';
export type { AwsStandIn, AwsStandInOptions, AwsStandInRequest } from './stand-ins/aws-stand-in';
