// External secret stores through the HTTP API (SPEC §12), against local Vault and AWS Secrets
// Manager stand-ins and a local upstream, all on 127.0.0.1: store CRUD without credentials in
// any answer, secrets with `source` resolved at dispatch and never stored, the cache and its
// TTL, clear step errors, per-environment refs, export/import, role checks; and invariant 13
// for OAuth2 token fetches and redirects end-to-end (a server on 127.0.0.2 that must stay unhit).
import { readdir, readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type AwsStandIn,
  startAwsStandIn,
  startVaultStandIn,
  type VaultStandIn,
} from '@flowsafe/secret-stores';
import { createHarness, createProject, type Harness } from './test-harness';

const VAULT_TOKEN = 'hvs-root-token-canary-5d1e';
const APPROLE_SECRET = 'approle-secret-id-canary-8c2f';
const AWS_KEY_ID = 'AKIASTANDIN0000TEST1';
const AWS_SECRET = 'aws-secret-key-canary-3b7a9d';
const ZD = 'zd-external-canary-71f3aa09';
const ZD_SANDBOX = 'zd-sandbox-canary-0b9e44c2';
const GH_USER = 'octo-external-user';
const GH_PASS = 'gh-external-pass-canary-66d1';
const CLIENT_ID = 'oauth-client-id-canary-19ab';
const CLIENT_SECRET = 'oauth-client-secret-canary-2c3d';
const ACCESS = 'oauth-access-token-canary-4e5f';

/** Every form a value could be written in: raw, base64 (each alignment), base64url, hex, URL, JSON, UTF-16. */
function needles(value: string): Buffer[] {
  const out: Buffer[] = [];
  const text = new Set<string>([value, encodeURIComponent(value), JSON.stringify(value).slice(1, -1)]);
  for (let shift = 0; shift < 3; shift++) {
    const b64 = Buffer.concat([Buffer.alloc(shift, 0x41), Buffer.from(value)]).toString('base64');
    // drop the characters that depend on the bytes around the value
    const inner = b64.slice(shift === 0 ? 0 : Math.ceil((shift * 4) / 3) + 1).replace(/=+$/, '');
    text.add(inner.slice(0, -2));
    text.add(inner.slice(0, -2).replace(/\+/g, '-').replace(/\//g, '_'));
  }
  text.add(Buffer.from(value).toString('hex'));
  for (const t of text) out.push(Buffer.from(t, 'utf8'));
  out.push(Buffer.from(value, 'utf16le'));
  return out;
}

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await filesUnder(full)));
    else if (entry.isFile()) out.push(full);
  }
  return out;
}

/** The files of the data dir that hold any form of any of `values`. */
async function scanDataDir(dir: string, values: string[]): Promise<string[]> {
  const found: string[] = [];
  const all = values.flatMap((v) => needles(v).map((n) => [v, n] as const));
  for (const file of await filesUnder(dir)) {
    const bytes = await readFile(file);
    for (const [v, n] of all) if (bytes.includes(n)) found.push(`${path.relative(dir, file)}: ${v}`);
  }
  return found;
}

async function listen(server: Server, host = '127.0.0.1'): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, resolve);
  });
  return `http://${host}:${(server.address() as AddressInfo).port}`;
}

async function close(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

describe('external secret stores', () => {
  let h: Harness;
  let p: string;
  let vault: VaultStandIn;
  let aws: AwsStandIn;
  let upstream: Server;
  let base: string;
  let forbidden: Server;
  let forbiddenBase: string;
  let forbiddenHits = 0;
  const seen: Array<{ url: string; auth?: string }> = [];
  const everyBody: string[] = [];

  const ws = () => h.workspaceId;
  const send = async <T extends { status: number; text: string }>(t: PromiseLike<T>): Promise<T> => {
    const r = await t;
    everyBody.push(r.text);
    return r;
  };

  beforeAll(async () => {
    vault = await startVaultStandIn({
      tokens: [VAULT_TOKEN],
      approle: { roleId: 'flowsafe-role', secretId: APPROLE_SECRET },
    });
    vault.setSecret('zendesk', { token: ZD });
    vault.setSecret('zendesk-sandbox', { token: ZD_SANDBOX });
    aws = await startAwsStandIn({ accessKeyId: AWS_KEY_ID, secretAccessKey: AWS_SECRET });
    aws.setSecret('prod/github', JSON.stringify({ username: GH_USER, password: GH_PASS }));
    upstream = createServer((req, res) => {
      seen.push({
        url: req.url ?? '',
        ...(req.headers.authorization ? { auth: req.headers.authorization } : {}),
      });
      if (req.url === '/token') {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ access_token: ACCESS, token_type: 'Bearer', expires_in: 3600 }));
        return;
      }
      if (req.url?.startsWith('/redirect')) {
        res.statusCode = 302;
        res.setHeader('location', `${forbiddenBase}/landed`);
        res.end();
        return;
      }
      res.setHeader('content-type', 'application/json');
      // An API that echoes what it received must not hand it to the flow (invariant 5).
      res.end(JSON.stringify({ ok: true, echoed: req.headers.authorization ?? null }));
    });
    base = await listen(upstream);
    // 127.0.0.2 is loopback but not on the allow list: nothing may ever reach it.
    forbidden = createServer((_req, res) => {
      forbiddenHits += 1;
      res.end('{}');
    });
    forbiddenBase = await listen(forbidden, '127.0.0.2');
    h = await createHarness({ egressAllow: '127.0.0.1' });
    p = await createProject(h);
  });
  afterAll(async () => {
    await h.close();
    await vault.close();
    await aws.close();
    await close(upstream);
    await close(forbidden);
  });

  const addStore = async (body: Record<string, unknown>, status = 201) =>
    send(h.as('owner').post(`/api/workspaces/${ws()}/secret-stores`).send(body)).then((r) => {
      expect(r.status, r.text).toBe(status);
      return r;
    });
  const vaultStore = (name: string, extra: Record<string, unknown> = {}, auth?: Record<string, unknown>) => ({
    name,
    type: 'vault',
    config: { address: vault.url, mount: 'secret', auth: auth ?? { method: 'token', token: VAULT_TOKEN } },
    ...extra,
  });
  const addSecret = async (project: string, body: Record<string, unknown>) => {
    const r = await send(h.as('owner').post(`/api/projects/${project}/secrets`).send(body));
    expect(r.status, r.text).toBe(201);
    return r;
  };
  const runFlow = async (
    project: string,
    blockConfig: Record<string, unknown>,
    environment = 'production',
    who: 'editor' | 'owner' = 'editor',
  ): Promise<{ status: string; text: string; body: Record<string, any> }> => {
    const f = await send(
      h
        .as(who)
        .post(`/api/projects/${project}/flows`)
        .send({
          name: `f-${Math.random().toString(36).slice(2)}`,
          definition: {
            start: 'call',
            blocks: [{ id: 'call', type: 'api', config: { method: 'GET', saveAs: 'out', ...blockConfig } }],
          },
        }),
    );
    expect(f.status, f.text).toBe(201);
    const r = await send(
      h.as(who).post(`/api/projects/${project}/flows/${f.body.id}/runs`).send({ environment }),
    );
    expect(r.status, r.text).toBe(200);
    return { status: r.body.status, text: r.text, body: r.body };
  };

  it('manages stores without ever returning credentials; editors 403, non-members 404', async () => {
    const created = await addStore(
      vaultStore(
        'vault-prod',
        { cacheTtlS: 300 },
        {
          method: 'approle',
          roleId: 'flowsafe-role',
          secretId: APPROLE_SECRET,
        },
      ),
    );
    expect(created.body).toMatchObject({
      name: 'vault-prod',
      type: 'vault',
      config: { address: vault.url, mount: 'secret', auth: { method: 'approle', roleId: 'flowsafe-role' } },
      credentialsSet: ['secretId'],
      cacheTtlS: 300,
    });
    await addStore(vaultStore('vault-prod'), 409);
    const list = await send(h.as('admin').get(`/api/workspaces/${ws()}/secret-stores`));
    expect(list.status).toBe(200);
    expect(list.body.items.map((s: { name: string }) => s.name)).toContain('vault-prod');
    const one = await send(h.as('owner').get(`/api/workspaces/${ws()}/secret-stores/vault-prod`));
    expect(one.body.config.auth).toEqual({ method: 'approle', roleId: 'flowsafe-role' });

    const tested = await send(h.as('owner').post(`/api/workspaces/${ws()}/secret-stores/vault-prod/test`));
    expect(tested.status).toBe(200);
    expect(tested.body.ok).toBe(true);
    expect(Object.keys(tested.body).sort()).toEqual(['message', 'ok']);

    // An edit that leaves the credential out keeps it; one that changes it takes effect at once.
    const patched = await send(
      h.as('owner').patch(`/api/workspaces/${ws()}/secret-stores/vault-prod`).send({ cacheTtlS: 120 }),
    );
    expect(patched.status, patched.text).toBe(200);
    expect(patched.body.credentialsSet).toEqual(['secretId']);
    expect(
      (await send(h.as('owner').post(`/api/workspaces/${ws()}/secret-stores/vault-prod/test`))).body.ok,
    ).toBe(true);
    await send(
      h
        .as('owner')
        .patch(`/api/workspaces/${ws()}/secret-stores/vault-prod`)
        .send({
          config: { auth: { method: 'approle', roleId: 'flowsafe-role', secretId: 'wrong-secret-id-1234' } },
        }),
    );
    const bad = await send(h.as('owner').post(`/api/workspaces/${ws()}/secret-stores/vault-prod/test`));
    expect(bad.body.ok).toBe(false);
    expect(bad.text).not.toContain('wrong-secret-id-1234');
    await send(
      h
        .as('owner')
        .patch(`/api/workspaces/${ws()}/secret-stores/vault-prod`)
        .send({ config: { auth: { method: 'approle', roleId: 'flowsafe-role', secretId: APPROLE_SECRET } } }),
    );
    expect(
      (await send(h.as('owner').post(`/api/workspaces/${ws()}/secret-stores/vault-prod/test`))).body.ok,
    ).toBe(true);

    // Roles: editors and viewers 403, non-members 404, without a token 401.
    for (const who of ['editor', 'viewer'] as const) {
      await h.as(who).get(`/api/workspaces/${ws()}/secret-stores`).expect(403);
      await h.as(who).post(`/api/workspaces/${ws()}/secret-stores`).send(vaultStore('nope')).expect(403);
      await h.as(who).post(`/api/workspaces/${ws()}/secret-stores/vault-prod/test`).expect(403);
      await h.as(who).delete(`/api/workspaces/${ws()}/secret-stores/vault-prod`).expect(403);
    }
    await h.as('outsider').get(`/api/workspaces/${ws()}/secret-stores/vault-prod`).expect(404);
    await h
      .as('outsider')
      .patch(`/api/workspaces/${ws()}/secret-stores/vault-prod`)
      .send({ cacheTtlS: 1 })
      .expect(404);
    await h.as('anonymous').get(`/api/workspaces/${ws()}/secret-stores`).expect(401);
    await h.as('owner').get(`/api/workspaces/${ws()}/secret-stores/missing-store`).expect(404);

    // A bad definition is a 400 that never echoes the credential.
    const invalid = await addStore(
      {
        name: 'short',
        type: 'vault',
        config: { address: vault.url, auth: { method: 'token', token: 'abc' } },
      },
      400,
    );
    expect(invalid.body.error.code).toBe('VALIDATION_FAILED');

    const events = await h.store.audit.list(ws(), { limit: 100 });
    const actions = events.items.map((e) => e.action);
    expect(actions).toContain('store.create');
    expect(actions).toContain('store.update');
  });

  it('a secret kept in Vault is used at dispatch, scrubbed when echoed, audited with the store, and never stored', async () => {
    const created = await addSecret(p, {
      name: 'ZENDESK_TOKEN',
      type: 'text',
      visibility: 'masked',
      allowedHosts: ['127.0.0.1'],
      source: { store: 'vault-prod', ref: 'zendesk#token' },
    });
    expect(created.body).toMatchObject({
      name: 'ZENDESK_TOKEN',
      visibility: 'restricted',
      source: { store: 'vault-prod', ref: 'zendesk#token' },
      values: { default: true, development: true, production: true },
      missing: [],
    });
    const reveal = await send(h.as('owner').post(`/api/projects/${p}/secrets/ZENDESK_TOKEN/reveal`).send({}));
    expect(reveal.status).toBe(403);
    const override = await send(
      h
        .as('owner')
        .put(`/api/projects/${p}/secrets/ZENDESK_TOKEN/environments/production`)
        .send({ value: 'x-value-1234' }),
    );
    expect(override.status).toBe(409);
    expect(override.body.error.code).toBe('SECRET_EXTERNAL');

    const run = await runFlow(p, { url: `${base}/echo`, auth: { type: 'bearer', secret: 'ZENDESK_TOKEN' } });
    expect(run.status, run.text).toBe('succeeded');
    expect(seen.at(-1)?.auth).toBe(`Bearer ${ZD}`);
    expect(run.text).not.toContain(ZD);
    expect(run.text).toContain('[REDACTED:ZENDESK_TOKEN]');
    const again = await send(h.as('viewer').get(`/api/projects/${p}/runs/${run.body.id}`));
    expect(again.text).not.toContain(ZD);

    const audit = await send(h.as('owner').get(`/api/projects/${p}/audit?limit=100`));
    const use = audit.body.items.find(
      (e: { action: string; secret?: string }) => e.action === 'secret.use' && e.secret === 'ZENDESK_TOKEN',
    );
    expect(use).toMatchObject({
      runId: run.body.id,
      environment: 'production',
      details: { store: 'vault-prod' },
    });
  });

  it('picks up a changed value after the TTL, fetches at every use with TTL 0', async () => {
    vault.setSecret('rotating', { token: 'rotating-value-one-1111' });
    await addStore(vaultStore('vault-short', { cacheTtlS: 1 }));
    await addStore(vaultStore('vault-nocache', { cacheTtlS: 0 }));
    await addSecret(p, {
      name: 'ROTATING',
      type: 'text',
      source: { store: 'vault-short', ref: 'rotating#token' },
    });
    await addSecret(p, {
      name: 'UNCACHED',
      type: 'text',
      source: { store: 'vault-nocache', ref: 'rotating#token' },
    });
    const cfg = (secret: string) => ({ url: `${base}/echo`, auth: { type: 'bearer', secret } });

    expect((await runFlow(p, cfg('ROTATING'))).status).toBe('succeeded');
    expect(seen.at(-1)?.auth).toBe('Bearer rotating-value-one-1111');
    vault.setSecret('rotating', { token: 'rotating-value-two-2222' });
    const reads = vault.counts.read;
    expect((await runFlow(p, cfg('ROTATING'))).status).toBe('succeeded');
    expect(seen.at(-1)?.auth).toBe('Bearer rotating-value-one-1111');
    expect(vault.counts.read).toBe(reads);
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const later = await runFlow(p, cfg('ROTATING'));
    expect(later.status).toBe('succeeded');
    expect(seen.at(-1)?.auth).toBe('Bearer rotating-value-two-2222');
    expect(later.text).not.toContain('rotating-value-two-2222');

    // TTL 0: every use reads the store.
    const before = vault.counts.read;
    expect((await runFlow(p, cfg('UNCACHED'))).status).toBe('succeeded');
    expect(seen.at(-1)?.auth).toBe('Bearer rotating-value-two-2222');
    vault.setSecret('rotating', { token: 'rotating-value-three-3333' });
    expect((await runFlow(p, cfg('UNCACHED'))).status).toBe('succeeded');
    expect(seen.at(-1)?.auth).toBe('Bearer rotating-value-three-3333');
    expect(vault.counts.read).toBe(before + 2);
  });

  it('a store that is down or refuses the credentials fails the step naming secret, store and ref', async () => {
    const closed = createServer(() => undefined);
    const downUrl = await listen(closed);
    await close(closed);
    await addStore({
      name: 'vault-down',
      type: 'vault',
      config: { address: downUrl, auth: { method: 'token', token: 'down-token-canary-aa11' } },
    });
    await addStore(vaultStore('vault-wrong', {}, { method: 'token', token: 'wrong-token-canary-bb22' }));
    await addSecret(p, {
      name: 'DOWN_TOKEN',
      type: 'text',
      source: { store: 'vault-down', ref: 'zendesk#token' },
    });
    await addSecret(p, {
      name: 'WRONG_TOKEN',
      type: 'text',
      source: { store: 'vault-wrong', ref: 'zendesk#token' },
    });
    await addSecret(p, {
      name: 'GONE_TOKEN',
      type: 'text',
      source: { store: 'vault-prod', ref: 'no-such-path#token' },
    });

    // The secrets list works while a store is down.
    const list = await send(h.as('viewer').get(`/api/projects/${p}/secrets`));
    expect(list.status).toBe(200);
    const down = list.body.items.find((s: { name: string }) => s.name === 'DOWN_TOKEN');
    expect(down).toMatchObject({
      source: { store: 'vault-down', ref: 'zendesk#token' },
      visibility: 'restricted',
    });

    for (const [secret, store, ref] of [
      ['DOWN_TOKEN', 'vault-down', 'zendesk#token'],
      ['WRONG_TOKEN', 'vault-wrong', 'zendesk#token'],
      ['GONE_TOKEN', 'vault-prod', 'no-such-path#token'],
    ] as const) {
      const run = await runFlow(p, { url: `${base}/echo`, auth: { type: 'bearer', secret } });
      expect(run.status).toBe('failed');
      const message = String(run.body.error?.message ?? '');
      expect(message, run.text).toContain(secret);
      expect(message).toContain(store);
      expect(message).toContain(ref);
      expect(run.text).not.toContain('down-token-canary-aa11');
      expect(run.text).not.toContain('wrong-token-canary-bb22');
      expect(run.text).not.toContain(ZD);
    }
    const tested = await send(h.as('owner').post(`/api/workspaces/${ws()}/secret-stores/vault-wrong/test`));
    expect(tested.body.ok).toBe(false);
    expect(tested.text).not.toContain('wrong-token-canary-bb22');
  });

  it('basic and oauth2 secrets from JSON secrets in AWS Secrets Manager', async () => {
    await addStore({
      name: 'aws-prod',
      type: 'aws-secrets-manager',
      config: {
        region: 'eu-west-1',
        endpoint: aws.url,
        credentials: { accessKeyId: AWS_KEY_ID, secretAccessKey: AWS_SECRET },
      },
    });
    const store = await send(h.as('owner').get(`/api/workspaces/${ws()}/secret-stores/aws-prod`));
    expect(store.body.config).toEqual({
      region: 'eu-west-1',
      endpoint: aws.url,
      credentials: { accessKeyId: AWS_KEY_ID },
      timeoutMs: 10_000,
    });
    expect(store.body.credentialsSet).toEqual(['secretAccessKey']);
    expect(
      (await send(h.as('owner').post(`/api/workspaces/${ws()}/secret-stores/aws-prod/test`))).body.ok,
    ).toBe(true);
    aws.setSecret(
      'prod/oauth',
      JSON.stringify({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, tokenUrl: `${base}/token` }),
    );
    await addSecret(p, { name: 'GITHUB', type: 'basic', source: { store: 'aws-prod', ref: 'prod/github' } });
    await addSecret(p, { name: 'OAUTH', type: 'oauth2', source: { store: 'aws-prod', ref: 'prod/oauth' } });

    const basic = await runFlow(p, { url: `${base}/echo`, auth: { type: 'basic', secret: 'GITHUB' } });
    expect(basic.status, basic.text).toBe('succeeded');
    expect(seen.at(-1)?.auth).toBe(`Basic ${Buffer.from(`${GH_USER}:${GH_PASS}`).toString('base64')}`);
    expect(basic.text).not.toContain(GH_PASS);
    expect(basic.text).not.toContain(Buffer.from(`${GH_USER}:${GH_PASS}`).toString('base64'));

    const oauth = await runFlow(p, { url: `${base}/echo`, auth: { type: 'oauth2', secret: 'OAUTH' } });
    expect(oauth.status, oauth.text).toBe('succeeded');
    expect(seen.at(-1)?.auth).toBe(`Bearer ${ACCESS}`);
    expect(oauth.text).not.toContain(ACCESS);
    expect(oauth.text).not.toContain(CLIENT_SECRET);
    expect(aws.requests.some((r) => String(r.headers.authorization).startsWith('AWS4-HMAC-SHA256'))).toBe(
      true,
    );
  });

  it('per-environment refs', async () => {
    await addSecret(p, {
      name: 'ZD_ENV',
      type: 'text',
      source: {
        store: 'vault-prod',
        ref: 'zendesk#token',
        environments: { development: 'zendesk-sandbox#token' },
      },
    });
    const cfg = { url: `${base}/echo`, auth: { type: 'bearer', secret: 'ZD_ENV' } };
    expect((await runFlow(p, cfg, 'development')).status).toBe('succeeded');
    expect(seen.at(-1)?.auth).toBe(`Bearer ${ZD_SANDBOX}`);
    expect((await runFlow(p, cfg, 'production')).status).toBe('succeeded');
    expect(seen.at(-1)?.auth).toBe(`Bearer ${ZD}`);
    const bad = await send(
      h
        .as('owner')
        .post(`/api/projects/${p}/secrets`)
        .send({
          name: 'ZD_BAD_ENV',
          type: 'text',
          source: { store: 'vault-prod', ref: 'zendesk#token', environments: { qa: 'x#y' } },
        }),
    );
    expect(bad.status).toBe(400);
  });

  it('exports keep source; imported into a workspace without the store the secret is missing until the store exists', async () => {
    const bundle = await send(h.as('editor').get(`/api/projects/${p}/export`));
    expect(bundle.status).toBe(200);
    const zd = bundle.body.secrets.find((s: { name: string }) => s.name === 'ZD_ENV');
    expect(zd.source).toEqual({
      store: 'vault-prod',
      ref: 'zendesk#token',
      environments: { development: 'zendesk-sandbox#token' },
    });
    for (const v of [ZD, ZD_SANDBOX, GH_PASS, CLIENT_SECRET, VAULT_TOKEN, APPROLE_SECRET, AWS_SECRET])
      expect(bundle.text).not.toContain(v);

    const other = await send(h.as('owner').post('/api/workspaces').send({ name: 'Other' }));
    const imported = await send(
      h.as('owner').post(`/api/workspaces/${other.body.id}/projects/import`).send(bundle.body),
    );
    expect(imported.status, imported.text).toBe(201);
    const q = imported.body.id as string;
    const secret = await send(h.as('owner').get(`/api/projects/${q}/secrets/ZD_ENV`));
    expect(secret.body).toMatchObject({
      visibility: 'restricted',
      source: { store: 'vault-prod', ref: 'zendesk#token' },
      missing: ['default'],
      values: { default: false, production: false },
    });
    const run = await runFlow(
      q,
      { url: `${base}/echo`, auth: { type: 'bearer', secret: 'ZD_ENV' } },
      'production',
      'owner',
    );
    expect(run.status).toBe('failed');
    expect(run.body.error.message).toContain('ZD_ENV');
    expect(run.body.error.message).toContain('vault-prod');

    const created = await send(
      h.as('owner').post(`/api/workspaces/${other.body.id}/secret-stores`).send(vaultStore('vault-prod')),
    );
    expect(created.status).toBe(201);
    const now = await send(h.as('owner').get(`/api/projects/${q}/secrets/ZD_ENV`));
    expect(now.body.missing).toEqual([]);
    expect(
      (
        await runFlow(
          q,
          { url: `${base}/echo`, auth: { type: 'bearer', secret: 'ZD_ENV' } },
          'production',
          'owner',
        )
      ).status,
    ).toBe('succeeded');
  });

  it('DELETE answers 409 with the secrets that use the store, 204 once none does', async () => {
    await addStore(vaultStore('vault-temp'));
    await addSecret(p, { name: 'TEMP', type: 'text', source: { store: 'vault-temp', ref: 'zendesk#token' } });
    const refused = await send(h.as('owner').delete(`/api/workspaces/${ws()}/secret-stores/vault-temp`));
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe('STORE_IN_USE');
    expect(refused.body.error.message).toContain('TEMP');
    expect(refused.body.error.details.secrets).toEqual([
      { projectId: p, project: 'Support', secret: 'TEMP' },
    ]);
    // Moving the secret back into flowsafe frees the store; the secret then has no value.
    const moved = await send(h.as('owner').patch(`/api/projects/${p}/secrets/TEMP`).send({ source: null }));
    expect(moved.status, moved.text).toBe(200);
    expect(moved.body.source).toBeUndefined();
    expect(moved.body.missing).toEqual(['default']);
    expect(moved.body.visibility).toBe('restricted');
    await h.as('admin').delete(`/api/workspaces/${ws()}/secret-stores/vault-temp`).expect(204);
    const events = await h.store.audit.list(ws(), { limit: 200 });
    expect(events.items.some((e) => e.action === 'store.delete' && e.details?.store === 'vault-temp')).toBe(
      true,
    );
  });

  it('invariant 13: OAuth2 token URLs and redirect hops to a non-allowed address are refused end-to-end', async () => {
    await addSecret(p, {
      name: 'PRIVATE_OAUTH',
      type: 'oauth2',
      value: {
        clientId: 'private-client-1',
        clientSecret: 'private-secret-1',
        tokenUrl: `${forbiddenBase}/token`,
      },
    });
    const oauth = await runFlow(p, {
      url: `${base}/echo`,
      auth: { type: 'oauth2', secret: 'PRIVATE_OAUTH' },
    });
    expect(oauth.status).toBe('failed');
    expect(oauth.text).toContain('EGRESS_PRIVATE_ADDRESS');
    expect(oauth.text).toContain('FLOWSAFE_EGRESS_ALLOW');
    const redirect = await runFlow(p, { url: `${base}/redirect` });
    expect(redirect.status).toBe('failed');
    expect(redirect.text).toContain('EGRESS_PRIVATE_ADDRESS');
    expect(forbiddenHits).toBe(0);
  });

  it('no value and no store credential is in any answer, the logs or any file of the data dir', async () => {
    const values = [
      ZD,
      ZD_SANDBOX,
      GH_PASS,
      CLIENT_SECRET,
      ACCESS,
      'rotating-value-two-2222',
      'rotating-value-three-3333',
    ];
    const credentials = [
      VAULT_TOKEN,
      APPROLE_SECRET,
      AWS_SECRET,
      'wrong-token-canary-bb22',
      'down-token-canary-aa11',
    ];
    // The scan does find what is there (names are stored), so an empty result means something.
    expect(await scanDataDir(h.dataDir, ['ZENDESK_TOKEN', 'vault-prod'])).not.toEqual([]);
    expect(await scanDataDir(h.dataDir, [...values, ...credentials])).toEqual([]);
    const logs = h.logs.join('');
    for (const v of [...values, ...credentials]) expect(logs).not.toContain(v);
    const answers = everyBody.join('\n');
    for (const v of [...values, ...credentials]) expect(answers).not.toContain(v);
    expect(everyBody.length).toBeGreaterThan(40);
  });
});
