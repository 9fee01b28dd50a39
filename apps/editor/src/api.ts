// The editor's only contract with flowsafe: a typed fetch client over the HTTP API (SPEC §8).
// The bearer token lives in sessionStorage and travels in the Authorization header only,
// never in a URL. Errors carry the server's `{ error: { code, message, details } }`.

export type Role = 'owner' | 'admin' | 'editor' | 'viewer';
export type SecretType = 'text' | 'binary' | 'basic' | 'oauth2';
export type Visibility = 'masked' | 'restricted';

export interface User {
  id: string;
  name: string;
}
export interface WorkspaceRef {
  id: string;
  name: string;
  role: Role;
}
export interface Me {
  user: User;
  workspaces: WorkspaceRef[];
}
export interface Project {
  id: string;
  workspaceId: string;
  name: string;
  environments: string[];
  policy?: { requireAllowedHosts: boolean };
}
export interface SecretUsage {
  flowId: string;
  flowName?: string;
  blockId?: string;
}
export interface SecretMeta {
  name: string;
  type: SecretType;
  visibility: Visibility;
  allowedHosts?: string[];
  description?: string;
  /** which of default / each environment has a value; never the value */
  values: Record<string, boolean>;
  missing?: string[];
  usedBy?: SecretUsage[] | string[];
  source?: SecretSource;
}
/** Where an external secret's value lives (SPEC §12): a store of the workspace and a ref per environment. */
export interface SecretSource {
  store: string;
  ref: string;
  environments?: Record<string, string>;
}
export type StoreType = 'vault' | 'aws-secrets-manager';
/** A secret store as the server shows it: plain config, which credentials are set — never their values. */
export interface SecretStoreView {
  name: string;
  type: StoreType;
  config: Record<string, unknown>;
  credentialsSet: string[];
  cacheTtlS: number;
  usedBy?: { projectId: string; project: string; secret: string }[];
}
export interface StoreDefinition {
  name: string;
  type: StoreType;
  config: Record<string, unknown>;
  cacheTtlS?: number;
}
export type SecretValue =
  | string
  | { base64: string; filename?: string }
  | { username: string; password: string }
  | { clientId: string; clientSecret: string; tokenUrl: string; scope?: string; audience?: string };

export interface SecretCreate {
  name: string;
  type: SecretType;
  visibility: Visibility;
  value?: SecretValue;
  environments?: Record<string, SecretValue>;
  allowedHosts?: string[];
  description?: string;
  source?: SecretSource;
}
export interface Setting {
  name: string;
  values: Record<string, string>;
}
export interface BlockDef {
  id: string;
  type: string;
  next?: string;
  config: Record<string, unknown>;
  position?: { x: number; y: number };
  label?: string;
}
export interface FlowDefinition {
  name?: string;
  start: string;
  variables?: Record<string, unknown>;
  blocks: BlockDef[];
}
export interface Flow {
  id: string;
  projectId: string;
  name: string;
  definition: FlowDefinition;
  createdAt?: string;
  updatedAt?: string;
}
export interface StepRecord {
  blockId: string;
  type: string;
  status: string;
  startedAt?: string;
  durationMs?: number;
  request?: { method: string; url: string; status?: number };
  response?: unknown;
  logs?: string[];
  error?: { code: string; message: string };
}
export interface RunRecord {
  id: string;
  flowId: string;
  environment: string;
  status: 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';
  queuedAt?: string;
  startedAt?: string;
  durationMs?: number;
  steps: StepRecord[];
  output?: unknown;
  error?: { code: string; message: string };
}
export interface Page<T> {
  items: T[];
  next?: string;
  total?: number;
}

export interface ValidationDetail {
  path: (string | number)[];
  message: string;
  code?: string;
  blockId?: string;
}

/** An error answered by the server, carrying its code, message and details. */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }

  /** zod-like issues from a 400, normalised to `{ path, message }` */
  issues(): ValidationDetail[] {
    const d = this.details as unknown;
    const list = Array.isArray(d)
      ? d
      : Array.isArray((d as { issues?: unknown })?.issues)
        ? (d as { issues: unknown[] }).issues
        : [];
    return list
      .filter(
        (i): i is ValidationDetail =>
          typeof i === 'object' && i !== null && Array.isArray((i as ValidationDetail).path),
      )
      .map((i) => ({ path: i.path, message: String(i.message ?? ''), code: i.code, blockId: i.blockId }));
  }
}

const TOKEN_KEY = 'flowsafe.token';

export function getToken(): string | null {
  return sessionStorage.getItem(TOKEN_KEY);
}
export function setToken(token: string | null): void {
  if (token === null) sessionStorage.removeItem(TOKEN_KEY);
  else sessionStorage.setItem(TOKEN_KEY, token);
}

type Query = Record<string, string | number | boolean | undefined>;

async function request<T>(method: string, path: string, body?: unknown, query?: Query): Promise<T> {
  const qs = query
    ? Object.entries(query)
        .filter(([, v]) => v !== undefined && v !== '')
        .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`)
        .join('&')
    : '';
  const headers: Record<string, string> = { Accept: 'application/json' };
  const token = getToken();
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(qs ? `${path}?${qs}` : path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: 'no-store',
      credentials: 'omit',
    });
  } catch {
    throw new ApiError(0, 'NETWORK', 'The server cannot be reached.');
  }
  const text = await res.text();
  let data: unknown = undefined;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = text;
    }
  }
  if (!res.ok) {
    const err = (data as { error?: { code?: string; message?: string; details?: unknown } } | undefined)
      ?.error;
    throw new ApiError(
      res.status,
      err?.code ?? `HTTP_${res.status}`,
      err?.message ?? res.statusText ?? 'Request failed',
      err?.details,
    );
  }
  return data as T;
}

/** Lists may come bare or wrapped (`{ items }`, `{ flows }`); accept each. */
function list<T>(data: unknown, key: string): T[] {
  if (Array.isArray(data)) return data as T[];
  const o = data as Record<string, unknown> | undefined;
  const v = o?.[key] ?? o?.items;
  return Array.isArray(v) ? (v as T[]) : [];
}
/** Single objects may come bare or wrapped (`{ flow }`). */
function one<T>(data: unknown, key: string): T {
  const o = data as Record<string, unknown> | undefined;
  return (o && typeof o === 'object' && key in o && typeof o[key] === 'object' ? o[key] : o) as T;
}

const p = (id: string) => `/api/projects/${encodeURIComponent(id)}`;
const e = encodeURIComponent;

export const api = {
  async me(): Promise<Me> {
    const data = await request<Record<string, unknown>>('GET', '/api/me');
    const user = (data.user ?? { id: String(data.id ?? ''), name: String(data.name ?? '') }) as User;
    const workspaces = list<Record<string, unknown>>(data.workspaces ?? [], 'workspaces').map((w) => {
      const ws = (w.workspace ?? w) as Record<string, unknown>;
      return {
        id: String(ws.id ?? w.id),
        name: String(ws.name ?? w.name ?? ws.id),
        role: (w.role ?? ws.role) as Role,
      };
    });
    return { user, workspaces };
  },
  createWorkspace: async (name: string) =>
    one<{ id: string; name: string }>(await request('POST', '/api/workspaces', { name }), 'workspace'),
  addMember: async (ws: string, name: string, role: Role) =>
    request<{ user: User; role: Role; token: string }>('POST', `/api/workspaces/${e(ws)}/members`, {
      name,
      role,
    }),

  projects: async (ws: string) =>
    list<Project>(await request('GET', `/api/workspaces/${e(ws)}/projects`), 'projects'),
  createProject: async (ws: string, name: string) =>
    one<Project>(await request('POST', `/api/workspaces/${e(ws)}/projects`, { name }), 'project'),
  project: async (id: string) => one<Project>(await request('GET', p(id)), 'project'),
  updateProject: async (id: string, body: { name?: string; policy?: { requireAllowedHosts: boolean } }) =>
    one<Project>(await request('PATCH', p(id), body), 'project'),

  stores: async (ws: string) =>
    list<SecretStoreView>(await request('GET', `/api/workspaces/${e(ws)}/secret-stores`), 'stores'),
  createStore: (ws: string, body: StoreDefinition) =>
    request<SecretStoreView>('POST', `/api/workspaces/${e(ws)}/secret-stores`, body),
  updateStore: (ws: string, name: string, body: { config?: Record<string, unknown>; cacheTtlS?: number }) =>
    request<SecretStoreView>('PATCH', `/api/workspaces/${e(ws)}/secret-stores/${e(name)}`, body),
  deleteStore: (ws: string, name: string) =>
    request<unknown>('DELETE', `/api/workspaces/${e(ws)}/secret-stores/${e(name)}`),
  testStore: (ws: string, name: string) =>
    request<{ ok: boolean; message: string }>(
      'POST',
      `/api/workspaces/${e(ws)}/secret-stores/${e(name)}/test`,
      {},
    ),
  deleteProject: (id: string) => request<unknown>('DELETE', p(id)),
  duplicateProject: async (id: string, name: string) =>
    one<Project>(await request('POST', `${p(id)}/duplicate`, { name }), 'project'),
  exportProject: (id: string) => request<unknown>('GET', `${p(id)}/export`),
  importProject: async (ws: string, bundle: unknown) =>
    one<Project>(await request('POST', `/api/workspaces/${e(ws)}/projects/import`, bundle), 'project'),
  environments: async (id: string) => {
    const data = await request<unknown>('GET', `${p(id)}/environments`);
    return list<string | { name: string }>(data, 'environments').map((x) =>
      typeof x === 'string' ? x : x.name,
    );
  },
  addEnvironment: (id: string, name: string) => request<unknown>('POST', `${p(id)}/environments`, { name }),

  secrets: async (id: string, search?: string, type?: string) =>
    list<SecretMeta>(await request('GET', `${p(id)}/secrets`, undefined, { search, type }), 'secrets'),
  secret: async (id: string, name: string) =>
    one<SecretMeta>(await request('GET', `${p(id)}/secrets/${e(name)}`), 'secret'),
  createSecret: async (id: string, body: SecretCreate) =>
    one<SecretMeta>(await request('POST', `${p(id)}/secrets`, body), 'secret'),
  updateSecret: (
    id: string,
    name: string,
    body: {
      value?: SecretValue;
      visibility?: Visibility;
      allowedHosts?: string[];
      description?: string;
      source?: SecretSource | null;
    },
  ) => request<unknown>('PATCH', `${p(id)}/secrets/${e(name)}`, body),
  putOverride: (id: string, name: string, env: string, value: SecretValue) =>
    request<unknown>('PUT', `${p(id)}/secrets/${e(name)}/environments/${e(env)}`, { value }),
  deleteOverride: (id: string, name: string, env: string) =>
    request<unknown>('DELETE', `${p(id)}/secrets/${e(name)}/environments/${e(env)}`),
  deleteSecret: (id: string, name: string, force = false) =>
    request<unknown>('DELETE', `${p(id)}/secrets/${e(name)}`, undefined, {
      confirm: name,
      force: force || undefined,
    }),
  reveal: (id: string, name: string, environment?: string) =>
    request<{ value: SecretValue }>(
      'POST',
      `${p(id)}/secrets/${e(name)}/reveal`,
      environment ? { environment } : {},
    ),
  usages: async (id: string, name: string) =>
    list<SecretUsage>(await request('GET', `${p(id)}/secrets/${e(name)}/usages`), 'usages'),
  makeSetting: (id: string, name: string) =>
    request<unknown>('POST', `${p(id)}/secrets/${e(name)}/make-setting`, {}),

  settings: async (id: string) => {
    const data = await request<unknown>('GET', `${p(id)}/settings`);
    return list<Setting & { value?: string; environments?: Record<string, string> }>(data, 'settings').map(
      normaliseSetting,
    );
  },
  putSetting: (id: string, name: string, value: string, environments?: Record<string, string>) =>
    request<unknown>(
      'PUT',
      `${p(id)}/settings/${e(name)}`,
      environments ? { value, environments } : { value },
    ),
  deleteSetting: (id: string, name: string) => request<unknown>('DELETE', `${p(id)}/settings/${e(name)}`),
  makeSecret: (id: string, name: string, visibility: Visibility) =>
    request<unknown>('POST', `${p(id)}/settings/${e(name)}/make-secret`, { visibility }),

  flows: async (id: string) => list<Flow>(await request('GET', `${p(id)}/flows`), 'flows'),
  flow: async (id: string, flowId: string) =>
    one<Flow>(await request('GET', `${p(id)}/flows/${e(flowId)}`), 'flow'),
  createFlow: async (id: string, name: string, definition: FlowDefinition) =>
    one<Flow>(await request('POST', `${p(id)}/flows`, { name, definition }), 'flow'),
  updateFlow: async (id: string, flowId: string, body: { name?: string; definition?: FlowDefinition }) =>
    one<Flow>(await request('PUT', `${p(id)}/flows/${e(flowId)}`, body), 'flow'),
  deleteFlow: (id: string, flowId: string) => request<unknown>('DELETE', `${p(id)}/flows/${e(flowId)}`),

  startRun: async (id: string, flowId: string, environment: string, input?: unknown) =>
    one<RunRecord>(
      await request('POST', `${p(id)}/flows/${e(flowId)}/runs`, { environment, input, waitMs: 30000 }),
      'run',
    ),
  runs: async (id: string, flowId: string, cursor?: string, limit = 20): Promise<Page<RunRecord>> => {
    const data = await request<unknown>('GET', `${p(id)}/flows/${e(flowId)}/runs`, undefined, {
      cursor,
      limit,
    });
    const o = (data ?? {}) as { next?: string; total?: number; nextCursor?: string };
    return { items: list<RunRecord>(data, 'runs'), next: o.next ?? o.nextCursor, total: o.total };
  },
  run: async (id: string, runId: string) =>
    one<RunRecord>(await request('GET', `${p(id)}/runs/${e(runId)}`), 'run'),
};

function normaliseSetting(s: Setting & { value?: string; environments?: Record<string, string> }): Setting {
  if (s.values && typeof s.values === 'object') return { name: s.name, values: s.values };
  const values: Record<string, string> = {};
  if (typeof s.value === 'string') values.default = s.value;
  Object.assign(values, s.environments ?? {});
  return { name: s.name, values };
}
