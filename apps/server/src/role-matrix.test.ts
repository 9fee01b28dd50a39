// Invariant 10 as a table: every endpoint × owner/admin/editor/viewer/non-member/no token.
// Allowed callers get the endpoint's success status; members lacking the role 403; non-members
// 404 (existence does not leak); no token 401. Each request that changes something gets a
// fresh target of its own, so the order of rows and callers does not matter.
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createFlow,
  createHarness,
  createProject,
  createSecret,
  type Harness,
  type Who,
} from './test-harness';

type Level = 'anyone' | 'user' | 'viewer' | 'editor' | 'admin';
type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

interface Row {
  method: Method;
  /** the route as documented */
  route: string;
  /** who may call it */
  level: Level;
  ok: number;
  /** builds the concrete URL (and body), creating a fresh target when the call changes it */
  prepare(): Promise<{ url: string; body?: unknown }>;
}

const WHO: Who[] = ['owner', 'admin', 'editor', 'viewer', 'outsider', 'anonymous'];
const RANK: Record<string, number> = { viewer: 1, editor: 2, admin: 3, owner: 4 };

function expected(row: Row, who: Who): number {
  if (row.level === 'anyone') return row.ok;
  if (who === 'anonymous') return 401;
  if (row.level === 'user') return row.ok;
  if (who === 'outsider') return 404;
  return RANK[who]! >= RANK[row.level]! ? row.ok : 403;
}

describe('invariant 10: role matrix', () => {
  let h: Harness;
  let ws: string;
  let p: string;
  let flowId: string;
  let runId: string;
  let slowFlowId: string;
  let upstream: Server;
  const uniq = () => randomUUID().replace(/-/g, '').slice(0, 12);
  const name = () => `S_${uniq()}`;

  const secret = async (extra: Record<string, unknown> = {}) => {
    const n = name();
    await createSecret(h, p, { name: n, type: 'text', value: `value-${uniq()}`, ...extra });
    return n;
  };
  /** A new viewer in the workspace, for the rows that change or remove a member; its user id. */
  const member = async () => {
    const r = await h
      .as('owner')
      .post(`/api/workspaces/${ws}/members`)
      .send({ name: 'target', role: 'viewer' })
      .expect(201);
    return r.body.user.id as string;
  };
  const setFlow = { start: 'a', blocks: [{ id: 'a', type: 'set', config: { values: { x: 'y' } } }] };

  beforeAll(async () => {
    h = await createHarness();
    ws = h.workspaceId;
    p = await createProject(h);
    await createSecret(h, p, { name: 'MAIN', type: 'text', value: 'main-value-1234' });
    await h.as('owner').put(`/api/projects/${p}/settings/REGION`).send({ value: 'eu' }).expect(201);
    flowId = await createFlow(h, p, 'F', setFlow);
    runId = (
      await h
        .as('owner')
        .post(`/api/projects/${p}/flows/${flowId}/runs`)
        .send({ environment: 'development' })
        .expect(200)
    ).body.id;
    // A slow local upstream keeps runs in flight for the cancel row.
    upstream = createServer((_req, res) => {
      setTimeout(() => res.end('{}'), 1_500);
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    const port = (upstream.address() as AddressInfo).port;
    const slow = {
      start: 'a',
      blocks: [{ id: 'a', type: 'api', config: { method: 'GET', url: `http://127.0.0.1:${port}/slow` } }],
    };
    slowFlowId = await createFlow(h, p, 'slow', slow);
  });
  afterAll(async () => {
    await h.close();
    upstream.closeAllConnections();
    await new Promise<void>((resolve) => upstream.close(() => resolve()));
  });

  const rows: Row[] = [
    {
      method: 'get',
      route: '/healthz',
      level: 'anyone',
      ok: 200,
      prepare: async () => ({ url: '/healthz' }),
    },
    {
      method: 'get',
      route: '/api/openapi.json',
      level: 'anyone',
      ok: 200,
      prepare: async () => ({ url: '/api/openapi.json' }),
    },
    { method: 'get', route: '/api/me', level: 'user', ok: 200, prepare: async () => ({ url: '/api/me' }) },
    {
      method: 'get',
      route: '/api/workspaces',
      level: 'user',
      ok: 200,
      prepare: async () => ({ url: '/api/workspaces' }),
    },
    {
      method: 'post',
      route: '/api/workspaces',
      level: 'user',
      ok: 201,
      prepare: async () => ({ url: '/api/workspaces', body: { name: 'W' } }),
    },
    {
      method: 'get',
      route: '/api/workspaces/:ws',
      level: 'viewer',
      ok: 200,
      prepare: async () => ({ url: `/api/workspaces/${ws}` }),
    },
    {
      method: 'get',
      route: '/api/workspaces/:ws/members',
      level: 'viewer',
      ok: 200,
      prepare: async () => ({ url: `/api/workspaces/${ws}/members` }),
    },
    {
      method: 'post',
      route: '/api/workspaces/:ws/members',
      level: 'admin',
      ok: 201,
      prepare: async () => ({ url: `/api/workspaces/${ws}/members`, body: { name: 'new', role: 'viewer' } }),
    },
    {
      method: 'get',
      route: '/api/workspaces/:ws/members/:userId',
      level: 'viewer',
      ok: 200,
      prepare: async () => ({ url: `/api/workspaces/${ws}/members/${h.userIds.viewer}` }),
    },
    {
      method: 'patch',
      route: '/api/workspaces/:ws/members/:userId',
      level: 'admin',
      ok: 200,
      prepare: async () => ({
        url: `/api/workspaces/${ws}/members/${await member()}`,
        body: { role: 'editor' },
      }),
    },
    {
      method: 'delete',
      route: '/api/workspaces/:ws/members/:userId',
      level: 'admin',
      ok: 204,
      prepare: async () => ({ url: `/api/workspaces/${ws}/members/${await member()}` }),
    },
    {
      method: 'get',
      route: '/api/workspaces/:ws/projects',
      level: 'viewer',
      ok: 200,
      prepare: async () => ({ url: `/api/workspaces/${ws}/projects` }),
    },
    {
      method: 'post',
      route: '/api/workspaces/:ws/projects',
      level: 'editor',
      ok: 201,
      prepare: async () => ({ url: `/api/workspaces/${ws}/projects`, body: { name: 'P' } }),
    },
    {
      method: 'post',
      route: '/api/workspaces/:ws/projects/import',
      level: 'editor',
      ok: 201,
      prepare: async () => ({
        url: `/api/workspaces/${ws}/projects/import`,
        body: (await h.as('owner').get(`/api/projects/${p}/export`).expect(200)).body,
      }),
    },
    {
      method: 'get',
      route: '/api/projects/:p',
      level: 'viewer',
      ok: 200,
      prepare: async () => ({ url: `/api/projects/${p}` }),
    },
    {
      method: 'patch',
      route: '/api/projects/:p',
      level: 'admin',
      ok: 200,
      prepare: async () => ({ url: `/api/projects/${p}`, body: { name: 'Support' } }),
    },
    {
      method: 'delete',
      route: '/api/projects/:p',
      level: 'admin',
      ok: 204,
      prepare: async () => ({ url: `/api/projects/${await createProject(h, 'doomed')}` }),
    },
    {
      method: 'post',
      route: '/api/projects/:p/duplicate',
      level: 'editor',
      ok: 201,
      prepare: async () => ({ url: `/api/projects/${p}/duplicate`, body: { name: 'Copy' } }),
    },
    {
      method: 'get',
      route: '/api/projects/:p/export',
      level: 'editor',
      ok: 200,
      prepare: async () => ({ url: `/api/projects/${p}/export` }),
    },
    {
      method: 'get',
      route: '/api/projects/:p/environments',
      level: 'viewer',
      ok: 200,
      prepare: async () => ({ url: `/api/projects/${p}/environments` }),
    },
    {
      method: 'post',
      route: '/api/projects/:p/environments',
      level: 'admin',
      ok: 201,
      prepare: async () => ({ url: `/api/projects/${p}/environments`, body: { name: `env-${uniq()}` } }),
    },
    {
      method: 'get',
      route: '/api/projects/:p/secrets',
      level: 'viewer',
      ok: 200,
      prepare: async () => ({ url: `/api/projects/${p}/secrets?search=MAIN&type=text` }),
    },
    {
      method: 'post',
      route: '/api/projects/:p/secrets',
      level: 'admin',
      ok: 201,
      prepare: async () => ({
        url: `/api/projects/${p}/secrets`,
        body: { name: name(), type: 'text', value: 'abcdefgh' },
      }),
    },
    {
      method: 'get',
      route: '/api/projects/:p/secrets/:name',
      level: 'viewer',
      ok: 200,
      prepare: async () => ({ url: `/api/projects/${p}/secrets/MAIN` }),
    },
    {
      method: 'patch',
      route: '/api/projects/:p/secrets/:name',
      level: 'admin',
      ok: 200,
      prepare: async () => ({ url: `/api/projects/${p}/secrets/MAIN`, body: { description: 'd' } }),
    },
    {
      method: 'delete',
      route: '/api/projects/:p/secrets/:name',
      level: 'admin',
      ok: 204,
      prepare: async () => {
        const n = await secret();
        return { url: `/api/projects/${p}/secrets/${n}?confirm=${n}` };
      },
    },
    {
      method: 'put',
      route: '/api/projects/:p/secrets/:name/environments/:env',
      level: 'admin',
      ok: 200,
      prepare: async () => ({
        url: `/api/projects/${p}/secrets/MAIN/environments/production`,
        body: { value: 'prod-value-1234' },
      }),
    },
    {
      method: 'delete',
      route: '/api/projects/:p/secrets/:name/environments/:env',
      level: 'admin',
      ok: 200,
      prepare: async () => ({
        url: `/api/projects/${p}/secrets/${await secret({ environments: { production: 'prod-value-5678' } })}/environments/production`,
      }),
    },
    {
      method: 'post',
      route: '/api/projects/:p/secrets/:name/reveal',
      level: 'admin',
      ok: 200,
      prepare: async () => ({ url: `/api/projects/${p}/secrets/MAIN/reveal`, body: {} }),
    },
    {
      method: 'get',
      route: '/api/projects/:p/secrets/:name/usages',
      level: 'viewer',
      ok: 200,
      prepare: async () => ({ url: `/api/projects/${p}/secrets/MAIN/usages` }),
    },
    {
      method: 'post',
      route: '/api/projects/:p/secrets/:name/make-setting',
      level: 'admin',
      ok: 201,
      prepare: async () => ({ url: `/api/projects/${p}/secrets/${await secret()}/make-setting` }),
    },
    {
      method: 'get',
      route: '/api/projects/:p/settings',
      level: 'viewer',
      ok: 200,
      prepare: async () => ({ url: `/api/projects/${p}/settings` }),
    },
    {
      method: 'get',
      route: '/api/projects/:p/settings/:name',
      level: 'viewer',
      ok: 200,
      prepare: async () => ({ url: `/api/projects/${p}/settings/REGION` }),
    },
    {
      method: 'put',
      route: '/api/projects/:p/settings/:name',
      level: 'editor',
      ok: 201,
      prepare: async () => ({ url: `/api/projects/${p}/settings/${name()}`, body: { value: 'v' } }),
    },
    {
      method: 'delete',
      route: '/api/projects/:p/settings/:name',
      level: 'editor',
      ok: 204,
      prepare: async () => {
        const n = name();
        await h.as('owner').put(`/api/projects/${p}/settings/${n}`).send({ value: 'v' }).expect(201);
        return { url: `/api/projects/${p}/settings/${n}` };
      },
    },
    {
      method: 'post',
      route: '/api/projects/:p/settings/:name/make-secret',
      level: 'admin',
      ok: 201,
      prepare: async () => {
        const n = name();
        await h
          .as('owner')
          .put(`/api/projects/${p}/settings/${n}`)
          .send({ value: `setting-${uniq()}` })
          .expect(201);
        return { url: `/api/projects/${p}/settings/${n}/make-secret`, body: { visibility: 'masked' } };
      },
    },
    {
      method: 'get',
      route: '/api/projects/:p/flows',
      level: 'viewer',
      ok: 200,
      prepare: async () => ({ url: `/api/projects/${p}/flows` }),
    },
    {
      method: 'post',
      route: '/api/projects/:p/flows',
      level: 'editor',
      ok: 201,
      prepare: async () => ({ url: `/api/projects/${p}/flows`, body: { name: 'N', definition: setFlow } }),
    },
    {
      method: 'get',
      route: '/api/projects/:p/flows/:f',
      level: 'viewer',
      ok: 200,
      prepare: async () => ({ url: `/api/projects/${p}/flows/${flowId}` }),
    },
    {
      method: 'put',
      route: '/api/projects/:p/flows/:f',
      level: 'editor',
      ok: 200,
      prepare: async () => ({ url: `/api/projects/${p}/flows/${flowId}`, body: { name: 'F' } }),
    },
    {
      method: 'delete',
      route: '/api/projects/:p/flows/:f',
      level: 'editor',
      ok: 204,
      prepare: async () => ({
        url: `/api/projects/${p}/flows/${(await h.as('owner').post(`/api/projects/${p}/flows`).send({ name: 'D', definition: setFlow }).expect(201)).body.id}`,
      }),
    },
    {
      method: 'post',
      route: '/api/projects/:p/flows/:f/runs',
      level: 'editor',
      ok: 200,
      prepare: async () => ({
        url: `/api/projects/${p}/flows/${flowId}/runs`,
        body: { environment: 'development' },
      }),
    },
    {
      method: 'get',
      route: '/api/projects/:p/flows/:f/runs',
      level: 'viewer',
      ok: 200,
      prepare: async () => ({ url: `/api/projects/${p}/flows/${flowId}/runs` }),
    },
    {
      method: 'get',
      route: '/api/projects/:p/runs',
      level: 'viewer',
      ok: 200,
      prepare: async () => ({ url: `/api/projects/${p}/runs` }),
    },
    {
      method: 'get',
      route: '/api/projects/:p/runs/:runId',
      level: 'viewer',
      ok: 200,
      prepare: async () => ({ url: `/api/projects/${p}/runs/${runId}` }),
    },
    {
      method: 'post',
      route: '/api/projects/:p/runs/:runId/cancel',
      level: 'editor',
      ok: 200,
      prepare: async () => {
        const run = await h
          .as('owner')
          .post(`/api/projects/${p}/flows/${slowFlowId}/runs`)
          .send({ environment: 'development', waitMs: 0 })
          .expect(202);
        const id = run.body.id as string;
        return { url: `/api/projects/${p}/runs/${id}/cancel` };
      },
    },
    {
      method: 'get',
      route: '/api/projects/:p/audit',
      level: 'admin',
      ok: 200,
      prepare: async () => ({ url: `/api/projects/${p}/audit` }),
    },
    // External secret stores (SPEC §12): owners and admins only, GET included.
    ...(() => {
      const storeBody = (n: string) => ({
        name: n,
        type: 'vault',
        cacheTtlS: 0,
        config: { address: 'http://127.0.0.1:9', auth: { method: 'token', token: `tok-${uniq()}` } },
      });
      const store = async () => {
        const n = `st-${uniq()}`;
        await h.as('owner').post(`/api/workspaces/${ws}/secret-stores`).send(storeBody(n)).expect(201);
        return n;
      };
      const list: Row[] = [
        {
          method: 'get',
          route: '/api/workspaces/:ws/secret-stores',
          level: 'admin',
          ok: 200,
          prepare: async () => ({ url: `/api/workspaces/${ws}/secret-stores` }),
        },
        {
          method: 'post',
          route: '/api/workspaces/:ws/secret-stores',
          level: 'admin',
          ok: 201,
          prepare: async () => ({
            url: `/api/workspaces/${ws}/secret-stores`,
            body: storeBody(`st-${uniq()}`),
          }),
        },
        {
          method: 'get',
          route: '/api/workspaces/:ws/secret-stores/:name',
          level: 'admin',
          ok: 200,
          prepare: async () => ({ url: `/api/workspaces/${ws}/secret-stores/${await store()}` }),
        },
        {
          method: 'patch',
          route: '/api/workspaces/:ws/secret-stores/:name',
          level: 'admin',
          ok: 200,
          prepare: async () => ({
            url: `/api/workspaces/${ws}/secret-stores/${await store()}`,
            body: { cacheTtlS: 60 },
          }),
        },
        {
          method: 'delete',
          route: '/api/workspaces/:ws/secret-stores/:name',
          level: 'admin',
          ok: 204,
          prepare: async () => ({ url: `/api/workspaces/${ws}/secret-stores/${await store()}` }),
        },
        {
          method: 'post',
          route: '/api/workspaces/:ws/secret-stores/:name/test',
          level: 'admin',
          ok: 200,
          prepare: async () => ({ url: `/api/workspaces/${ws}/secret-stores/${await store()}/test` }),
        },
      ];
      return list;
    })(),
  ];

  it('covers every documented operation', async () => {
    const { OPERATIONS } = await import('./openapi');
    const documented = OPERATIONS.map((o) => `${o.method} ${o.path.replace(/\{(\w+)\}/g, ':$1')}`).sort();
    const tested = rows.map((r) => `${r.method} ${r.route}`).sort();
    expect(tested).toEqual(documented);
  });

  it.each(rows.map((r) => [`${r.method.toUpperCase()} ${r.route}`, r] as const))(
    '%s',
    async (_label, row) => {
      const got: Record<string, number> = {};
      const want: Record<string, number> = {};
      for (const who of WHO) {
        const { url, body } = await row.prepare();
        let req = h.as(who)[row.method](url);
        if (body !== undefined) req = req.send(body as object);
        const res = await req;
        got[who] = res.status;
        want[who] = expected(row, who);
        if (res.status >= 400)
          expect(res.body.error?.code, `${who} ${row.method} ${url}`).toBeTypeOf('string');
      }
      expect(got).toEqual(want);
    },
  );
});
