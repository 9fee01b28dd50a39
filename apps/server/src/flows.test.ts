import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, createProject, createSecret, type Harness } from './test-harness';

const VALUE = 'sk_live_canary_Zx81Qp0aa';

const apiFlow = (headers: Record<string, string>, extra: Record<string, unknown> = {}) => ({
  start: 'call',
  blocks: [
    {
      id: 'call',
      type: 'api',
      config: { method: 'GET', url: 'https://api.example.com/v1', headers, ...extra },
    },
  ],
});

describe('flows', () => {
  let h: Harness;
  let p: string;
  beforeAll(async () => {
    h = await createHarness();
    p = await createProject(h);
    await createSecret(h, p, { name: 'STRIPE_KEY', type: 'text', value: VALUE });
  });
  afterAll(async () => {
    await h.close();
  });

  it('CRUD by editors; viewers read only', async () => {
    const created = await h
      .as('editor')
      .post(`/api/projects/${p}/flows`)
      .send({ name: 'Charge', definition: apiFlow({ Authorization: 'Bearer <secret:STRIPE_KEY>' }) })
      .expect(201);
    const id = created.body.id as string;
    await h
      .as('viewer')
      .post(`/api/projects/${p}/flows`)
      .send({ name: 'x', definition: apiFlow({}) })
      .expect(403);
    expect((await h.as('viewer').get(`/api/projects/${p}/flows/${id}`).expect(200)).body.name).toBe('Charge');
    await h.as('viewer').put(`/api/projects/${p}/flows/${id}`).send({ name: 'y' }).expect(403);
    expect(
      (await h.as('editor').put(`/api/projects/${p}/flows/${id}`).send({ name: 'Charge 2' }).expect(200)).body
        .name,
    ).toBe('Charge 2');
    await h.as('viewer').delete(`/api/projects/${p}/flows/${id}`).expect(403);
    await h.as('editor').delete(`/api/projects/${p}/flows/${id}`).expect(204);
    await h.as('editor').get(`/api/projects/${p}/flows/${id}`).expect(404);
  });

  it('validation errors from the runner are 400 with issue paths; unknown secrets are 422 bad references', async () => {
    const r = await h
      .as('editor')
      .post(`/api/projects/${p}/flows`)
      .send({ name: 'bad', definition: apiFlow({ X: '<secret:NOPE>' }) })
      .expect(422);
    expect(r.body.error.code).toBe('SECRET_REFERENCE_UNKNOWN');
    expect(r.body.error.details.issues[0].path).toEqual(expect.arrayContaining(['blocks', 0]));
    const shape = await h
      .as('editor')
      .post(`/api/projects/${p}/flows`)
      .send({ name: 'bad', definition: { start: 'x', blocks: 'nope' } })
      .expect(400);
    expect(shape.body.error.code).toBe('FLOW_INVALID');
    expect(shape.body.error.details.issues.length).toBeGreaterThan(0);
  });

  it('invariant 8: push protection refuses the raw value of a secret in a flow', async () => {
    const r = await h
      .as('editor')
      .post(`/api/projects/${p}/flows`)
      .send({ name: 'leaky', definition: apiFlow({ Authorization: `Bearer ${VALUE}` }) })
      .expect(422);
    expect(r.body.error.code).toBe('PUSH_PROTECTION');
    expect(r.body.error.message).toContain('STRIPE_KEY');
    expect(r.body.error.message).toContain('<secret:STRIPE_KEY>');
    expect(JSON.stringify(r.body)).not.toContain(VALUE);
  });

  it('invariant 8: push protection refuses the base64 of a value, in flows and settings', async () => {
    const b64 = Buffer.from(VALUE).toString('base64');
    const r = await h
      .as('editor')
      .post(`/api/projects/${p}/flows`)
      .send({ name: 'leaky', definition: apiFlow({ 'X-Enc': b64 }) })
      .expect(422);
    expect(r.body.error.code).toBe('PUSH_PROTECTION');
    const s = await h
      .as('editor')
      .put(`/api/projects/${p}/settings/REGION`)
      .send({ value: 'eu', environments: { production: `x${VALUE}y` } })
      .expect(422);
    expect(s.body.error.message).toContain('STRIPE_KEY');
    expect(JSON.stringify(s.body)).not.toContain(VALUE);
    const s2 = await h
      .as('editor')
      .put(`/api/projects/${p}/settings/REGION2`)
      .send({ value: encodeURIComponent(VALUE) })
      .expect(422);
    expect(s2.body.error.code).toBe('PUSH_PROTECTION');
    // Push protection also holds when the value was only just set as an override.
    await h
      .as('owner')
      .put(`/api/projects/${p}/secrets/STRIPE_KEY/environments/production`)
      .send({ value: 'sk_prod_canary_Q9' })
      .expect(200);
    await h
      .as('editor')
      .put(`/api/projects/${p}/settings/REGION3`)
      .send({ value: 'prefix sk_prod_canary_Q9' })
      .expect(422);
  });

  it('requireAllowedHosts: a flow using a secret without allowedHosts is refused with 422 naming it', async () => {
    await h
      .as('editor')
      .patch(`/api/projects/${p}`)
      .send({ policy: { requireAllowedHosts: true } })
      .expect(403);
    const patched = await h
      .as('admin')
      .patch(`/api/projects/${p}`)
      .send({ policy: { requireAllowedHosts: true } })
      .expect(200);
    expect(patched.body.policy).toEqual({ requireAllowedHosts: true });
    const r = await h
      .as('editor')
      .post(`/api/projects/${p}/flows`)
      .send({ name: 'f', definition: apiFlow({}, { auth: { type: 'bearer', secret: 'STRIPE_KEY' } }) })
      .expect(422);
    expect(r.body.error.code).toBe('ALLOWED_HOSTS_REQUIRED');
    expect(r.body.error.message).toContain('STRIPE_KEY');
    await h
      .as('admin')
      .patch(`/api/projects/${p}/secrets/STRIPE_KEY`)
      .send({ allowedHosts: ['api.example.com'] })
      .expect(200);
    await h
      .as('editor')
      .post(`/api/projects/${p}/flows`)
      .send({ name: 'f', definition: apiFlow({}, { auth: { type: 'bearer', secret: 'STRIPE_KEY' } }) })
      .expect(201);
    await h
      .as('admin')
      .patch(`/api/projects/${p}`)
      .send({ policy: { requireAllowedHosts: false }, name: 'Support 2' })
      .expect(200);
    expect((await h.as('viewer').get(`/api/projects/${p}`).expect(200)).body).toMatchObject({
      name: 'Support 2',
      policy: { requireAllowedHosts: false },
    });
  });
});

describe('settings and conversions', () => {
  let h: Harness;
  let p: string;
  beforeAll(async () => {
    h = await createHarness();
    p = await createProject(h);
  });
  afterAll(async () => {
    await h.close();
  });

  it('settings: members read, editors write, unknown environments are 400', async () => {
    await h.as('viewer').put(`/api/projects/${p}/settings/REGION`).send({ value: 'eu' }).expect(403);
    const c = await h
      .as('editor')
      .put(`/api/projects/${p}/settings/REGION`)
      .send({ value: 'eu-west', environments: { production: 'eu-central' } })
      .expect(201);
    expect(c.body.values).toEqual({ default: 'eu-west', production: 'eu-central' });
    expect(
      (await h.as('editor').put(`/api/projects/${p}/settings/REGION`).send({ value: 'eu-north' }).expect(200))
        .body.values,
    ).toEqual({ default: 'eu-north' });
    const bad = await h
      .as('editor')
      .put(`/api/projects/${p}/settings/REGION`)
      .send({ environments: { qa: 'x' } })
      .expect(400);
    expect(bad.body.error.code).toBe('ENVIRONMENT_UNKNOWN');
    expect((await h.as('viewer').get(`/api/projects/${p}/settings`).expect(200)).body.items).toHaveLength(1);
    expect(
      (await h.as('viewer').get(`/api/projects/${p}/settings/REGION`).expect(200)).body.values.default,
    ).toBe('eu-north');
  });

  it('make-secret moves the values into sealed storage and removes the plain ones, in one step', async () => {
    await h
      .as('editor')
      .put(`/api/projects/${p}/settings/API_KEY`)
      .send({ value: 'plain-canary-3141', environments: { production: 'plain-prod-canary-2718' } })
      .expect(201);
    await h
      .as('editor')
      .post(`/api/projects/${p}/settings/API_KEY/make-secret`)
      .send({ visibility: 'masked' })
      .expect(403);
    const r = await h
      .as('admin')
      .post(`/api/projects/${p}/settings/API_KEY/make-secret`)
      .send({ visibility: 'masked' })
      .expect(201);
    expect(r.body).toMatchObject({
      name: 'API_KEY',
      type: 'text',
      values: { default: true, production: true, development: false },
    });
    await h.as('viewer').get(`/api/projects/${p}/settings/API_KEY`).expect(404);
    const rev = await h
      .as('admin')
      .post(`/api/projects/${p}/secrets/API_KEY/reveal`)
      .send({ environment: 'production' })
      .expect(200);
    expect(rev.body.value).toBe('plain-prod-canary-2718');
    const { readFile, readdir } = await import('node:fs/promises');
    const main = await readFile(`${h.dataDir}/flowsafe.json`, 'utf8');
    expect(main).not.toContain('plain-canary-3141');
    expect(main).not.toContain('plain-prod-canary-2718');
    expect(await readdir(h.dataDir)).toContain('flowsafe.json');
    // Values too short for a secret are refused and the setting stays.
    await h.as('editor').put(`/api/projects/${p}/settings/SHORT`).send({ value: 'ab' }).expect(201);
    await h.as('admin').post(`/api/projects/${p}/settings/SHORT/make-secret`).send({}).expect(400);
    await h.as('viewer').get(`/api/projects/${p}/settings/SHORT`).expect(200);
  });

  it('make-setting deletes the values: the setting exists with no value', async () => {
    const r = await h.as('admin').post(`/api/projects/${p}/secrets/API_KEY/make-setting`).expect(201);
    expect(r.body).toMatchObject({ name: 'API_KEY', values: {} });
    await h.as('admin').get(`/api/projects/${p}/secrets/API_KEY`).expect(404);
    expect((await h.as('viewer').get(`/api/projects/${p}/settings/API_KEY`).expect(200)).body.values).toEqual(
      {},
    );
    const audit = await h.as('owner').get(`/api/projects/${p}/audit?limit=100`).expect(200);
    const actions = audit.body.items.map((e: { action: string }) => e.action);
    expect(actions).toEqual(expect.arrayContaining(['secret.make-setting', 'setting.make-secret']));
  });
});
