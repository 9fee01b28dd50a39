// Invariant 12: every create, update, delete, reveal, override change and use at dispatch of
// a secret is recorded with actor, time, secret name, environment and flow/run — and no audit
// event, in the API or in the files under the data dir, ever holds a value.
import { readdir, readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, createProject, type Harness } from './test-harness';

const canary = (label: string) => `${label}-${randomBytes(12).toString('hex')}`;

function encodings(value: string): string[] {
  const b64 = Buffer.from(value).toString('base64');
  return [
    value,
    b64,
    b64.replace(/=+$/, ''),
    Buffer.from(value).toString('base64url'),
    encodeURIComponent(value),
  ];
}

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await filesUnder(full)));
    else out.push(full);
  }
  return out;
}

interface AuditItem {
  at: string;
  actor: string;
  action: string;
  secret?: string;
  environment?: string;
  flowId?: string;
  runId?: string;
}

describe('invariant 12: audit', () => {
  let h: Harness;
  let p: string;
  let upstream: Server;
  let base: string;
  const values = {
    created: canary('audit-default'),
    production: canary('audit-prod'),
    updated: canary('audit-updated'),
    override: canary('audit-override'),
  };

  beforeAll(async () => {
    upstream = createServer((req, res) => {
      req.resume();
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ ok: true }));
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
    h = await createHarness({ egressAllow: '127.0.0.1' });
    p = await createProject(h);
  });
  afterAll(async () => {
    await h.close();
    upstream.closeAllConnections();
    await new Promise<void>((resolve) => upstream.close(() => resolve()));
  });

  it('records create, update, override, reveal, use and delete with actor, time, secret, environment and run — never a value', async () => {
    const started = Date.now();
    await h
      .as('admin')
      .post(`/api/projects/${p}/secrets`)
      .send({
        name: 'AUDITED',
        type: 'text',
        visibility: 'masked',
        value: values.created,
        environments: { production: values.production },
        allowedHosts: ['127.0.0.1'],
      })
      .expect(201);
    await h
      .as('owner')
      .patch(`/api/projects/${p}/secrets/AUDITED`)
      .send({ value: values.updated })
      .expect(200);
    await h
      .as('owner')
      .put(`/api/projects/${p}/secrets/AUDITED/environments/development`)
      .send({ value: values.override })
      .expect(200);
    await h
      .as('admin')
      .post(`/api/projects/${p}/secrets/AUDITED/reveal`)
      .send({ environment: 'production' })
      .expect(200);
    await h.as('owner').delete(`/api/projects/${p}/secrets/AUDITED/environments/development`).expect(200);

    const flow = await h
      .as('editor')
      .post(`/api/projects/${p}/flows`)
      .send({
        name: 'uses AUDITED',
        definition: {
          start: 'call',
          blocks: [
            {
              id: 'call',
              type: 'api',
              config: { method: 'GET', url: `${base}/x`, headers: { 'X-Key': '<secret:AUDITED>' } },
            },
          ],
        },
      })
      .expect(201);
    const run = await h
      .as('editor')
      .post(`/api/projects/${p}/flows/${flow.body.id}/runs`)
      .send({ environment: 'production' })
      .expect(200);
    expect(run.body.status).toBe('succeeded');
    await h.as('owner').delete(`/api/projects/${p}/secrets/AUDITED?confirm=AUDITED&force=true`).expect(204);

    const audit = await h.as('owner').get(`/api/projects/${p}/audit?limit=100`).expect(200);
    const items = (audit.body.items as AuditItem[]).filter((e) => e.secret === 'AUDITED');
    const find = (action: string) => items.find((e) => e.action === action);
    for (const item of items) {
      expect(Date.parse(item.at)).toBeGreaterThanOrEqual(started - 1000);
      expect(item.actor).toBeTruthy();
    }
    expect(find('secret.create')).toMatchObject({ actor: h.userIds.admin });
    expect(find('secret.update')).toMatchObject({ actor: h.userIds.owner });
    expect(find('secret.override.set')).toMatchObject({ actor: h.userIds.owner, environment: 'development' });
    expect(find('secret.override.delete')).toMatchObject({
      actor: h.userIds.owner,
      environment: 'development',
    });
    expect(find('secret.reveal')).toMatchObject({ actor: h.userIds.admin, environment: 'production' });
    expect(find('secret.use')).toMatchObject({
      actor: h.userIds.editor,
      environment: 'production',
      flowId: flow.body.id,
      runId: run.body.id,
    });
    expect(find('secret.delete')).toMatchObject({ actor: h.userIds.owner });

    // never a value: not in the API's audit list, not in any file under the data dir
    const texts = [JSON.stringify(audit.body)];
    for (const file of await filesUnder(h.dataDir)) texts.push(await readFile(file, 'latin1'));
    for (const value of Object.values(values)) {
      for (const form of encodings(value)) {
        for (const text of texts) expect(text.includes(form), `${form} leaked`).toBe(false);
      }
    }
  });

  it('editors and viewers cannot read the audit log; non-members get 404', async () => {
    await h.as('editor').get(`/api/projects/${p}/audit`).expect(403);
    await h.as('viewer').get(`/api/projects/${p}/audit`).expect(403);
    await h.as('outsider').get(`/api/projects/${p}/audit`).expect(404);
  });
});
