// Invariants in PostgreSQL mode (SPEC §11): after the leak scenario — canary secrets of every
// type used by flows that a worker process runs against a local echo server, an OAuth2 token
// server and a failing server, runs with input, an export through the API and the CLI — a
// dump of the whole database (pg_dump when a matching binary is installed, else every row of
// every table, Graphile Worker's included) holds no canary in any encoding; neither do the
// API's and the worker's output, nor the run records. A secret kept in a Vault stand-in (and
// the Vault token itself, sealed as a store credential) is part of the scenario (SPEC §12).
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canarySecrets, leakFinder, makeCanaries } from '../utils/canaries';
import { startVaultStandIn, type VaultStandIn } from '@flowsafe/secret-stores';
import { startTestPostgres, type TestPostgres } from '../utils/postgres';
import {
  baseEnv,
  client,
  dumpDatabase,
  newMasterKey,
  newToken,
  runFlowsafe,
  startApi,
  startUpstream,
  startWorker,
  type Proc,
  type Upstream,
} from './postgres-cluster';

const C = {
  ...makeCanaries('pgleak'),
  vaultToken: 'pgleak-vault-token-hvs-4r5t6y7u',
  external: 'pgleak-external-value-a8s7d6f5',
};
const leaks = leakFinder(C);

describe('invariants in PostgreSQL mode', () => {
  let pgServer: TestPostgres;
  let echo: Upstream;
  let vault: VaultStandIn;
  let dataDir: string;
  const servers: Server[] = [];
  const procs: Proc[] = [];

  beforeAll(async () => {
    pgServer = await startTestPostgres();
    echo = await startUpstream({ record: true });
    vault = await startVaultStandIn({ tokens: [C.vaultToken] });
    vault.setSecret('zendesk', { token: C.external });
    dataDir = await mkdtemp(path.join(tmpdir(), 'flowsafe-pgleak-'));
  }, 60_000);

  afterAll(async () => {
    await Promise.all(procs.map((p) => p.stop(5000)));
    await echo?.close();
    await vault?.close();
    for (const s of servers) {
      s.closeAllConnections();
      s.close();
    }
    await pgServer?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('invariant 1: the database dump holds no secret value in any encoding after the leak scenario (external secrets included)', async () => {
    const listen = async (handler: Parameters<typeof createServer>[1]): Promise<string> => {
      const s = createServer(handler);
      servers.push(s);
      await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
      return `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
    };
    const oauth = await listen((_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ access_token: C.access, token_type: 'bearer', expires_in: 3600 }));
    });
    const failing = await listen((req, res) => {
      res.statusCode = 500;
      res.end(`exploded; you sent ${String(req.headers.authorization)} ${String(req.headers['x-token'])}`);
    });

    const token = newToken();
    const env = baseEnv({
      FLOWSAFE_DATABASE_URL: pgServer.url,
      FLOWSAFE_MASTER_KEY: newMasterKey(),
      FLOWSAFE_DATA_DIR: dataDir,
      FLOWSAFE_BOOTSTRAP_TOKEN: token,
      FLOWSAFE_EGRESS_ALLOW: '127.0.0.1',
      LOG_LEVEL: 'trace',
    });
    const api = await startApi(env);
    procs.push(api.proc);
    const worker = await startWorker(env, 4);
    procs.push(worker);
    const call = client(api.url, token);
    const responses: string[] = [];
    const logged = async (method: string, p: string, body?: unknown) => {
      const r = await call(method, p, body);
      responses.push(JSON.stringify(r.body));
      return r;
    };

    const ws = (await logged('GET', '/api/me')).body.workspaces[0].id as string;
    const p = (await logged('POST', `/api/workspaces/${ws}/projects`, { name: 'PgLeaky' })).body.id as string;
    const hosts = ['127.0.0.1'];
    const secrets = canarySecrets(C, `${oauth}/token`, hosts);
    for (const s of secrets) {
      const r = await logged('POST', `/api/projects/${p}/secrets`, { visibility: 'masked', ...s });
      expect(r.status, JSON.stringify(r.body)).toBe(201);
    }
    const store = await logged('POST', `/api/workspaces/${ws}/secret-stores`, {
      name: 'vault-prod',
      type: 'vault',
      config: { address: vault.url, mount: 'secret', auth: { method: 'token', token: C.vaultToken } },
    });
    expect(store.status, JSON.stringify(store.body)).toBe(201);
    const external = await logged('POST', `/api/projects/${p}/secrets`, {
      name: 'EXT',
      type: 'text',
      source: { store: 'vault-prod', ref: 'zendesk#token' },
      allowedHosts: hosts,
    });
    expect(external.status, JSON.stringify(external.body)).toBe(201);
    const apiBlock = (config: Record<string, unknown>) => ({
      start: 'call',
      blocks: [{ id: 'call', type: 'api', config: { saveAs: 'echo', ...config } }],
    });
    const flows: Record<string, unknown> = {
      echo: apiBlock({
        method: 'POST',
        url: `${echo.url}/echo?q=<secret:TEXT>&m=<secret:MULTI>&who={{who}}`,
        headers: {
          'X-Token': '<secret:TEXT>',
          'X-Bin': '<secret:BIN>',
          'X-User': '<secret:BASIC.username>',
          'X-External': '<secret:EXT>',
        },
        body: { type: 'json', content: { t: '<secret:TEXT>', p: '<secret:BASIC.password>' } },
        auth: { type: 'basic', secret: 'BASIC' },
      }),
      oauth: apiBlock({
        method: 'GET',
        url: `${echo.url}/oauth?id=<secret:OAUTH.clientId>`,
        auth: { type: 'oauth2', secret: 'OAUTH' },
      }),
      error: apiBlock({
        method: 'POST',
        url: `${failing}/fail`,
        headers: { 'X-Token': '<secret:TEXT>' },
        auth: { type: 'bearer', secret: 'TEXT' },
      }),
    };
    const ids: Record<string, string> = {};
    for (const [name, definition] of Object.entries(flows)) {
      const r = await logged('POST', `/api/projects/${p}/flows`, { name, definition });
      expect(r.status, JSON.stringify(r.body)).toBe(201);
      ids[name] = r.body.id;
    }
    const records: unknown[] = [];
    for (const [name, id] of Object.entries(ids)) {
      for (const environment of ['development', 'production']) {
        // the input carries a canary too: the stored input passes the project's redactor
        const r = await logged('POST', `/api/projects/${p}/flows/${id}/runs`, {
          environment,
          input: { who: name, pasted: C.text },
          waitMs: 20_000,
        });
        expect(r.status, JSON.stringify(r.body)).toBe(200);
        records.push(r.body);
        if (name !== 'error') expect(r.body.status, JSON.stringify(r.body)).toBe('succeeded');
      }
    }
    for (const v of [C.text, C.textProd, C.access, C.user, C.external]) expect(echo.received()).toContain(v);
    expect(vault.counts.read).toBeGreaterThan(0);
    expect(JSON.stringify(records)).toContain('[REDACTED:TEXT]');
    await logged('GET', `/api/projects/${p}/runs?limit=100`);
    await logged('GET', `/api/projects/${p}/audit?limit=100`);
    expect((await logged('GET', `/api/projects/${p}/export`)).status).toBe(200);
    const cliExport = await runFlowsafe(['export', p], env);
    expect(cliExport.code, cliExport.stderr).toBe(0);

    expect(await worker.stop()).toBe(0);
    expect(await api.proc.stop()).toBe(0);
    const dump = await dumpDatabase(pgServer.url);
    console.log(`database dump: ${dump.how}, ${dump.text.length} characters`);
    expect(dump.text).toContain('secret.use'); // the dump holds the audit trail: it is a real dump
    expect(dump.text).toContain('[REDACTED:TEXT]');

    const found = [
      ...leaks(dump.text).map((l) => `database: ${l}`),
      ...leaks(api.proc.output()).map((l) => `api output: ${l}`),
      ...leaks(worker.output()).map((l) => `worker output: ${l}`),
      ...leaks(cliExport.stdout + cliExport.stderr).map((l) => `cli export: ${l}`),
      ...responses.flatMap((r) => leaks(r).map((l) => `response: ${l}`)),
    ];
    expect(found).toEqual([]);
  }, 120_000);
});
