// Test harness (used by *.test.ts only): a real lowdb store in a temp dir, a real key ring,
// the real services and app, and one user per role in workspace `default` plus an outsider
// who owns another workspace.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import request from 'supertest';
import { Redactor } from '@flowsafe/redact';
import { MasterKey } from '@flowsafe/secrets';
import type { Store } from '@flowsafe/store';
import { createApp } from './app';
import { bootstrap } from './bootstrap';
import { createServerLogger } from './logger';
import { createServices, type Services } from './services';

export const OWNER_TOKEN = 'fs_test_owner_token_0123456789abcdef';

export type Who = 'owner' | 'admin' | 'editor' | 'viewer' | 'outsider' | 'anonymous';

export interface Harness {
  app: ReturnType<typeof createApp>;
  store: Store;
  services: Services;
  dataDir: string;
  workspaceId: string;
  tokens: Record<Exclude<Who, 'anonymous'>, string>;
  userIds: Record<Exclude<Who, 'anonymous'>, string>;
  /** every log line written so far */
  logs: string[];
  /** supertest agent factory with the token of `who` */
  as(who: Who): {
    get(url: string): request.Test;
    post(url: string): request.Test;
    put(url: string): request.Test;
    patch(url: string): request.Test;
    delete(url: string): request.Test;
  };
  close(): Promise<void>;
}

export async function createHarness(
  opts: { egressAllow?: string; concurrency?: number } = {},
): Promise<Harness> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'flowsafe-server-'));
  const { store, keyRing } = await bootstrap({
    dataDir,
    masterKey: MasterKey.generate().toBase64(),
    bootstrapToken: OWNER_TOKEN,
  });
  const logs: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      logs.push(chunk.toString('utf8'));
      cb();
    },
  });
  const global = new Redactor();
  const logger = createServerLogger(global, { level: 'info', destination });
  const services = await createServices({
    store,
    keyRing,
    logger,
    global,
    egressAllow: opts.egressAllow ?? '127.0.0.1',
    ...(opts.concurrency !== undefined ? { concurrency: opts.concurrency } : {}),
  });
  const app = createApp(services.ctx);

  const bearer = (token: string | undefined) => (t: request.Test) =>
    token === undefined ? t : t.set('Authorization', `Bearer ${token}`);
  const agent = (token: string | undefined) => {
    const wrap = bearer(token);
    return {
      get: (url: string) => wrap(request(app).get(url)),
      post: (url: string) => wrap(request(app).post(url)),
      put: (url: string) => wrap(request(app).put(url)),
      patch: (url: string) => wrap(request(app).patch(url)),
      delete: (url: string) => wrap(request(app).delete(url)),
    };
  };

  const me = await agent(OWNER_TOKEN).get('/api/me').expect(200);
  const workspaceId = me.body.workspaces[0].id as string;
  const tokens = { owner: OWNER_TOKEN } as Harness['tokens'];
  const userIds = { owner: me.body.user.id } as Harness['userIds'];
  for (const role of ['admin', 'editor', 'viewer'] as const) {
    const res = await agent(OWNER_TOKEN)
      .post(`/api/workspaces/${workspaceId}/members`)
      .send({ name: role, role })
      .expect(201);
    tokens[role] = res.body.token;
    userIds[role] = res.body.user.id;
  }
  // The outsider owns a workspace of its own and is no member of `default`.
  const outsider = await agent(OWNER_TOKEN)
    .post(`/api/workspaces/${workspaceId}/members`)
    .send({ name: 'outsider', role: 'viewer' })
    .expect(201);
  tokens.outsider = outsider.body.token;
  userIds.outsider = outsider.body.user.id;
  await agent(tokens.outsider).post('/api/workspaces').send({ name: 'elsewhere' }).expect(201);
  await agent(OWNER_TOKEN).delete(`/api/workspaces/${workspaceId}/members/${userIds.outsider}`).expect(204);

  return {
    app,
    store,
    services,
    dataDir,
    workspaceId,
    tokens,
    userIds,
    logs,
    as: (who) => agent(who === 'anonymous' ? undefined : tokens[who]),
    async close() {
      await services.close(1_000);
      await store.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Create a project in the harness workspace (as owner) and return its id. */
export async function createProject(h: Harness, name = 'Support'): Promise<string> {
  const res = await h
    .as('owner')
    .post(`/api/workspaces/${h.workspaceId}/projects`)
    .send({ name })
    .expect(201);
  return res.body.id as string;
}

/** Create a secret in project `p` as `who` (owner by default); answers the created secret's view. */
export async function createSecret(
  h: Harness,
  p: string,
  body: Record<string, unknown>,
  who: Who = 'owner',
): Promise<Record<string, unknown>> {
  const res = await h.as(who).post(`/api/projects/${p}/secrets`).send(body).expect(201);
  return res.body as Record<string, unknown>;
}

/** Create a flow in project `p` as `who` (owner by default) and return its id. */
export async function createFlow(
  h: Harness,
  p: string,
  name: string,
  definition: unknown,
  who: Who = 'owner',
): Promise<string> {
  const res = await h.as(who).post(`/api/projects/${p}/flows`).send({ name, definition }).expect(201);
  return res.body.id as string;
}
