import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from './app';
import { ERROR_STATUS } from './errors';
import { createHarness, createProject, OWNER_TOKEN, type Harness } from './test-harness';

describe('app', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness();
  });
  afterAll(async () => {
    await h.close();
  });

  it('serves an OpenAPI 3.1 document generated from the zod schemas', async () => {
    const r = await request(h.app).get('/api/openapi.json').expect(200);
    expect(r.body.openapi).toBe('3.1.0');
    const create = r.body.paths['/api/projects/{p}/secrets'].post;
    expect(create.requestBody.content['application/json'].schema).toBeTruthy();
    expect(JSON.stringify(create.requestBody)).toContain('oauth2');
    expect(r.body.paths['/api/projects/{p}/flows/{f}/runs'].post.responses['202']).toBeTruthy();
    expect(r.body.components.schemas.Error.properties.error).toBeTruthy();
    expect(Object.keys(r.body.paths).length).toBeGreaterThan(25);
  });

  it('every error code of the table has a 4xx or 5xx status', () => {
    for (const status of Object.values(ERROR_STATUS)) expect(status).toBeGreaterThanOrEqual(400);
  });

  it('request logs carry method, path and status — never the token, the query string or the body', async () => {
    const p = await createProject(h);
    await h
      .as('owner')
      .post(`/api/projects/${p}/secrets`)
      .send({ name: 'LOGGED', type: 'text', value: 'log-canary-value-1' })
      .expect(201);
    await h.as('owner').post(`/api/projects/${p}/secrets/LOGGED/reveal`).send({}).expect(200);
    await h.as('owner').get(`/api/projects/${p}/secrets?search=query-canary`).expect(200);
    const text = h.logs.join('');
    expect(text).toContain('"path":"/api/projects/');
    expect(text).toContain('"status":201');
    expect(text).not.toContain(OWNER_TOKEN);
    expect(text).not.toContain('query-canary');
    expect(text).not.toContain('log-canary-value-1');
  });

  it('an unexpected error is a 500 INTERNAL whose message passed the redactor', async () => {
    const p = await createProject(h, 'boom');
    await h
      .as('owner')
      .post(`/api/projects/${p}/secrets`)
      .send({ name: 'BOOM', type: 'text', value: 'boom-canary-value-1' })
      .expect(201);
    const original = h.store.flows.list;
    h.store.flows.list = async () => {
      throw new Error('database exploded near boom-canary-value-1');
    };
    try {
      const r = await h.as('owner').get(`/api/projects/${p}/secrets`).expect(500);
      expect(r.body.error.code).toBe('INTERNAL');
      expect(r.body.error.message).toContain('[REDACTED:BOOM]');
      expect(r.body.error.message).not.toContain('boom-canary-value-1');
      expect(h.logs.join('')).not.toContain('boom-canary-value-1');
    } finally {
      h.store.flows.list = original;
    }
  });

  describe('editor', () => {
    let dir: string;
    beforeAll(async () => {
      dir = await mkdtemp(path.join(tmpdir(), 'flowsafe-editor-'));
      await writeFile(path.join(dir, 'index.html'), '<!doctype html><title>flowsafe</title>');
      await writeFile(path.join(dir, 'app.js'), 'console.log(1)');
    });
    afterAll(async () => {
      await rm(dir, { recursive: true, force: true });
    });

    it('serves the built editor at / with SPA fallback; /api stays JSON', async () => {
      const app = createApp(h.services.ctx, { editorDir: dir, logRequests: false });
      expect((await request(app).get('/').expect(200)).text).toContain('<title>flowsafe</title>');
      expect((await request(app).get('/app.js').expect(200)).text).toContain('console.log');
      expect((await request(app).get('/projects/abc/flows/def').expect(200)).text).toContain(
        '<title>flowsafe</title>',
      );
      expect(
        (await request(app).get('/api/unknown').set('Authorization', `Bearer ${OWNER_TOKEN}`).expect(404))
          .body.error.code,
      ).toBe('NOT_FOUND');
    });

    it('without a built editor, / is a JSON 404', async () => {
      const app = createApp(h.services.ctx, { editorDir: path.join(dir, 'missing'), logRequests: false });
      expect((await request(app).get('/').expect(404)).body.error.code).toBe('NOT_FOUND');
    });
  });
});
