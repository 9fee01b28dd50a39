import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, createProject, type Harness } from './test-harness';

const TOKEN = 'run-canary-token-7c3d91ee';

describe('runs', () => {
  let h: Harness;
  let p: string;
  let upstream: Server;
  let base: string;
  const seen: Array<{ url: string; auth?: string }> = [];

  beforeAll(async () => {
    upstream = createServer((req, res) => {
      seen.push({
        url: req.url ?? '',
        ...(req.headers.authorization ? { auth: req.headers.authorization } : {}),
      });
      const delay = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('delay') ?? 0);
      setTimeout(() => {
        res.setHeader('content-type', 'application/json');
        // An API that echoes the token must not hand it to the flow (invariant 5).
        res.end(JSON.stringify({ ok: true, echoed: req.headers.authorization ?? null }));
      }, delay);
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
    h = await createHarness({ egressAllow: '127.0.0.1' });
    p = await createProject(h);
    await h
      .as('owner')
      .post(`/api/projects/${p}/secrets`)
      .send({ name: 'ECHO_TOKEN', type: 'text', value: TOKEN, allowedHosts: ['127.0.0.1'] })
      .expect(201);
  });
  afterAll(async () => {
    await h.close();
    upstream.closeAllConnections();
    await new Promise<void>((resolve) => upstream.close(() => resolve()));
  });

  const flow = async (query = '') => {
    const r = await h
      .as('editor')
      .post(`/api/projects/${p}/flows`)
      .send({
        name: `echo${query}`,
        definition: {
          start: 'call',
          blocks: [
            {
              id: 'call',
              type: 'api',
              config: {
                method: 'GET',
                url: `${base}/echo${query}`,
                auth: { type: 'bearer', secret: 'ECHO_TOKEN' },
                saveAs: 'echo',
              },
            },
          ],
        },
      })
      .expect(201);
    return r.body.id as string;
  };

  it('runs a flow against a local server: 200 with the finished record, the echoed token scrubbed, the use audited', async () => {
    const f = await flow();
    const r = await h
      .as('editor')
      .post(`/api/projects/${p}/flows/${f}/runs`)
      .send({ environment: 'production', input: { lang: 'en' } })
      .expect(200);
    expect(r.body).toMatchObject({ flowId: f, projectId: p, environment: 'production', status: 'succeeded' });
    expect(seen.at(-1)?.auth).toBe(`Bearer ${TOKEN}`);
    const text = JSON.stringify(r.body);
    expect(text).not.toContain(TOKEN);
    expect(text).toContain('[REDACTED:ECHO_TOKEN]');
    const one = await h.as('viewer').get(`/api/projects/${p}/runs/${r.body.id}`).expect(200);
    expect(one.body.status).toBe('succeeded');
    expect(JSON.stringify(one.body)).not.toContain(TOKEN);
    const audit = await h.as('owner').get(`/api/projects/${p}/audit?limit=100`).expect(200);
    const use = audit.body.items.find((e: { action: string }) => e.action === 'secret.use');
    expect(use).toMatchObject({
      secret: 'ECHO_TOKEN',
      environment: 'production',
      flowId: f,
      runId: r.body.id,
    });
  });

  it('viewers cannot run; unknown environments are 400; unknown flows 404', async () => {
    const f = await flow('?v=1');
    await h
      .as('viewer')
      .post(`/api/projects/${p}/flows/${f}/runs`)
      .send({ environment: 'production' })
      .expect(403);
    expect(
      (
        await h
          .as('editor')
          .post(`/api/projects/${p}/flows/${f}/runs`)
          .send({ environment: 'qa' })
          .expect(400)
      ).body.error.code,
    ).toBe('ENVIRONMENT_UNKNOWN');
    await h
      .as('editor')
      .post(`/api/projects/${p}/flows/nope/runs`)
      .send({ environment: 'production' })
      .expect(404);
    await h
      .as('editor')
      .post(`/api/projects/${p}/flows/${f}/runs`)
      .send({ environment: 'production', waitMs: 300_001 })
      .expect(400);
  });

  it('answers 202 with the record as it stands when the flow outlasts waitMs, then finishes', async () => {
    const f = await flow('?delay=800');
    const r = await h
      .as('editor')
      .post(`/api/projects/${p}/flows/${f}/runs`)
      .send({ environment: 'production', waitMs: 50 })
      .expect(202);
    expect(['queued', 'running']).toContain(r.body.status);
    let status = r.body.status as string;
    for (let i = 0; i < 100 && (status === 'queued' || status === 'running'); i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      status = (await h.as('viewer').get(`/api/projects/${p}/runs/${r.body.id}`).expect(200)).body.status;
    }
    expect(status).toBe('succeeded');
  });

  it('cancels a running run; a finished run cannot be cancelled', async () => {
    const f = await flow('?delay=5000');
    const r = await h
      .as('editor')
      .post(`/api/projects/${p}/flows/${f}/runs`)
      .send({ environment: 'production', waitMs: 100 })
      .expect(202);
    await h.as('viewer').post(`/api/projects/${p}/runs/${r.body.id}/cancel`).expect(403);
    const c = await h.as('editor').post(`/api/projects/${p}/runs/${r.body.id}/cancel`).expect(200);
    expect(c.body.status).toBe('cancelled');
    await h.as('editor').post(`/api/projects/${p}/runs/${r.body.id}/cancel`).expect(409);
    await h.as('editor').post(`/api/projects/${p}/runs/does-not-exist/cancel`).expect(404);
  });

  it('lists runs newest first with pagination', async () => {
    const f = await flow('?list=1');
    for (let i = 0; i < 3; i++)
      await h
        .as('editor')
        .post(`/api/projects/${p}/flows/${f}/runs`)
        .send({ environment: 'development' })
        .expect(200);
    const page1 = await h.as('viewer').get(`/api/projects/${p}/flows/${f}/runs?limit=2`).expect(200);
    expect(page1.body.items).toHaveLength(2);
    expect(page1.body.next).toBeTruthy();
    const page2 = await h
      .as('viewer')
      .get(`/api/projects/${p}/flows/${f}/runs?limit=2&cursor=${encodeURIComponent(page1.body.next)}`)
      .expect(200);
    expect(page2.body.items).toHaveLength(1);
    const ids = [...page1.body.items, ...page2.body.items].map((r: { id: string }) => r.id);
    expect(new Set(ids).size).toBe(3);
    const all = await h.as('viewer').get(`/api/projects/${p}/runs?limit=100`).expect(200);
    expect(all.body.items.length).toBeGreaterThanOrEqual(5);
    await h.as('viewer').get(`/api/projects/${p}/runs?limit=0`).expect(400);
    await h.as('viewer').get(`/api/projects/${p}/runs?limit=abc`).expect(400);
  });

  it('a run an earlier process left running is reported failed (WORKER_LOST), not running forever', async () => {
    const f = await flow('?orphan=1');
    const id = 'orphan-run-1';
    await h.store.runs.save({
      id,
      projectId: p,
      flowId: f,
      environment: 'production',
      status: 'running',
      queuedAt: new Date().toISOString(),
      steps: [],
    });
    const r = await h.as('viewer').get(`/api/projects/${p}/runs/${id}`).expect(200);
    expect(r.body).toMatchObject({ status: 'failed', error: { code: 'WORKER_LOST' } });
    const listed = await h.as('viewer').get(`/api/projects/${p}/flows/${f}/runs`).expect(200);
    expect(listed.body.items.find((x: { id: string }) => x.id === id).status).toBe('failed');
    await h.as('editor').post(`/api/projects/${p}/runs/${id}/cancel`).expect(409);
  });

  it('invariant 13: without the allow list, a run to 127.0.0.1 fails with EGRESS_PRIVATE_ADDRESS', async () => {
    const strict = await createHarness({ egressAllow: '' });
    try {
      const q = await createProject(strict);
      const f = await strict
        .as('editor')
        .post(`/api/projects/${q}/flows`)
        .send({
          name: 'local',
          definition: {
            start: 'a',
            blocks: [{ id: 'a', type: 'api', config: { method: 'GET', url: `${base}/x` } }],
          },
        })
        .expect(201);
      const before = seen.length;
      const r = await strict
        .as('editor')
        .post(`/api/projects/${q}/flows/${f.body.id}/runs`)
        .send({ environment: 'production' })
        .expect(200);
      expect(r.body.status).toBe('failed');
      expect(JSON.stringify(r.body)).toContain('EGRESS_PRIVATE_ADDRESS');
      expect(seen.length).toBe(before);
    } finally {
      await strict.close();
    }
  });
});
