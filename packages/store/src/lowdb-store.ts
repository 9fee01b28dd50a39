// The embedded default Store (SPEC §7): lowdb 7 on one JSON file for the small, slowly
// changing entities, and append-only JSON-lines files for run records (per project) and
// audit events (per workspace), which grow without bound and must not slow every write.
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { AppendLog } from './append-log';
import { deepFreeze } from './frozen';
import { MainDocument } from './main-document';
import type { StoreDocument } from './store-document';
import { StoreError, type StoreLogger } from './store-error';
import type {
  AuditEvent,
  AuditRepo,
  FlowsRepo,
  MembersRepo,
  MetaRepo,
  Project,
  ProjectsRepo,
  RunsRepo,
  Secret,
  SecretStoresRepo,
  SecretsRepo,
  SettingsRepo,
  Store,
  StoredRun,
  UsersRepo,
  WorkspacesRepo,
} from './types';

export interface LowdbStoreOptions {
  dataDir: string;
  retention?: {
    /** newest run records kept per project (default 10,000) */
    runsPerProject?: number;
    /** newest audit events kept per workspace (default 100,000) */
    auditPerWorkspace?: number;
  };
  logger?: StoreLogger;
}

export const BASE_ENVIRONMENTS = ['development', 'production'] as const;
const MAIN_FILE = 'flowsafe.json';
const FILE_ID = /^[A-Za-z0-9_-]{1,128}$/;

/** What the repositories need: the main document (live or a transaction draft) and the logs. */
interface Context {
  doc(): StoreDocument;
  change<T>(fn: (doc: StoreDocument) => T): Promise<T>;
  /** log-file work: now, or after the transaction commits */
  afterCommit(action: () => Promise<void>): Promise<void>;
  runs(projectId: string): AppendLog<StoredRun>;
  audit(workspaceId: string): AppendLog<AuditEvent>;
  transaction<T>(fn: (tx: Store) => Promise<T>): Promise<T>;
}

/** Opens (or creates) the store in `dataDir`; an invalid main file stops here, naming it. */
export async function openLowdbStore(options: LowdbStoreOptions): Promise<Store> {
  const dataDir = resolve(options.dataDir);
  await mkdir(join(dataDir, 'runs'), { recursive: true, mode: 0o700 });
  await mkdir(join(dataDir, 'audit'), { recursive: true, mode: 0o700 });
  const main = await MainDocument.open(join(dataDir, MAIN_FILE));

  const runsLimit = options.retention?.runsPerProject ?? 10_000;
  const auditLimit = options.retention?.auditPerWorkspace ?? 100_000;
  const logs = new Map<string, AppendLog<never>>();
  function log<T extends { id: string }>(dir: 'runs' | 'audit', id: string, limit: number): AppendLog<T> {
    // keyed by dir/id: only ids that passed FILE_ID (no '/') are ever stored
    const key = `${dir}/${id}`;
    let existing = logs.get(key);
    if (!existing) {
      if (!FILE_ID.test(id))
        throw new StoreError('INVALID_INPUT', `invalid id ${JSON.stringify(id.slice(0, 40))}`);
      const file = join(dataDir, dir, `${id}.jsonl`);
      existing = new AppendLog<never>({
        file,
        limit,
        // what lists filter on: a project's runs by flow, a workspace's audit by project
        keyOf: (dir === 'runs' ? (r: StoredRun) => r.flowId : (e: AuditEvent) => e.projectId) as (
          record: never,
        ) => string | undefined,
        logger: options.logger,
      });
      logs.set(key, existing);
    }
    return existing as unknown as AppendLog<T>;
  }

  const inTransaction = new AsyncLocalStorage<true>();
  const live: Context = {
    doc: () => main.data,
    change(fn) {
      if (inTransaction.getStore()) {
        return Promise.reject(
          new StoreError(
            'INVALID_INPUT',
            'inside store.transaction(fn) write through the tx store given to fn',
          ),
        );
      }
      return main.change(fn);
    },
    afterCommit: (action) => action(),
    runs: (projectId) => log<StoredRun>('runs', projectId, runsLimit),
    audit: (workspaceId) => log<AuditEvent>('audit', workspaceId, auditLimit),
    async transaction(fn) {
      const pending: Array<() => Promise<void>> = [];
      const result = await live.change(async (doc) => {
        // records are frozen and replaced on change, so new lists over the same records are a
        // draft the live document cannot see until it commits
        const draft = draftOf(doc);
        const tx = createStore(transactionContext(live, draft, pending), close);
        const value = await inTransaction.run(true, () => fn(tx));
        main.replace(draft);
        return value;
      });
      for (const action of pending) await action();
      return result;
    },
  };

  async function close(): Promise<void> {
    await main.close();
    for (const l of logs.values()) await l.close();
  }

  return createStore(live, close);
}

function draftOf(doc: StoreDocument): StoreDocument {
  return {
    version: doc.version,
    users: [...doc.users],
    workspaces: [...doc.workspaces],
    members: [...doc.members],
    projects: [...doc.projects],
    secrets: [...doc.secrets],
    settings: [...doc.settings],
    flows: [...doc.flows],
    secretStores: [...doc.secretStores],
    meta: { ...doc.meta },
  };
}

function transactionContext(
  live: Context,
  draft: StoreDocument,
  pending: Array<() => Promise<void>>,
): Context {
  const tx: Context = {
    doc: () => draft,
    change: (fn) => Promise.resolve(fn(draft)),
    afterCommit(action) {
      pending.push(action);
      return Promise.resolve();
    },
    runs: live.runs,
    audit: live.audit,
    transaction: (fn) => fn(store),
  };
  const store = createStore(tx, () => Promise.resolve());
  return tx;
}

function createStore(ctx: Context, close: () => Promise<void>): Store {
  return {
    users: usersRepo(ctx),
    workspaces: workspacesRepo(ctx),
    members: membersRepo(ctx),
    projects: projectsRepo(ctx),
    secrets: secretsRepo(ctx),
    settings: settingsRepo(ctx),
    flows: flowsRepo(ctx),
    audit: auditRepo(ctx),
    runs: runsRepo(ctx),
    secretStores: secretStoresRepo(ctx),
    meta: metaRepo(ctx),
    transaction: (fn) => ctx.transaction(fn),
    close,
  };
}

const now = (): string => new Date().toISOString();
const copy = <T>(value: T): T => structuredClone(value);

/** Puts the frozen `record` in place of `list[index]` and returns it. */
function replaceAt<T>(list: T[], index: number, record: T): T {
  list[index] = deepFreeze(record);
  return record;
}
const byName = (a: { name: string }, b: { name: string }): number =>
  a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
const clampLimit = (limit: number | undefined, fallback: number): number =>
  Math.max(1, Math.min(Math.floor(limit ?? fallback), 1000));

/** Removes the item matching `pred` from `list`; true when there was one. */
function removeWhere<T>(list: T[], pred: (item: T) => boolean): boolean {
  const index = list.findIndex(pred);
  if (index < 0) return false;
  list.splice(index, 1);
  return true;
}

function usersRepo(ctx: Context): UsersRepo {
  return {
    create: ({ name, tokenHash }) =>
      ctx.change((doc) => {
        if (doc.users.some((u) => u.tokenHash === tokenHash))
          throw new StoreError('CONFLICT', 'a user with this token already exists');
        const user = deepFreeze({ id: randomUUID(), name, tokenHash, createdAt: now() });
        doc.users.push(user);
        return user;
      }),
    get: async (id) => ctx.doc().users.find((u) => u.id === id),
    findByTokenHash: async (tokenHash) => ctx.doc().users.find((u) => u.tokenHash === tokenHash),
    count: async () => ctx.doc().users.length,
  };
}

function workspacesRepo(ctx: Context): WorkspacesRepo {
  return {
    create: ({ name }) =>
      ctx.change((doc) => {
        const workspace = deepFreeze({ id: randomUUID(), name, createdAt: now() });
        doc.workspaces.push(workspace);
        return workspace;
      }),
    get: async (id) => ctx.doc().workspaces.find((w) => w.id === id),
    list: async (ids) => {
      const wanted = new Set(ids);
      return ctx.doc().workspaces.filter((w) => wanted.has(w.id));
    },
    listAll: async () => [...ctx.doc().workspaces],
  };
}

function membersRepo(ctx: Context): MembersRepo {
  const indexOf = (doc: StoreDocument, workspaceId: string, userId: string) =>
    doc.members.findIndex((m) => m.workspaceId === workspaceId && m.userId === userId);
  return {
    // adding an existing member changes its role (as the PostgreSQL adapter's upsert does)
    add: (member) =>
      ctx.change((doc) => {
        const record = { workspaceId: member.workspaceId, userId: member.userId, role: member.role };
        const index = indexOf(doc, member.workspaceId, member.userId);
        if (index >= 0) return replaceAt(doc.members, index, record);
        doc.members.push(deepFreeze(record));
        return record;
      }),
    get: async (workspaceId, userId) =>
      ctx.doc().members.find((m) => m.workspaceId === workspaceId && m.userId === userId),
    listByWorkspace: async (workspaceId) => ctx.doc().members.filter((m) => m.workspaceId === workspaceId),
    listByUser: async (userId) => ctx.doc().members.filter((m) => m.userId === userId),
    update: (workspaceId, userId, role) =>
      ctx.change((doc) => {
        const index = indexOf(doc, workspaceId, userId);
        const existing = doc.members[index];
        return existing && replaceAt(doc.members, index, { ...existing, role });
      }),
    remove: (workspaceId, userId) =>
      ctx.change((doc) =>
        removeWhere(doc.members, (m) => m.workspaceId === workspaceId && m.userId === userId),
      ),
  };
}

function withBaseEnvironments(environments: string[] | undefined): string[] {
  return [...new Set([...BASE_ENVIRONMENTS, ...(environments ?? [])])];
}

function projectsRepo(ctx: Context): ProjectsRepo {
  return {
    create: ({ workspaceId, name, environments }) =>
      ctx.change((doc) => {
        const project: Project = deepFreeze({
          id: randomUUID(),
          workspaceId,
          name,
          environments: withBaseEnvironments(environments),
          policy: { requireAllowedHosts: false },
          createdAt: now(),
        });
        doc.projects.push(project);
        return project;
      }),
    get: async (id) => ctx.doc().projects.find((p) => p.id === id),
    getWithAccess: async (id, userId, flowId) => {
      const doc = ctx.doc();
      const project = doc.projects.find((p) => p.id === id);
      if (!project) return undefined;
      const member = doc.members.find((m) => m.workspaceId === project.workspaceId && m.userId === userId);
      const flow =
        flowId === undefined ? undefined : doc.flows.find((f) => f.projectId === id && f.id === flowId);
      return { project, ...(member && { role: member.role }), ...(flow && { flow }) };
    },
    listByWorkspace: async (workspaceId) => ctx.doc().projects.filter((p) => p.workspaceId === workspaceId),
    update: (id, patch) =>
      ctx.change((doc) => {
        const index = doc.projects.findIndex((p) => p.id === id);
        const project = doc.projects[index];
        if (!project) return undefined;
        const next = { ...project };
        if (patch.name !== undefined) next.name = patch.name;
        if (patch.environments !== undefined) next.environments = withBaseEnvironments(patch.environments);
        if (patch.policy !== undefined) next.policy = { ...patch.policy };
        return replaceAt(doc.projects, index, next);
      }),
    delete: async (id) => {
      const removed = await ctx.change((doc) => {
        if (!removeWhere(doc.projects, (p) => p.id === id)) return false;
        doc.secrets = doc.secrets.filter((s) => s.projectId !== id);
        doc.settings = doc.settings.filter((s) => s.projectId !== id);
        doc.flows = doc.flows.filter((f) => f.projectId !== id);
        return true;
      });
      if (removed && FILE_ID.test(id)) await ctx.afterCommit(() => ctx.runs(id).remove());
      return removed;
    },
  };
}

const SECRET_OPTIONAL = ['allowedHosts', 'description', 'missing', 'source'] as const;
const SECRET_MUTABLE = ['type', 'visibility', 'wrappedKey', 'values', ...SECRET_OPTIONAL] as const;

function secretsRepo(ctx: Context): SecretsRepo {
  const find = (doc: StoreDocument, projectId: string, name: string) =>
    doc.secrets.find((s) => s.projectId === projectId && s.name === name);
  return {
    create: (input) =>
      ctx.change((doc) => {
        if (find(doc, input.projectId, input.name)) {
          throw new StoreError('CONFLICT', `secret ${input.name} already exists in this project`);
        }
        const at = now();
        const secret: Secret = { ...copy(input), id: input.id ?? randomUUID(), createdAt: at, updatedAt: at };
        for (const key of SECRET_OPTIONAL) if (secret[key] === undefined) delete secret[key];
        doc.secrets.push(deepFreeze(secret));
        return secret;
      }),
    get: async (projectId, name) => find(ctx.doc(), projectId, name),
    list: async (projectId) =>
      ctx
        .doc()
        .secrets.filter((s) => s.projectId === projectId)
        .sort(byName),
    listByWorkspace: async (workspaceId) =>
      ctx
        .doc()
        .secrets.filter((s) => s.workspaceId === workspaceId)
        .sort(byName),
    update: (projectId, name, patch) =>
      ctx.change((doc) => {
        const index = doc.secrets.findIndex((s) => s.projectId === projectId && s.name === name);
        const stored = doc.secrets[index];
        if (!stored) return undefined;
        const secret = { ...stored };
        const target = secret as unknown as Record<string, unknown>;
        for (const key of SECRET_MUTABLE) {
          if (!(key in patch)) continue;
          const value = patch[key];
          if (value === undefined) {
            if ((SECRET_OPTIONAL as readonly string[]).includes(key)) delete target[key];
          } else target[key] = copy(value);
        }
        secret.updatedAt = now();
        return replaceAt(doc.secrets, index, secret);
      }),
    delete: (projectId, name) =>
      ctx.change((doc) => removeWhere(doc.secrets, (s) => s.projectId === projectId && s.name === name)),
  };
}

function settingsRepo(ctx: Context): SettingsRepo {
  const find = (doc: StoreDocument, projectId: string, name: string) =>
    doc.settings.find((s) => s.projectId === projectId && s.name === name);
  return {
    put: (projectId, name, values) =>
      ctx.change((doc) => {
        const at = now();
        const index = doc.settings.findIndex((s) => s.projectId === projectId && s.name === name);
        const existing = doc.settings[index];
        if (existing)
          return replaceAt(doc.settings, index, { ...existing, values: { ...values }, updatedAt: at });
        const setting = deepFreeze({
          id: randomUUID(),
          projectId,
          name,
          values: { ...values },
          createdAt: at,
          updatedAt: at,
        });
        doc.settings.push(setting);
        return setting;
      }),
    get: async (projectId, name) => find(ctx.doc(), projectId, name),
    list: async (projectId) =>
      ctx
        .doc()
        .settings.filter((s) => s.projectId === projectId)
        .sort(byName),
    delete: (projectId, name) =>
      ctx.change((doc) => removeWhere(doc.settings, (s) => s.projectId === projectId && s.name === name)),
  };
}

function flowsRepo(ctx: Context): FlowsRepo {
  const find = (doc: StoreDocument, projectId: string, id: string) =>
    doc.flows.find((f) => f.projectId === projectId && f.id === id);
  return {
    create: ({ projectId, name, definition }) =>
      ctx.change((doc) => {
        const at = now();
        const flow = deepFreeze({
          id: randomUUID(),
          projectId,
          name,
          definition: copy(definition),
          createdAt: at,
          updatedAt: at,
        });
        doc.flows.push(flow);
        return flow;
      }),
    get: async (projectId, id) => find(ctx.doc(), projectId, id),
    list: async (projectId) => ctx.doc().flows.filter((f) => f.projectId === projectId),
    update: (projectId, id, patch) =>
      ctx.change((doc) => {
        const index = doc.flows.findIndex((f) => f.projectId === projectId && f.id === id);
        const stored = doc.flows[index];
        if (!stored) return undefined;
        const flow = { ...stored };
        if (patch.name !== undefined) flow.name = patch.name;
        if (patch.definition !== undefined) flow.definition = copy(patch.definition);
        flow.updatedAt = now();
        return replaceAt(doc.flows, index, flow);
      }),
    delete: (projectId, id) =>
      ctx.change((doc) => removeWhere(doc.flows, (f) => f.projectId === projectId && f.id === id)),
  };
}

function auditRepo(ctx: Context): AuditRepo {
  return {
    async append(input) {
      // every field is a string but `details`, whose values are primitives: two shallow
      // copies make an event that shares nothing with the caller's input
      const event: AuditEvent = { ...input, id: randomUUID(), at: input.at ?? now() };
      if (input.details !== undefined) event.details = { ...input.details };
      const log = ctx.audit(event.workspaceId);
      // serialised now: the line is the snapshot (a transaction appends it after commit)
      const line = JSON.stringify(event);
      await ctx.afterCommit(() => log.appendLine(event.id, line, event.projectId));
      return event;
    },
    async list(workspaceId, opts = {}) {
      const { projectId } = opts;
      return ctx.audit(workspaceId).list({
        limit: clampLimit(opts.limit, 100),
        cursor: opts.cursor,
        key: projectId,
      });
    },
  };
}

function runsRepo(ctx: Context): RunsRepo {
  return {
    async save(run) {
      const log = ctx.runs(run.projectId);
      // serialised now: the line is the snapshot (a transaction appends it after commit)
      const line = JSON.stringify(run);
      await ctx.afterCommit(() => log.appendLine(run.id, line, run.flowId));
    },
    get: (projectId, runId) => ctx.runs(projectId).get(runId),
    async list(projectId, opts = {}) {
      const { flowId } = opts;
      return ctx.runs(projectId).list({
        limit: clampLimit(opts.limit, 50),
        cursor: opts.cursor,
        key: flowId,
      });
    },
  };
}

function secretStoresRepo(ctx: Context): SecretStoresRepo {
  const find = (doc: StoreDocument, workspaceId: string, name: string) =>
    doc.secretStores.find((s) => s.workspaceId === workspaceId && s.name === name);
  return {
    create: (input) =>
      ctx.change((doc) => {
        if (find(doc, input.workspaceId, input.name)) {
          throw new StoreError('CONFLICT', `secret store ${input.name} already exists in this workspace`);
        }
        const at = now();
        const config = deepFreeze({ ...copy(input), id: randomUUID(), createdAt: at, updatedAt: at });
        doc.secretStores.push(config);
        return config;
      }),
    get: async (workspaceId, name) => find(ctx.doc(), workspaceId, name),
    list: async (workspaceId) =>
      ctx
        .doc()
        .secretStores.filter((s) => s.workspaceId === workspaceId)
        .sort(byName),
    update: (workspaceId, name, patch) =>
      ctx.change((doc) => {
        const index = doc.secretStores.findIndex((s) => s.workspaceId === workspaceId && s.name === name);
        const stored = doc.secretStores[index];
        if (!stored) return undefined;
        const config = { ...stored };
        if (patch.config !== undefined) config.config = { ...patch.config };
        if (patch.credentials !== undefined) config.credentials = copy(patch.credentials);
        if (patch.wrappedKey !== undefined) config.wrappedKey = { ...patch.wrappedKey };
        if (patch.cacheTtlS !== undefined) config.cacheTtlS = patch.cacheTtlS;
        config.updatedAt = now();
        return replaceAt(doc.secretStores, index, config);
      }),
    delete: (workspaceId, name) =>
      ctx.change((doc) =>
        removeWhere(doc.secretStores, (s) => s.workspaceId === workspaceId && s.name === name),
      ),
  };
}

function metaRepo(ctx: Context): MetaRepo {
  return {
    get: async (key) => (Object.hasOwn(ctx.doc().meta, key) ? ctx.doc().meta[key] : undefined),
    set: async (key, value) => {
      await ctx.change((doc) => {
        // defineProperty: a key like __proto__ stays a plain entry
        Object.defineProperty(doc.meta, key, { value, enumerable: true, writable: true, configurable: true });
      });
    },
  };
}
