import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, createProject, type Harness } from './test-harness';

const CANARIES = [
  'exp-canary-text-81f2a9',
  'exp-canary-prod-44c1d0',
  'exp-user-canary',
  'exp-pass-canary-0b9e',
];

function encodings(v: string): string[] {
  return [
    v,
    Buffer.from(v).toString('base64').replace(/=+$/, ''),
    Buffer.from(v).toString('base64url'),
    encodeURIComponent(v),
  ];
}

function expectNoCanary(text: string): void {
  for (const c of CANARIES) for (const e of encodings(c)) expect(text).not.toContain(e);
}

describe('invariant 11: export, import and duplicate never carry values', () => {
  let h: Harness;
  let p: string;
  beforeAll(async () => {
    h = await createHarness();
    p = await createProject(h, 'Source');
    await h.as('owner').post(`/api/projects/${p}/environments`).send({ name: 'staging' }).expect(201);
    await h
      .as('owner')
      .post(`/api/projects/${p}/secrets`)
      .send({
        name: 'TEXT_TOKEN',
        type: 'text',
        visibility: 'masked',
        value: CANARIES[0],
        environments: { production: CANARIES[1] },
        allowedHosts: ['api.example.com'],
      })
      .expect(201);
    await h
      .as('owner')
      .post(`/api/projects/${p}/secrets`)
      .send({
        name: 'BASIC_AUTH',
        type: 'basic',
        visibility: 'restricted',
        environments: { staging: { username: CANARIES[2], password: CANARIES[3] } },
      })
      .expect(201);
    await h.as('editor').put(`/api/projects/${p}/settings/REGION`).send({ value: 'eu' }).expect(201);
    await h
      .as('editor')
      .post(`/api/projects/${p}/flows`)
      .send({
        name: 'Call',
        definition: {
          start: 'a',
          blocks: [
            {
              id: 'a',
              type: 'api',
              config: {
                method: 'GET',
                url: 'https://api.example.com/{{settings.REGION}}',
                headers: { 'X-Key': '<secret:TEXT_TOKEN>' },
                auth: { type: 'basic', secret: 'BASIC_AUTH' },
              },
            },
          ],
        },
      })
      .expect(201);
  });
  afterAll(async () => {
    await h.close();
  });

  it('export keeps names, types, visibility, allowedHosts and hadValues; never values', async () => {
    await h.as('viewer').get(`/api/projects/${p}/export`).expect(403);
    const r = await h.as('editor').get(`/api/projects/${p}/export`).expect(200);
    expect(r.body).toMatchObject({
      format: 'flowsafe.project',
      version: 1,
      project: { name: 'Source', environments: ['development', 'production', 'staging'] },
    });
    expect(r.body.settings).toEqual([{ name: 'REGION', values: { default: 'eu' } }]);
    const byName = Object.fromEntries(r.body.secrets.map((s: { name: string }) => [s.name, s]));
    expect(byName.TEXT_TOKEN).toEqual({
      name: 'TEXT_TOKEN',
      type: 'text',
      visibility: 'masked',
      allowedHosts: ['api.example.com'],
      hadValues: ['default', 'production'],
    });
    expect(byName.BASIC_AUTH).toMatchObject({
      type: 'basic',
      visibility: 'restricted',
      hadValues: ['staging'],
    });
    expect(r.body.flows).toHaveLength(1);
    const text = JSON.stringify(r.body);
    expectNoCanary(text);
    expect(text).not.toContain('"ct"');
    expect(text).not.toContain('wrappedKey');
  });

  it('import creates a new project whose secrets show missing; a run needing one fails naming secret and environment', async () => {
    const bundle = (await h.as('editor').get(`/api/projects/${p}/export`).expect(200)).body;
    const imported = await h
      .as('editor')
      .post(`/api/workspaces/${h.workspaceId}/projects/import`)
      .send(bundle)
      .expect(201);
    const q = imported.body.id as string;
    expect(q).not.toBe(p);
    expect(imported.body.environments).toEqual(['development', 'production', 'staging']);
    const secrets = (await h.as('viewer').get(`/api/projects/${q}/secrets`).expect(200)).body.items;
    const text = secrets.find((s: { name: string }) => s.name === 'TEXT_TOKEN');
    expect(text).toMatchObject({
      missing: ['default', 'production'],
      values: { default: false, production: false },
      allowedHosts: ['api.example.com'],
      visibility: 'masked',
    });
    expect(text.usedBy).toHaveLength(1);
    await h.as('owner').post(`/api/projects/${q}/secrets/TEXT_TOKEN/reveal`).send({}).expect(404);
    // Entering a value clears that environment from missing.
    const put = await h
      .as('owner')
      .put(`/api/projects/${q}/secrets/TEXT_TOKEN/environments/production`)
      .send({ value: 'new-prod-value-1' })
      .expect(200);
    expect(put.body.missing).toEqual(['default']);
    // A run that needs a missing value fails with a message naming the secret and the environment.
    const flows = (await h.as('viewer').get(`/api/projects/${q}/flows`).expect(200)).body.items;
    const run = await h
      .as('editor')
      .post(`/api/projects/${q}/flows/${flows[0].id}/runs`)
      .send({ environment: 'development' })
      .expect(200);
    expect(run.body.status).toBe('failed');
    expect(JSON.stringify(run.body)).toMatch(
      /secret (TEXT_TOKEN|BASIC_AUTH) has no value for environment development/,
    );
  });

  it('import refuses malformed bundles with 400 and invalid flows with 422', async () => {
    await h.as('viewer').post(`/api/workspaces/${h.workspaceId}/projects/import`).send({}).expect(403);
    await h
      .as('editor')
      .post(`/api/workspaces/${h.workspaceId}/projects/import`)
      .send({ format: 'other' })
      .expect(400);
    const bundle = (await h.as('editor').get(`/api/projects/${p}/export`).expect(200)).body;
    const withValue = structuredClone(bundle);
    withValue.secrets[0].value = 'sneaky-value';
    await h.as('editor').post(`/api/workspaces/${h.workspaceId}/projects/import`).send(withValue).expect(400);
    const badFlow = structuredClone(bundle);
    badFlow.flows[0].definition.blocks[0].config.headers['X-Key'] = '<secret:UNKNOWN_ONE>';
    expect(
      (
        await h
          .as('editor')
          .post(`/api/workspaces/${h.workspaceId}/projects/import`)
          .send(badFlow)
          .expect(422)
      ).body.error.code,
    ).toBe('BUNDLE_INVALID');
    await h.as('outsider').post(`/api/workspaces/${h.workspaceId}/projects/import`).send(bundle).expect(404);
  });

  it('duplicate strips values and keeps names, types, visibility and allowedHosts', async () => {
    await h.as('viewer').post(`/api/projects/${p}/duplicate`).send({ name: 'Copy' }).expect(403);
    const r = await h.as('editor').post(`/api/projects/${p}/duplicate`).send({ name: 'Copy' }).expect(201);
    expect(r.body.name).toBe('Copy');
    const secrets = (await h.as('viewer').get(`/api/projects/${r.body.id}/secrets`).expect(200)).body.items;
    expect(
      secrets
        .map((s: { name: string; type: string; visibility: string }) => [s.name, s.type, s.visibility])
        .sort(),
    ).toEqual([
      ['BASIC_AUTH', 'basic', 'restricted'],
      ['TEXT_TOKEN', 'text', 'masked'],
    ]);
    for (const s of secrets) expect(Object.values(s.values).every((v) => v === false)).toBe(true);
    const stored = await h.store.secrets.list(r.body.id);
    for (const s of stored) expect(s.values).toEqual({});
    const audit = await h.as('owner').get(`/api/projects/${r.body.id}/audit`).expect(200);
    expect(audit.body.items.map((e: { action: string }) => e.action)).toContain('project.duplicate');
  });

  it('invariant 1: no canary in any encoding in any file under the data dir', async () => {
    const files: string[] = [];
    const walk = async (dir: string) => {
      for (const e of await readdir(dir, { withFileTypes: true })) {
        const full = path.join(dir, e.name);
        if (e.isDirectory()) await walk(full);
        else files.push(full);
      }
    };
    await walk(h.dataDir);
    expect(files.length).toBeGreaterThan(1);
    for (const f of files) expectNoCanary(await readFile(f, 'utf8'));
    expectNoCanary(h.logs.join(''));
  });
});
