// @flowsafe/store: the persistence contract and its embedded lowdb adapter.
export type {
  AuditAction, AuditEvent, AuditRepo, Flow, FlowsRepo, Member, MembersRepo, MetaRepo, Page, Project,
  ProjectPolicy, ProjectsRepo, Role, RunStatus, RunsRepo, Secret, SecretSource, SecretStoreConfig,
  SecretStoresRepo, SecretsRepo, Setting, SettingsRepo, Store, StoredRun, User, UsersRepo, Workspace,
  WorkspacesRepo,
} from './types';
