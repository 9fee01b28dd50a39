// The persistence contract of flowsafe. Callers (apps/server, the CLI, workers) only see
// these interfaces; the embedded lowdb adapter and the PostgreSQL adapter both implement
// them and both pass the one contract test suite (contract.ts).
import type { SealedValue, SecretType, Visibility, WrappedKey } from '@flowsafe/secrets';

export type Role = 'owner' | 'admin' | 'editor' | 'viewer';

export interface User {
  id: string;
  name: string;
  /** hex SHA-256 of the bearer token; the token itself is never stored */
  tokenHash: string;
  createdAt: string;
}

export interface Workspace {
  id: string;
  name: string;
  createdAt: string;
}

export interface Member {
  workspaceId: string;
  userId: string;
  role: Role;
}

export interface ProjectPolicy {
  requireAllowedHosts: boolean;
}

export interface Project {
  id: string;
  workspaceId: string;
  name: string;
  /** always contains 'development' and 'production' */
  environments: string[];
  policy: ProjectPolicy;
  createdAt: string;
}

/** Where an external secret's value lives (SPEC §12). */
export interface SecretSource {
  store: string;
  ref: string;
  environments?: Record<string, string>;
}

export interface Secret {
  id: string;
  workspaceId: string;
  projectId: string;
  name: string;
  type: SecretType;
  visibility: Visibility;
  allowedHosts?: string[];
  description?: string;
  /** this secret's data key, wrapped by the master key */
  wrappedKey: WrappedKey;
  /** sealed values keyed by 'default' or an environment name */
  values: Record<string, SealedValue>;
  /** environments that had a value in the project this one was imported/duplicated from (shown as missing) */
  missing?: string[];
  source?: SecretSource;
  createdAt: string;
  updatedAt: string;
}

export interface Setting {
  id: string;
  projectId: string;
  name: string;
  /** plain values keyed by 'default' or an environment name */
  values: Record<string, string>;
  createdAt: string;
  updatedAt: string;
}

export interface Flow {
  id: string;
  projectId: string;
  name: string;
  /** the flow definition (SPEC §6), validated by @flowsafe/runner before it is saved */
  definition: unknown;
  createdAt: string;
  updatedAt: string;
}

export type AuditAction =
  | 'secret.create'
  | 'secret.update'
  | 'secret.delete'
  | 'secret.reveal'
  | 'secret.override.set'
  | 'secret.override.delete'
  | 'secret.use'
  | 'secret.make-setting'
  | 'setting.make-secret'
  | 'member.add'
  | 'member.update'
  | 'member.remove'
  | 'store.create'
  | 'store.update'
  | 'store.delete'
  | 'project.export'
  | 'project.import'
  | 'project.duplicate'
  | 'key.rotate';

export interface AuditEvent {
  id: string;
  at: string;
  workspaceId: string;
  projectId?: string;
  /** user id, or 'system' */
  actor: string;
  action: AuditAction;
  secret?: string;
  environment?: string;
  flowId?: string;
  runId?: string;
  /** free-form, never a value */
  details?: Record<string, string | number | boolean>;
}

export type RunStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';

/** A stored run record (SPEC §6): everything in it has passed the redactor. */
export interface StoredRun {
  id: string;
  projectId: string;
  flowId: string;
  environment: string;
  status: RunStatus;
  queuedAt: string;
  startedAt?: string;
  durationMs?: number;
  steps: unknown[];
  output?: unknown;
  error?: { code: string; message: string };
  /** who started it */
  actor?: string;
  /** the run's input (flow variables, never a secret value; passed through the project's
   *  redactor), kept where another process executes the run (PostgreSQL mode) */
  input?: unknown;
}

export interface SecretStoreConfig {
  id: string;
  workspaceId: string;
  name: string;
  type: 'vault' | 'aws-secrets-manager';
  /** non-secret configuration (address, mount, region, endpoint, roleId, accessKeyId, ...) */
  config: Record<string, string>;
  /** sealed credentials (token, secretId, secretAccessKey) */
  wrappedKey: WrappedKey;
  credentials: SealedValue;
  cacheTtlS: number;
  createdAt: string;
  updatedAt: string;
}

export interface Page<T> {
  items: T[];
  /** opaque cursor for the next page, absent on the last page */
  next?: string;
  total?: number;
}

export interface UsersRepo {
  create(user: Omit<User, 'id' | 'createdAt'>): Promise<User>;
  get(id: string): Promise<User | undefined>;
  findByTokenHash(tokenHash: string): Promise<User | undefined>;
  count(): Promise<number>;
}

export interface WorkspacesRepo {
  create(input: { name: string }): Promise<Workspace>;
  get(id: string): Promise<Workspace | undefined>;
  list(ids: string[]): Promise<Workspace[]>;
  /** every workspace (operator commands such as rotate-key) */
  listAll(): Promise<Workspace[]>;
}

export interface MembersRepo {
  add(member: Member): Promise<Member>;
  get(workspaceId: string, userId: string): Promise<Member | undefined>;
  listByWorkspace(workspaceId: string): Promise<Member[]>;
  listByUser(userId: string): Promise<Member[]>;
  update(workspaceId: string, userId: string, role: Role): Promise<Member | undefined>;
  remove(workspaceId: string, userId: string): Promise<boolean>;
}

export interface ProjectsRepo {
  create(input: { workspaceId: string; name: string; environments?: string[] }): Promise<Project>;
  get(id: string): Promise<Project | undefined>;
  /**
   * The project plus `userId`'s role in its workspace (undefined role for a non-member), in one
   * read: role checks on project-scoped requests need both. Undefined for an unknown project.
   */
  getWithAccess(
    id: string,
    userId: string,
    /** also read this flow of the project, in the same read (undefined when it does not exist) */
    flowId?: string,
  ): Promise<{ project: Project; role?: Role; flow?: Flow } | undefined>;
  listByWorkspace(workspaceId: string): Promise<Project[]>;
  update(
    id: string,
    patch: Partial<Pick<Project, 'name' | 'environments' | 'policy'>>,
  ): Promise<Project | undefined>;
  /** deletes the project and everything in it (secrets, settings, flows, runs) */
  delete(id: string): Promise<boolean>;
}

export interface SecretsRepo {
  create(secret: Omit<Secret, 'id' | 'createdAt' | 'updatedAt'> & { id?: string }): Promise<Secret>;
  get(projectId: string, name: string): Promise<Secret | undefined>;
  list(projectId: string): Promise<Secret[]>;
  /** every secret of a workspace (rotation, store usages) */
  listByWorkspace(workspaceId: string): Promise<Secret[]>;
  /** replace mutable fields; name, id, projectId are immutable */
  update(
    projectId: string,
    name: string,
    patch: Partial<Omit<Secret, 'id' | 'projectId' | 'workspaceId' | 'name' | 'createdAt'>>,
  ): Promise<Secret | undefined>;
  delete(projectId: string, name: string): Promise<boolean>;
}

export interface SettingsRepo {
  put(projectId: string, name: string, values: Record<string, string>): Promise<Setting>;
  get(projectId: string, name: string): Promise<Setting | undefined>;
  list(projectId: string): Promise<Setting[]>;
  delete(projectId: string, name: string): Promise<boolean>;
}

export interface FlowsRepo {
  create(input: { projectId: string; name: string; definition: unknown }): Promise<Flow>;
  get(projectId: string, id: string): Promise<Flow | undefined>;
  list(projectId: string): Promise<Flow[]>;
  update(
    projectId: string,
    id: string,
    patch: { name?: string; definition?: unknown },
  ): Promise<Flow | undefined>;
  delete(projectId: string, id: string): Promise<boolean>;
}

export interface AuditRepo {
  append(event: Omit<AuditEvent, 'id' | 'at'> & { at?: string }): Promise<AuditEvent>;
  /** newest first */
  list(
    workspaceId: string,
    opts?: { projectId?: string; limit?: number; cursor?: string },
  ): Promise<Page<AuditEvent>>;
}

export interface RunsRepo {
  /** insert or replace (by id) */
  save(run: StoredRun): Promise<void>;
  get(projectId: string, runId: string): Promise<StoredRun | undefined>;
  /** newest first */
  list(
    projectId: string,
    opts?: { flowId?: string; limit?: number; cursor?: string },
  ): Promise<Page<StoredRun>>;
}

export interface SecretStoresRepo {
  create(input: Omit<SecretStoreConfig, 'id' | 'createdAt' | 'updatedAt'>): Promise<SecretStoreConfig>;
  get(workspaceId: string, name: string): Promise<SecretStoreConfig | undefined>;
  list(workspaceId: string): Promise<SecretStoreConfig[]>;
  update(
    workspaceId: string,
    name: string,
    patch: Partial<Pick<SecretStoreConfig, 'config' | 'credentials' | 'wrappedKey' | 'cacheTtlS'>>,
  ): Promise<SecretStoreConfig | undefined>;
  delete(workspaceId: string, name: string): Promise<boolean>;
}

export interface MetaRepo {
  get(key: string): Promise<string | undefined>;
  set(key: string, value: string): Promise<void>;
}

export interface Store {
  users: UsersRepo;
  workspaces: WorkspacesRepo;
  members: MembersRepo;
  projects: ProjectsRepo;
  secrets: SecretsRepo;
  settings: SettingsRepo;
  flows: FlowsRepo;
  audit: AuditRepo;
  runs: RunsRepo;
  secretStores: SecretStoresRepo;
  meta: MetaRepo;
  /** Run fn with every write inside it applied together or not at all. */
  transaction<T>(fn: (tx: Store) => Promise<T>): Promise<T>;
  /** flush pending writes and release files/connections */
  close(): Promise<void>;
}
