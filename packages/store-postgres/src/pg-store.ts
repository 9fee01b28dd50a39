// The PostgreSQL adapter of @flowsafe/store's Store interface. Every repository runs its SQL
// on a Queryable: the pool normally, or one client inside transaction(), so callers never
// learn which adapter they talk to. Sealed values are stored as bytea, one row per field.
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import type { Pool, PoolClient, QueryResultRow } from 'pg';
import type {
  AuditEvent,
  AuditRepo,
  Flow,
  FlowsRepo,
  Member,
  MembersRepo,
  MetaRepo,
  Page,
  Project,
  ProjectsRepo,
  Role,
  RunsRepo,
  Secret,
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
} from '@flowsafe/store';
import { BASE_ENVIRONMENTS, StoreError } from '@flowsafe/store';
import type { SealedValue, WrappedKey } from '@flowsafe/secrets';
import { PostgresStoreError } from './errors';
import { PreparingClient } from './prepared-client';
import { runQueries, type RunQueries } from './run-queries';

type Queryable = Pick<Pool, 'query'> | PoolClient;
type Row = QueryResultRow;

const now = (): string => new Date().toISOString();
const iso = (v: unknown): string => (v instanceof Date ? v.toISOString() : String(v));
const b64 = (v: Buffer): string => v.toString('base64');
const buf = (v: string): Buffer => Buffer.from(v, 'base64');
const optional = <T>(v: T | null | undefined): T | undefined => (v === null ? undefined : v);

/** Map a unique violation to the store's CONFLICT error; rethrow anything else. */
function conflict(err: unknown, what: string): never {
  if ((err as { code?: string }).code === '23505') throw new StoreError('CONFLICT', `${what} already exists`);
  throw err;
}

async function rows<T extends Row>(db: Queryable, sql: string, params: unknown[] = []): Promise<T[]> {
  const result = await db.query<T>(sql, params);
  return result.rows;
}

async function one<T extends Row>(
  db: Queryable,
  sql: string,
  params: unknown[] = [],
): Promise<T | undefined> {
  return (await rows<T>(db, sql, params))[0];
}

function encodeCursor(seq: string | number): string {
  return Buffer.from(String(seq)).toString('base64url');
}

function decodeCursor(cursor: string | undefined): string | undefined {
  if (!cursor) return undefined;
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  return /^\d+$/.test(text) ? text : undefined;
}

function clampLimit(limit: number | undefined, fallback: number): number {
  return Math.max(1, Math.min(limit ?? fallback, 1000));
}

// ---- users, workspaces, members -------------------------------------------------------

const toUser = (r: Row): User => ({
  id: r.id,
  name: r.name,
  tokenHash: r.token_hash,
  createdAt: iso(r.created_at),
});

function usersRepo(db: Queryable): UsersRepo {
  return {
    async create(input) {
      const user: User = { id: randomUUID(), name: input.name, tokenHash: input.tokenHash, createdAt: now() };
      await db
        .query('INSERT INTO users (id, name, token_hash, created_at) VALUES ($1, $2, $3, $4)', [
          user.id,
          user.name,
          user.tokenHash,
          user.createdAt,
        ])
        .catch((e: unknown) => conflict(e, 'a user with this token'));
      return user;
    },
    async get(id) {
      const r = await one(db, 'SELECT * FROM users WHERE id = $1', [id]);
      return r && toUser(r);
    },
    async findByTokenHash(tokenHash) {
      const r = await one(db, 'SELECT * FROM users WHERE token_hash = $1', [tokenHash]);
      return r && toUser(r);
    },
    async count() {
      const r = await one<{ n: string }>(db, 'SELECT count(*) AS n FROM users');
      return Number(r?.n ?? 0);
    },
  };
}

const toWorkspace = (r: Row): Workspace => ({ id: r.id, name: r.name, createdAt: iso(r.created_at) });

function workspacesRepo(db: Queryable): WorkspacesRepo {
  return {
    async create({ name }) {
      const ws: Workspace = { id: randomUUID(), name, createdAt: now() };
      await db.query('INSERT INTO workspaces (id, name, created_at) VALUES ($1, $2, $3)', [
        ws.id,
        ws.name,
        ws.createdAt,
      ]);
      return ws;
    },
    async get(id) {
      const r = await one(db, 'SELECT * FROM workspaces WHERE id = $1', [id]);
      return r && toWorkspace(r);
    },
    async list(ids) {
      if (ids.length === 0) return [];
      return (
        await rows(db, 'SELECT * FROM workspaces WHERE id = ANY($1) ORDER BY created_at, id', [ids])
      ).map(toWorkspace);
    },
    async listAll() {
      return (await rows(db, 'SELECT * FROM workspaces ORDER BY created_at, id')).map(toWorkspace);
    },
  };
}

const toMember = (r: Row): Member => ({
  workspaceId: r.workspace_id,
  userId: r.user_id,
  role: r.role as Role,
});

function membersRepo(db: Queryable): MembersRepo {
  return {
    async add(member) {
      await db.query(
        `INSERT INTO members (workspace_id, user_id, role) VALUES ($1, $2, $3)
         ON CONFLICT (workspace_id, user_id) DO UPDATE SET role = EXCLUDED.role`,
        [member.workspaceId, member.userId, member.role],
      );
      return { ...member };
    },
    async get(workspaceId, userId) {
      const r = await one(db, 'SELECT * FROM members WHERE workspace_id = $1 AND user_id = $2', [
        workspaceId,
        userId,
      ]);
      return r && toMember(r);
    },
    async listByWorkspace(workspaceId) {
      return (
        await rows(db, 'SELECT * FROM members WHERE workspace_id = $1 ORDER BY user_id', [workspaceId])
      ).map(toMember);
    },
    async listByUser(userId) {
      return (await rows(db, 'SELECT * FROM members WHERE user_id = $1 ORDER BY workspace_id', [userId])).map(
        toMember,
      );
    },
    async update(workspaceId, userId, role) {
      const r = await one(
        db,
        'UPDATE members SET role = $3 WHERE workspace_id = $1 AND user_id = $2 RETURNING *',
        [workspaceId, userId, role],
      );
      return r && toMember(r);
    },
    async remove(workspaceId, userId) {
      const r = await db.query('DELETE FROM members WHERE workspace_id = $1 AND user_id = $2', [
        workspaceId,
        userId,
      ]);
      return (r.rowCount ?? 0) > 0;
    },
  };
}

// ---- projects --------------------------------------------------------------------------

const toProject = (r: Row): Project => ({
  id: r.id,
  workspaceId: r.workspace_id,
  name: r.name,
  environments: r.environments,
  policy: r.policy,
  createdAt: iso(r.created_at),
});

function projectsRepo(db: Queryable): ProjectsRepo {
  return {
    async create({ workspaceId, name, environments }) {
      const envs = [...new Set([...BASE_ENVIRONMENTS, ...(environments ?? [])])];
      const project: Project = {
        id: randomUUID(),
        workspaceId,
        name,
        environments: envs,
        policy: { requireAllowedHosts: false },
        createdAt: now(),
      };
      await db.query(
        'INSERT INTO projects (id, workspace_id, name, environments, policy, created_at) VALUES ($1, $2, $3, $4, $5, $6)',
        [
          project.id,
          workspaceId,
          name,
          JSON.stringify(envs),
          JSON.stringify(project.policy),
          project.createdAt,
        ],
      );
      return project;
    },
    async get(id) {
      const r = await one(db, 'SELECT * FROM projects WHERE id = $1', [id]);
      return r && toProject(r);
    },
    async getWithAccess(id, userId, flowId) {
      // the project, the caller's role and (when asked) the flow in one statement: a run
      // request needs all three; without a flow id the flow join matches nothing
      const r = await one(
        db,
        `SELECT p.*, m.role AS member_role, f.id AS flow_id, f.name AS flow_name,
                f.definition AS flow_definition, f.created_at AS flow_created_at, f.updated_at AS flow_updated_at
           FROM projects p
           LEFT JOIN members m ON m.workspace_id = p.workspace_id AND m.user_id = $2
           LEFT JOIN flows f ON f.project_id = p.id AND f.id = $3
         WHERE p.id = $1`,
        [id, userId, flowId ?? null],
      );
      if (!r) return undefined;
      const project = toProject(r);
      const flow =
        r.flow_id === null
          ? undefined
          : toFlow({
              id: r.flow_id,
              project_id: r.id,
              name: r.flow_name,
              definition: r.flow_definition,
              created_at: r.flow_created_at,
              updated_at: r.flow_updated_at,
            });
      return {
        project,
        ...(r.member_role !== null && { role: r.member_role as Role }),
        ...(flow && { flow }),
      };
    },
    async listByWorkspace(workspaceId) {
      return (
        await rows(db, 'SELECT * FROM projects WHERE workspace_id = $1 ORDER BY created_at, id', [
          workspaceId,
        ])
      ).map(toProject);
    },
    async update(id, patch) {
      const r = await one(
        db,
        `UPDATE projects SET name = COALESCE($2, name), environments = COALESCE($3, environments),
           policy = COALESCE($4, policy) WHERE id = $1 RETURNING *`,
        [
          id,
          patch.name ?? null,
          patch.environments ? JSON.stringify(patch.environments) : null,
          patch.policy ? JSON.stringify(patch.policy) : null,
        ],
      );
      return r && toProject(r);
    },
    async delete(id) {
      // secrets, settings and flows go by ON DELETE CASCADE; runs have no foreign key (hot path); audit is kept
      await db.query('DELETE FROM runs WHERE project_id = $1', [id]);
      const r = await db.query('DELETE FROM projects WHERE id = $1', [id]);
      return (r.rowCount ?? 0) > 0;
    },
  };
}

// ---- secrets ---------------------------------------------------------------------------

interface SealedRow extends Row {
  environment?: string;
  field: string;
  iv: Buffer;
  ct: Buffer;
  tag: Buffer;
}

function toWrappedKey(r: Row): WrappedKey {
  return { kekId: r.kek_id, iv: b64(r.dek_iv), ct: b64(r.dek_ct), tag: b64(r.dek_tag) };
}

function toSecret(r: Row, valueRows: SealedRow[]): Secret {
  const values: Record<string, SealedValue> = {};
  for (const v of valueRows) {
    const env = v.environment ?? 'default';
    (values[env] ??= {})[v.field] = { iv: b64(v.iv), ct: b64(v.ct), tag: b64(v.tag) };
  }
  const secret: Secret = {
    id: r.id,
    workspaceId: r.workspace_id,
    projectId: r.project_id,
    name: r.name,
    type: r.type,
    visibility: r.visibility,
    wrappedKey: toWrappedKey(r),
    values,
    createdAt: iso(r.created_at),
    updatedAt: iso(r.updated_at),
  };
  const allowedHosts = optional(r.allowed_hosts);
  if (allowedHosts) secret.allowedHosts = allowedHosts;
  const description = optional(r.description);
  if (description !== undefined) secret.description = description;
  const missing = optional(r.missing);
  if (missing) secret.missing = missing;
  const source = optional(r.source);
  if (source) secret.source = source;
  return secret;
}

async function writeSecretValues(
  db: Queryable,
  secretId: string,
  values: Record<string, SealedValue>,
): Promise<void> {
  await db.query('DELETE FROM secret_values WHERE secret_id = $1', [secretId]);
  for (const [environment, sealed] of Object.entries(values)) {
    for (const [field, blob] of Object.entries(sealed)) {
      await db.query(
        'INSERT INTO secret_values (secret_id, environment, field, iv, ct, tag) VALUES ($1, $2, $3, $4, $5, $6)',
        [secretId, environment, field, buf(blob.iv), buf(blob.ct), buf(blob.tag)],
      );
    }
  }
}

async function loadSecrets(db: Queryable, where: string, params: unknown[], lock = false): Promise<Secret[]> {
  const secretRows = await rows(
    db,
    `SELECT * FROM secrets WHERE ${where} ORDER BY name${lock ? ' FOR UPDATE' : ''}`,
    params,
  );
  if (secretRows.length === 0) return [];
  const valueRows = await rows<SealedRow & { secret_id: string }>(
    db,
    'SELECT * FROM secret_values WHERE secret_id = ANY($1) ORDER BY environment, field',
    [secretRows.map((r) => r.id)],
  );
  const byId = new Map<string, SealedRow[]>();
  for (const v of valueRows) {
    const list = byId.get(v.secret_id) ?? [];
    list.push(v);
    byId.set(v.secret_id, list);
  }
  return secretRows.map((r) => toSecret(r, byId.get(r.id) ?? []));
}

function secretsRepo(
  db: Queryable,
  inTransaction: <T>(fn: (q: Queryable) => Promise<T>) => Promise<T>,
): SecretsRepo {
  return {
    async create(input) {
      const at = now();
      const secret: Secret = { ...input, id: input.id ?? randomUUID(), createdAt: at, updatedAt: at };
      await inTransaction(async (q) => {
        await q
          .query(
            `INSERT INTO secrets (id, workspace_id, project_id, name, type, visibility, allowed_hosts, description,
               kek_id, dek_iv, dek_ct, dek_tag, missing, source, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)`,
            [
              secret.id,
              secret.workspaceId,
              secret.projectId,
              secret.name,
              secret.type,
              secret.visibility,
              secret.allowedHosts ? JSON.stringify(secret.allowedHosts) : null,
              secret.description ?? null,
              secret.wrappedKey.kekId,
              buf(secret.wrappedKey.iv),
              buf(secret.wrappedKey.ct),
              buf(secret.wrappedKey.tag),
              secret.missing ? JSON.stringify(secret.missing) : null,
              secret.source ? JSON.stringify(secret.source) : null,
              at,
              at,
            ],
          )
          .catch((e: unknown) => conflict(e, `secret ${secret.name}`));
        await writeSecretValues(q, secret.id, secret.values);
      });
      return secret;
    },
    async get(projectId, name) {
      return (await loadSecrets(db, 'project_id = $1 AND name = $2', [projectId, name]))[0];
    },
    async list(projectId) {
      return loadSecrets(db, 'project_id = $1', [projectId]);
    },
    async listByWorkspace(workspaceId) {
      return loadSecrets(db, 'workspace_id = $1', [workspaceId]);
    },
    async update(projectId, name, patch) {
      return inTransaction(async (q) => {
        const current = (await loadSecrets(q, 'project_id = $1 AND name = $2', [projectId, name], true))[0];
        if (!current) return undefined;
        const next: Secret = { ...current, ...patch, updatedAt: now() };
        for (const key of ['allowedHosts', 'description', 'missing', 'source'] as const) {
          if (key in patch && patch[key] === undefined) delete next[key];
        }
        await q.query(
          `UPDATE secrets SET type = $2, visibility = $3, allowed_hosts = $4, description = $5, kek_id = $6,
             dek_iv = $7, dek_ct = $8, dek_tag = $9, missing = $10, source = $11, updated_at = $12 WHERE id = $1`,
          [
            current.id,
            next.type,
            next.visibility,
            next.allowedHosts ? JSON.stringify(next.allowedHosts) : null,
            next.description ?? null,
            next.wrappedKey.kekId,
            buf(next.wrappedKey.iv),
            buf(next.wrappedKey.ct),
            buf(next.wrappedKey.tag),
            next.missing ? JSON.stringify(next.missing) : null,
            next.source ? JSON.stringify(next.source) : null,
            next.updatedAt,
          ],
        );
        if (patch.values) await writeSecretValues(q, current.id, next.values);
        return next;
      });
    },
    async delete(projectId, name) {
      const r = await db.query('DELETE FROM secrets WHERE project_id = $1 AND name = $2', [projectId, name]);
      return (r.rowCount ?? 0) > 0;
    },
  };
}

// ---- settings, flows -------------------------------------------------------------------

export const toSetting = (r: Row): Setting => ({
  id: r.id,
  projectId: r.project_id,
  name: r.name,
  values: r.values,
  createdAt: iso(r.created_at),
  updatedAt: iso(r.updated_at),
});

function settingsRepo(db: Queryable): SettingsRepo {
  return {
    async put(projectId, name, values) {
      const at = now();
      const r = await one(
        db,
        `INSERT INTO settings (id, project_id, name, "values", created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5)
         ON CONFLICT (project_id, name) DO UPDATE SET "values" = EXCLUDED."values", updated_at = EXCLUDED.updated_at
         RETURNING *`,
        [randomUUID(), projectId, name, JSON.stringify(values), at],
      );
      return toSetting(r!);
    },
    async get(projectId, name) {
      const r = await one(db, 'SELECT * FROM settings WHERE project_id = $1 AND name = $2', [
        projectId,
        name,
      ]);
      return r && toSetting(r);
    },
    async list(projectId) {
      return (await rows(db, 'SELECT * FROM settings WHERE project_id = $1 ORDER BY name', [projectId])).map(
        toSetting,
      );
    },
    async delete(projectId, name) {
      const r = await db.query('DELETE FROM settings WHERE project_id = $1 AND name = $2', [projectId, name]);
      return (r.rowCount ?? 0) > 0;
    },
  };
}

export const toFlow = (r: Row): Flow => ({
  id: r.id,
  projectId: r.project_id,
  name: r.name,
  definition: r.definition,
  createdAt: iso(r.created_at),
  updatedAt: iso(r.updated_at),
});

function flowsRepo(db: Queryable): FlowsRepo {
  return {
    async create({ projectId, name, definition }) {
      const at = now();
      const flow: Flow = { id: randomUUID(), projectId, name, definition, createdAt: at, updatedAt: at };
      await db.query(
        'INSERT INTO flows (id, project_id, name, definition, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5)',
        [flow.id, projectId, name, JSON.stringify(definition), at],
      );
      return flow;
    },
    async get(projectId, id) {
      const r = await one(db, 'SELECT * FROM flows WHERE project_id = $1 AND id = $2', [projectId, id]);
      return r && toFlow(r);
    },
    async list(projectId) {
      return (
        await rows(db, 'SELECT * FROM flows WHERE project_id = $1 ORDER BY created_at, id', [projectId])
      ).map(toFlow);
    },
    async update(projectId, id, patch) {
      const r = await one(
        db,
        `UPDATE flows SET name = COALESCE($3, name), definition = COALESCE($4, definition), updated_at = $5
         WHERE project_id = $1 AND id = $2 RETURNING *`,
        [
          projectId,
          id,
          patch.name ?? null,
          patch.definition === undefined ? null : JSON.stringify(patch.definition),
          now(),
        ],
      );
      return r && toFlow(r);
    },
    async delete(projectId, id) {
      const r = await db.query('DELETE FROM flows WHERE project_id = $1 AND id = $2', [projectId, id]);
      return (r.rowCount ?? 0) > 0;
    },
  };
}

// ---- audit, runs -----------------------------------------------------------------------

function toAudit(r: Row): AuditEvent {
  const event: AuditEvent = {
    id: r.id,
    at: iso(r.at),
    workspaceId: r.workspace_id,
    actor: r.actor,
    action: r.action,
  };
  for (const [key, column] of [
    ['projectId', 'project_id'],
    ['secret', 'secret'],
    ['environment', 'environment'],
    ['flowId', 'flow_id'],
    ['runId', 'run_id'],
    ['details', 'details'],
  ] as const) {
    if (r[column] !== null && r[column] !== undefined)
      (event as unknown as Record<string, unknown>)[key] = r[column];
  }
  return event;
}

function auditRepo(db: Queryable, retention: number): AuditRepo {
  return {
    async append(input) {
      const event: AuditEvent = { ...input, id: randomUUID(), at: input.at ?? now() };
      await db.query(
        `INSERT INTO audit_events (id, at, workspace_id, project_id, actor, action, secret, environment, flow_id, run_id, details)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
        [
          event.id,
          event.at,
          event.workspaceId,
          event.projectId ?? null,
          event.actor,
          event.action,
          event.secret ?? null,
          event.environment ?? null,
          event.flowId ?? null,
          event.runId ?? null,
          event.details ? JSON.stringify(event.details) : null,
        ],
      );
      if (Math.random() < 0.01) {
        await db.query(
          `DELETE FROM audit_events WHERE workspace_id = $1 AND seq <= (
             SELECT seq FROM audit_events WHERE workspace_id = $1 ORDER BY seq DESC OFFSET $2 LIMIT 1)`,
          [event.workspaceId, retention],
        );
      }
      return event;
    },
    async list(workspaceId, opts = {}) {
      const limit = clampLimit(opts.limit, 100);
      const before = decodeCursor(opts.cursor);
      const result = await rows(
        db,
        `SELECT * FROM audit_events WHERE workspace_id = $1 AND ($2::text IS NULL OR project_id = $2)
           AND ($3::bigint IS NULL OR seq < $3) ORDER BY seq DESC LIMIT $4`,
        [workspaceId, opts.projectId ?? null, before ?? null, limit + 1],
      );
      const page: Page<AuditEvent> = { items: result.slice(0, limit).map(toAudit) };
      if (result.length > limit) page.next = encodeCursor(result[limit - 1]!.seq);
      return page;
    },
  };
}

export function toRun(r: Row): StoredRun {
  const run: StoredRun = {
    id: r.id,
    projectId: r.project_id,
    flowId: r.flow_id,
    environment: r.environment,
    status: r.status,
    queuedAt: iso(r.queued_at),
    steps: r.steps,
  };
  if (r.started_at !== null) run.startedAt = iso(r.started_at);
  if (r.duration_ms !== null) run.durationMs = r.duration_ms;
  if (r.output !== null) run.output = r.output;
  if (r.error !== null) run.error = r.error;
  if (r.actor !== null) run.actor = r.actor;
  if (r.input !== null && r.input !== undefined) run.input = r.input;
  return run;
}

/**
 * The upsert of a run record ($1…$13 are runParams): a finished record is never replaced (the
 * first final record wins), and a record saved without input keeps the stored one. It returns
 * a row only when it inserted or changed the record.
 */
export const UPSERT_RUN = `INSERT INTO runs (id, project_id, flow_id, environment, status, queued_at, started_at, duration_ms, steps, output, error, actor, input)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
         ON CONFLICT (id) DO UPDATE SET status = EXCLUDED.status, started_at = EXCLUDED.started_at,
           duration_ms = EXCLUDED.duration_ms, steps = EXCLUDED.steps, output = EXCLUDED.output,
           error = EXCLUDED.error, actor = EXCLUDED.actor, input = COALESCE(EXCLUDED.input, runs.input)
         WHERE runs.status IN ('queued', 'running')`;

/** The parameters of UPSERT_RUN (and of the queued run's INSERT). */
export function runParams(run: StoredRun): unknown[] {
  return [
    run.id,
    run.projectId,
    run.flowId,
    run.environment,
    run.status,
    run.queuedAt,
    run.startedAt ?? null,
    run.durationMs ?? null,
    JSON.stringify(run.steps),
    run.output === undefined ? null : JSON.stringify(run.output),
    run.error ? JSON.stringify(run.error) : null,
    run.actor ?? null,
    run.input === undefined ? null : JSON.stringify(run.input),
  ];
}

function runsRepo(db: Queryable, retention: number): RunsRepo {
  let sinceTrim = 0;
  return {
    async save(run) {
      const result = await db.query(
        // Several processes write one run (the API queues it, a worker runs it, a reaper may
        // settle it) over different connections, so writes can arrive out of order: a
        // finished record is never replaced, the first final record wins. A record saved
        // without input keeps the stored one.
        `${UPSERT_RUN} RETURNING (xmax = 0) AS inserted`,
        runParams(run),
      );
      if (result.rows[0]?.inserted && ++sinceTrim >= 500) {
        sinceTrim = 0;
        await db.query(
          `DELETE FROM runs WHERE project_id = $1 AND seq <= (
             SELECT seq FROM runs WHERE project_id = $1 ORDER BY seq DESC OFFSET $2 LIMIT 1)`,
          [run.projectId, retention],
        );
      }
    },
    async get(projectId, runId) {
      const r = await one(db, 'SELECT * FROM runs WHERE project_id = $1 AND id = $2', [projectId, runId]);
      return r && toRun(r);
    },
    async list(projectId, opts = {}) {
      const limit = clampLimit(opts.limit, 50);
      const before = decodeCursor(opts.cursor);
      const result = await rows(
        db,
        `SELECT * FROM runs WHERE project_id = $1 AND ($2::text IS NULL OR flow_id = $2)
           AND ($3::bigint IS NULL OR seq < $3) ORDER BY seq DESC LIMIT $4`,
        [projectId, opts.flowId ?? null, before ?? null, limit + 1],
      );
      const page: Page<StoredRun> = { items: result.slice(0, limit).map(toRun) };
      if (result.length > limit) page.next = encodeCursor(result[limit - 1]!.seq);
      return page;
    },
  };
}

// ---- external secret stores, meta ------------------------------------------------------

async function loadStores(
  db: Queryable,
  where: string,
  params: unknown[],
  lock = false,
): Promise<SecretStoreConfig[]> {
  const storeRows = await rows(
    db,
    `SELECT * FROM secret_stores WHERE ${where} ORDER BY name${lock ? ' FOR UPDATE' : ''}`,
    params,
  );
  if (storeRows.length === 0) return [];
  const credRows = await rows<SealedRow & { store_id: string }>(
    db,
    'SELECT * FROM secret_store_credentials WHERE store_id = ANY($1)',
    [storeRows.map((r) => r.id)],
  );
  return storeRows.map((r) => {
    const credentials: SealedValue = {};
    for (const c of credRows) {
      if (c.store_id === r.id) credentials[c.field] = { iv: b64(c.iv), ct: b64(c.ct), tag: b64(c.tag) };
    }
    return {
      id: r.id,
      workspaceId: r.workspace_id,
      name: r.name,
      type: r.type,
      config: r.config,
      wrappedKey: toWrappedKey(r),
      credentials,
      cacheTtlS: r.cache_ttl_s,
      createdAt: iso(r.created_at),
      updatedAt: iso(r.updated_at),
    };
  });
}

async function writeCredentials(db: Queryable, storeId: string, credentials: SealedValue): Promise<void> {
  await db.query('DELETE FROM secret_store_credentials WHERE store_id = $1', [storeId]);
  for (const [field, blob] of Object.entries(credentials)) {
    await db.query(
      'INSERT INTO secret_store_credentials (store_id, field, iv, ct, tag) VALUES ($1, $2, $3, $4, $5)',
      [storeId, field, buf(blob.iv), buf(blob.ct), buf(blob.tag)],
    );
  }
}

function secretStoresRepo(
  db: Queryable,
  inTransaction: <T>(fn: (q: Queryable) => Promise<T>) => Promise<T>,
): SecretStoresRepo {
  return {
    async create(input) {
      const at = now();
      const store: SecretStoreConfig = { ...input, id: randomUUID(), createdAt: at, updatedAt: at };
      await inTransaction(async (q) => {
        await q
          .query(
            `INSERT INTO secret_stores (id, workspace_id, name, type, config, kek_id, dek_iv, dek_ct, dek_tag, cache_ttl_s,
               created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11)`,
            [
              store.id,
              store.workspaceId,
              store.name,
              store.type,
              JSON.stringify(store.config),
              store.wrappedKey.kekId,
              buf(store.wrappedKey.iv),
              buf(store.wrappedKey.ct),
              buf(store.wrappedKey.tag),
              store.cacheTtlS,
              at,
            ],
          )
          .catch((e: unknown) => conflict(e, `secret store ${store.name}`));
        await writeCredentials(q, store.id, store.credentials);
      });
      return store;
    },
    async get(workspaceId, name) {
      return (await loadStores(db, 'workspace_id = $1 AND name = $2', [workspaceId, name]))[0];
    },
    async list(workspaceId) {
      return loadStores(db, 'workspace_id = $1', [workspaceId]);
    },
    async update(workspaceId, name, patch) {
      return inTransaction(async (q) => {
        const current = (
          await loadStores(q, 'workspace_id = $1 AND name = $2', [workspaceId, name], true)
        )[0];
        if (!current) return undefined;
        const next: SecretStoreConfig = { ...current, ...patch, updatedAt: now() };
        await q.query(
          `UPDATE secret_stores SET config = $2, kek_id = $3, dek_iv = $4, dek_ct = $5, dek_tag = $6, cache_ttl_s = $7,
             updated_at = $8 WHERE id = $1`,
          [
            current.id,
            JSON.stringify(next.config),
            next.wrappedKey.kekId,
            buf(next.wrappedKey.iv),
            buf(next.wrappedKey.ct),
            buf(next.wrappedKey.tag),
            next.cacheTtlS,
            next.updatedAt,
          ],
        );
        if (patch.credentials) await writeCredentials(q, current.id, next.credentials);
        return next;
      });
    },
    async delete(workspaceId, name) {
      const r = await db.query('DELETE FROM secret_stores WHERE workspace_id = $1 AND name = $2', [
        workspaceId,
        name,
      ]);
      return (r.rowCount ?? 0) > 0;
    },
  };
}

function metaRepo(db: Queryable): MetaRepo {
  return {
    async get(key) {
      return (await one<{ value: string }>(db, 'SELECT value FROM meta WHERE key = $1', [key]))?.value;
    },
    async set(key, value) {
      await db.query(
        'INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = $2',
        [key, value],
      );
    },
  };
}

// ---- the store -------------------------------------------------------------------------

export interface PostgresStoreOptions {
  /** postgres://… */
  connectionString: string;
  /** pool size (default 10) */
  max?: number;
  retention?: { runsPerProject?: number; auditPerWorkspace?: number };
  /** reported when an idle pooled connection fails (the pool replaces it) */
  onError?: (err: Error) => void;
  /**
   * server-side prepared statements for repeated parameterised statements (default true; turn
   * off behind a pooler in transaction mode that does not keep them, like PgBouncer before 1.21)
   */
  preparedStatements?: boolean;
}

export interface PostgresStore extends Store, RunQueries {
  readonly pool: Pool;
}

function buildStore(
  db: Queryable,
  transaction: Store['transaction'],
  close: Store['close'],
  inTransaction: <T>(fn: (q: Queryable) => Promise<T>) => Promise<T>,
  retention: Required<NonNullable<PostgresStoreOptions['retention']>>,
): Store {
  return {
    users: usersRepo(db),
    workspaces: workspacesRepo(db),
    members: membersRepo(db),
    projects: projectsRepo(db),
    secrets: secretsRepo(db, inTransaction),
    settings: settingsRepo(db),
    flows: flowsRepo(db),
    audit: auditRepo(db, retention.auditPerWorkspace),
    runs: runsRepo(db, retention.runsPerProject),
    secretStores: secretStoresRepo(db, inTransaction),
    meta: metaRepo(db),
    transaction,
    close,
  };
}

/** Parse and check a postgres:// URL without connecting; a clear one-line error otherwise. */
export function checkDatabaseUrl(url: string): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new PostgresStoreError(
      'DATABASE_URL_INVALID',
      'FLOWSAFE_DATABASE_URL is not a URL: use postgres://user:password@host:5432/database',
    );
  }
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') {
    throw new PostgresStoreError(
      'DATABASE_URL_INVALID',
      `FLOWSAFE_DATABASE_URL must start with postgres:// (got ${parsed.protocol}//)`,
    );
  }
  return parsed;
}

/** Open the PostgreSQL store on a pool. Does not migrate: call migrate() first. */
export function openPostgresStore(options: PostgresStoreOptions): PostgresStore {
  const url = checkDatabaseUrl(options.connectionString);
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: options.max ?? 10,
    ...(options.preparedStatements === false ? {} : { Client: PreparingClient }),
  });
  pool.on('error', (err) => options.onError?.(err));
  const retention = {
    runsPerProject: options.retention?.runsPerProject ?? 10_000,
    auditPerWorkspace: options.retention?.auditPerWorkspace ?? 100_000,
  };

  async function withClient<T>(fn: (client: PoolClient) => Promise<T>): Promise<T> {
    let client: PoolClient;
    try {
      client = await pool.connect();
    } catch (err) {
      throw new PostgresStoreError(
        'DATABASE_UNREACHABLE',
        `cannot reach PostgreSQL at ${url.hostname}:${url.port || 5432}: ${(err as Error).message}`,
      );
    }
    try {
      return await fn(client);
    } finally {
      client.release();
    }
  }

  async function runInTransaction<T>(client: PoolClient, fn: () => Promise<T>): Promise<T> {
    await client.query('BEGIN');
    try {
      const result = await fn();
      await client.query('COMMIT');
      return result;
    } catch (err) {
      await client.query('ROLLBACK');
      throw err;
    }
  }

  const noClose = async (): Promise<void> => undefined;

  const transaction: Store['transaction'] = (fn) =>
    withClient((client) => {
      // inside a transaction, nested "transactions" reuse the same client
      const nested = <T>(inner: (q: Queryable) => Promise<T>) => inner(client);
      const tx = buildStore(client, (f) => f(tx), noClose, nested, retention);
      return runInTransaction(client, () => fn(tx));
    });

  const inTransaction = <T>(fn: (q: Queryable) => Promise<T>): Promise<T> =>
    withClient((client) => runInTransaction(client, () => fn(client)));

  const store = buildStore(pool, transaction, () => pool.end(), inTransaction, retention);
  return Object.assign(
    store,
    { pool },
    runQueries(pool, retention.runsPerProject, retention.auditPerWorkspace),
  );
}
