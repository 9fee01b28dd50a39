// @flowsafe/store: the persistence contract and its embedded lowdb adapter.
export { BASE_ENVIRONMENTS, openLowdbStore } from './lowdb-store';
export type { LowdbStoreOptions } from './lowdb-store';
export { StoreError } from './store-error';
export type { StoreErrorCode, StoreLogger } from './store-error';
export type {
  AuditAction,
  AuditEvent,
  AuditRepo,
  Flow,
  FlowsRepo,
  Member,
  MembersRepo,
  MetaRepo,
  Page,
  Project,
  ProjectPolicy,
  ProjectsRepo,
  Role,
  RunStatus,
  RunsRepo,
  Secret,
  SecretSource,
  SecretStoreConfig,
  SecretStoresRepo,
  SecretsRepo,
  Setting,
  SettingsRepo,
  Store,
  StoredRun,
  User,
  UsersRepo,
  Workspace,
  WorkspacesRepo,
} from './types';
