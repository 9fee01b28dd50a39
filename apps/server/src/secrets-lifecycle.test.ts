import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, createProject, type Harness } from './test-harness';

const TOKEN = 'zd-canary-4f1c9a7e2b';
const PROD = 'zd-prod-canary-77aa11bb';

describe('secrets lifecycle', () => {
  let h: Harness;
  let p: string;
  beforeAll(async () => {
    h = await createHarness();
    p = await createProject(h);
  });
  afterAll(async () => {
    await h.close();
  });

  it('creates a secret with default and production values and lists metadata only', async () => {
    const created = await h
      .as('admin')
      .post(`/api/projects/${p}/secrets`)
      .send({
        name: 'ZENDESK_TOKEN',
        type: 'text',
        visibility: 'masked',
        value: TOKEN,
        environments: { production: PROD },
        allowedHosts: ['*.zendesk.com'],
        description: 'support',
      })
      .expect(201);
    expect(created.body).toMatchObject({
      name: 'ZENDESK_TOKEN',
      type: 'text',
      visibility: 'masked',
      values: { default: true, development: false, production: true },
      missing: [],
      usedBy: [],
    });
    const list = await h.as('editor').get(`/api/projects/${p}/secrets`).expect(200);
    expect(list.body.items).toHaveLength(1);
    const text = JSON.stringify(list.body);
    expect(text).not.toContain(TOKEN);
    expect(text).not.toContain(PROD);
    expect(text).not.toContain('"ct"');
  });

  it('filters by search and type', async () => {
    await h
      .as('owner')
      .post(`/api/projects/${p}/secrets`)
      .send({
        name: 'GH_BASIC',
        type: 'basic',
        visibility: 'restricted',
        value: { username: 'octocat-user', password: 'gh-pass-canary-123' },
      })
      .expect(201);
    const byType = await h.as('viewer').get(`/api/projects/${p}/secrets?type=basic`).expect(200);
    expect(byType.body.items.map((s: { name: string }) => s.name)).toEqual(['GH_BASIC']);
    const bySearch = await h.as('viewer').get(`/api/projects/${p}/secrets?search=zendesk`).expect(200);
    expect(bySearch.body.items.map((s: { name: string }) => s.name)).toEqual(['ZENDESK_TOKEN']);
  });

  it('invariant 10: editors and viewers cannot create, change, delete or reveal secrets', async () => {
    for (const who of ['editor', 'viewer'] as const) {
      await h
        .as(who)
        .post(`/api/projects/${p}/secrets`)
        .send({ name: 'X_TOKEN', type: 'text', value: 'abcdefgh' })
        .expect(403);
      await h
        .as(who)
        .patch(`/api/projects/${p}/secrets/ZENDESK_TOKEN`)
        .send({ description: 'x' })
        .expect(403);
      await h.as(who).delete(`/api/projects/${p}/secrets/ZENDESK_TOKEN?confirm=ZENDESK_TOKEN`).expect(403);
      const r = await h.as(who).post(`/api/projects/${p}/secrets/ZENDESK_TOKEN/reveal`).send({}).expect(403);
      expect(JSON.stringify(r.body)).not.toContain(TOKEN);
    }
    await h.as('outsider').get(`/api/projects/${p}/secrets`).expect(404);
  });

  it('invariant 9: reveal is owner/admin only, one environment, audited', async () => {
    const def = await h
      .as('admin')
      .post(`/api/projects/${p}/secrets/ZENDESK_TOKEN/reveal`)
      .send({})
      .expect(200);
    expect(def.body).toMatchObject({ value: TOKEN, environment: 'default' });
    const prod = await h
      .as('owner')
      .post(`/api/projects/${p}/secrets/ZENDESK_TOKEN/reveal`)
      .send({ environment: 'production' })
      .expect(200);
    expect(prod.body.value).toBe(PROD);
    const dev = await h
      .as('owner')
      .post(`/api/projects/${p}/secrets/ZENDESK_TOKEN/reveal`)
      .send({ environment: 'development' })
      .expect(200);
    expect(dev.body).toMatchObject({ value: TOKEN, from: 'default' });
    await h
      .as('owner')
      .post(`/api/projects/${p}/secrets/ZENDESK_TOKEN/reveal`)
      .send({ environment: 'staging' })
      .expect(400);
    const audit = await h.as('owner').get(`/api/projects/${p}/audit?limit=100`).expect(200);
    const reveals = audit.body.items.filter((e: { action: string }) => e.action === 'secret.reveal');
    expect(reveals).toHaveLength(3);
    expect(reveals.map((e: { environment: string }) => e.environment).sort()).toEqual([
      'default',
      'development',
      'production',
    ]);
    expect(reveals[0].actor).toBeTruthy();
    const text = JSON.stringify(audit.body);
    expect(text).not.toContain(TOKEN);
    expect(text).not.toContain(PROD);
  });

  it('invariant 9: restricted values are never returned, and visibility only tightens', async () => {
    await h.as('owner').post(`/api/projects/${p}/secrets/GH_BASIC/reveal`).send({}).expect(403);
    const loosen = await h
      .as('owner')
      .patch(`/api/projects/${p}/secrets/GH_BASIC`)
      .send({ visibility: 'masked' })
      .expect(409);
    expect(loosen.body.error.code).toBe('VISIBILITY_LOOSEN');
    await h
      .as('owner')
      .post(`/api/projects/${p}/secrets`)
      .send({ name: 'TIGHTEN_ME', type: 'text', value: 'tighten-value-1' })
      .expect(201);
    const t = await h
      .as('owner')
      .patch(`/api/projects/${p}/secrets/TIGHTEN_ME`)
      .send({ visibility: 'restricted' })
      .expect(200);
    expect(t.body.visibility).toBe('restricted');
    await h.as('owner').post(`/api/projects/${p}/secrets/TIGHTEN_ME/reveal`).send({}).expect(403);
    await h
      .as('owner')
      .patch(`/api/projects/${p}/secrets/TIGHTEN_ME`)
      .send({ visibility: 'masked' })
      .expect(409);
  });

  it('overrides: PUT and DELETE per environment, unknown environment is 400', async () => {
    const put = await h
      .as('admin')
      .put(`/api/projects/${p}/secrets/ZENDESK_TOKEN/environments/development`)
      .send({ value: 'zd-dev-canary-9911' })
      .expect(200);
    expect(put.body.values).toMatchObject({ development: true });
    await h
      .as('admin')
      .put(`/api/projects/${p}/secrets/ZENDESK_TOKEN/environments/staging`)
      .send({ value: 'zd-dev-canary-9911' })
      .expect(400);
    const del = await h
      .as('admin')
      .delete(`/api/projects/${p}/secrets/ZENDESK_TOKEN/environments/development`)
      .expect(200);
    expect(del.body.values.development).toBe(false);
    await h
      .as('admin')
      .delete(`/api/projects/${p}/secrets/ZENDESK_TOKEN/environments/development`)
      .expect(404);
    const audit = await h.as('owner').get(`/api/projects/${p}/audit?limit=100`).expect(200);
    const actions = audit.body.items.map((e: { action: string }) => e.action);
    expect(actions).toContain('secret.override.set');
    expect(actions).toContain('secret.override.delete');
    expect(JSON.stringify(audit.body)).not.toContain('zd-dev-canary-9911');
  });

  it('environments: development and production exist, more can be added, values for unknown ones are 400', async () => {
    const envs = await h.as('viewer').get(`/api/projects/${p}/environments`).expect(200);
    expect(envs.body.items.map((e: { name: string }) => e.name)).toEqual(['development', 'production']);
    await h.as('editor').post(`/api/projects/${p}/environments`).send({ name: 'staging' }).expect(403);
    await h.as('admin').post(`/api/projects/${p}/environments`).send({ name: 'staging' }).expect(201);
    await h.as('admin').post(`/api/projects/${p}/environments`).send({ name: 'staging' }).expect(409);
    await h
      .as('admin')
      .put(`/api/projects/${p}/secrets/ZENDESK_TOKEN/environments/staging`)
      .send({ value: 'zd-stage-canary-1' })
      .expect(200);
    const bad = await h
      .as('admin')
      .post(`/api/projects/${p}/secrets`)
      .send({ name: 'NEW_ONE', type: 'text', environments: { qa: 'abcdefgh' } })
      .expect(400);
    expect(bad.body.error.code).toBe('ENVIRONMENT_UNKNOWN');
  });

  it('delete needs ?confirm=NAME and answers 409 with usages unless force', async () => {
    await h
      .as('owner')
      .post(`/api/projects/${p}/secrets`)
      .send({ name: 'DOOMED', type: 'text', value: 'doomed-value-1' })
      .expect(201);
    const flow = await h
      .as('editor')
      .post(`/api/projects/${p}/flows`)
      .send({
        name: 'uses doomed',
        definition: {
          start: 'a',
          blocks: [
            {
              id: 'a',
              type: 'api',
              config: {
                method: 'GET',
                url: 'https://api.example.com/x',
                headers: { 'X-Key': '<secret:DOOMED>' },
              },
            },
          ],
        },
      })
      .expect(201);
    const listed = await h.as('viewer').get(`/api/projects/${p}/secrets/DOOMED`).expect(200);
    expect(listed.body.usedBy).toEqual([{ flowId: flow.body.id, flowName: 'uses doomed', blocks: ['a'] }]);
    const usages = await h.as('viewer').get(`/api/projects/${p}/secrets/DOOMED/usages`).expect(200);
    expect(usages.body.items[0]).toMatchObject({
      flowId: flow.body.id,
      blockId: 'a',
      path: ['blocks', 0, 'config', 'headers', 'X-Key'],
    });
    expect(
      (await h.as('admin').delete(`/api/projects/${p}/secrets/DOOMED`).expect(400)).body.error.code,
    ).toBe('CONFIRM_REQUIRED');
    await h.as('admin').delete(`/api/projects/${p}/secrets/DOOMED?confirm=WRONG`).expect(400);
    const inUse = await h.as('admin').delete(`/api/projects/${p}/secrets/DOOMED?confirm=DOOMED`).expect(409);
    expect(inUse.body.error.code).toBe('SECRET_IN_USE');
    expect(inUse.body.error.details.usages[0].flowId).toBe(flow.body.id);
    await h.as('admin').delete(`/api/projects/${p}/secrets/DOOMED?confirm=DOOMED&force=true`).expect(204);
    await h.as('admin').get(`/api/projects/${p}/secrets/DOOMED`).expect(404);
    const audit = await h.as('owner').get(`/api/projects/${p}/audit?limit=100`).expect(200);
    expect(
      audit.body.items.find(
        (e: { action: string; secret?: string }) => e.action === 'secret.delete' && e.secret === 'DOOMED',
      ),
    ).toBeTruthy();
  });

  it('PATCH changes the default value (audited, never with the value) and refuses short values', async () => {
    await h.as('admin').patch(`/api/projects/${p}/secrets/ZENDESK_TOKEN`).send({ value: 'abc' }).expect(400);
    const r = await h
      .as('admin')
      .patch(`/api/projects/${p}/secrets/ZENDESK_TOKEN`)
      .send({ value: 'zd-new-canary-5566', allowedHosts: ['api.zendesk.com'] })
      .expect(200);
    expect(r.body.allowedHosts).toEqual(['api.zendesk.com']);
    const rev = await h
      .as('admin')
      .post(`/api/projects/${p}/secrets/ZENDESK_TOKEN/reveal`)
      .send({})
      .expect(200);
    expect(rev.body.value).toBe('zd-new-canary-5566');
    const audit = await h.as('owner').get(`/api/projects/${p}/audit?limit=100`).expect(200);
    expect(audit.body.items.some((e: { action: string }) => e.action === 'secret.update')).toBe(true);
    expect(JSON.stringify(audit.body)).not.toContain('zd-new-canary-5566');
  });
});
