// The end-to-end leak test (issue 14): canary secrets of every type, used by flows against
// local echo, redirect, error and OAuth2 token servers through a real `flowsafe start` child
// process. Afterwards no canary, in any encoding, may appear in any API response body (except
// the one authorised reveal), in the server's stdout/stderr, in any file under the data dir,
// in the export bundle or in run records.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canarySecrets, leakFinder, makeCanaries } from '../utils/canaries';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CLI = path.join(ROOT, 'apps/server/src/cli.ts');

const C = makeCanaries('leak');
const leaks = leakFinder(C);

async function listen(
  handler: (req: IncomingMessage, res: ServerResponse, body: string) => void,
): Promise<{ server: Server; base: string }> {
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => handler(req, res, body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

describe('end-to-end leak test', () => {
  const token = `fs_leak_${randomBytes(16).toString('hex')}`;
  let dataDir: string;
  let child: ChildProcess;
  let output = '';
  let api: string;
  const servers: Server[] = [];
  const bodies: Array<{ where: string; text: string }> = [];
  let echo: string, redirect: string, failing: string, oauth: string;
  /** what the upstreams received (they are meant to see the values) */
  let received = '';

  async function call(
    method: string,
    url: string,
    body?: unknown,
    opts: { authorisedReveal?: boolean } = {},
  ) {
    const r = await fetch(`${api}${url}`, {
      method,
      headers: {
        Authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await r.text();
    if (!opts.authorisedReveal) bodies.push({ where: `${method} ${url}`, text });
    return { status: r.status, body: text ? (JSON.parse(text) as any) : undefined };
  }

  beforeAll(async () => {
    const e = await listen((req, res, body) => {
      received += JSON.stringify(req.headers) + req.url + body;
      res.setHeader('content-type', 'application/json');
      res.setHeader('x-echo-auth', String(req.headers.authorization ?? ''));
      res.setHeader('x-echo-token', String(req.headers['x-token'] ?? ''));
      res.end(JSON.stringify({ url: req.url, headers: req.headers, body }));
    });
    const r = await listen((req, res) => {
      res.statusCode = 302;
      res.setHeader('location', `${e.base}/after-redirect?from=${encodeURIComponent(req.url ?? '')}`);
      res.end();
    });
    const f = await listen((req, res, body) => {
      if (req.url?.startsWith('/reset')) {
        req.socket.destroy();
        return;
      }
      res.statusCode = 500;
      res.setHeader('content-type', 'text/plain');
      res.end(
        `upstream exploded; you sent ${String(req.headers.authorization)} and ${String(req.headers['x-token'])} and ${body}`,
      );
    });
    const o = await listen((_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ access_token: C.access, token_type: 'bearer', expires_in: 3600 }));
    });
    servers.push(e.server, r.server, f.server, o.server);
    [echo, redirect, failing, oauth] = [e.base, r.base, f.base, o.base];

    dataDir = await mkdtemp(path.join(tmpdir(), 'flowsafe-leak-'));
    child = spawn(process.execPath, ['--no-node-snapshot', '--import', 'tsx', CLI, 'start'], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? tmpdir(),
        PORT: '0',
        FLOWSAFE_DATA_DIR: dataDir,
        FLOWSAFE_BOOTSTRAP_TOKEN: token,
        FLOWSAFE_EGRESS_ALLOW: '127.0.0.1',
        LOG_LEVEL: 'trace',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
    const deadline = Date.now() + 30_000;
    while (!/listening on (http:\/\/\S+)/.test(output)) {
      if (Date.now() > deadline || child.exitCode !== null)
        throw new Error(`server did not start:\n${output}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    api = /listening on (http:\/\/\S+)/.exec(output)![1]!;
  });

  afterAll(async () => {
    if (child && child.exitCode === null) {
      child.kill('SIGKILL');
    }
    for (const s of servers) {
      s.closeAllConnections();
      s.close();
    }
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('no canary in responses, logs, files, bundles or run records', async () => {
    const me = await call('GET', '/api/me');
    const ws = me.body.workspaces[0].id as string;
    const p = (await call('POST', `/api/workspaces/${ws}/projects`, { name: 'Leaky' })).body.id as string;
    const hosts = ['127.0.0.1'];
    const secrets = canarySecrets(C, `${oauth}/token`, hosts);
    for (const s of secrets)
      expect((await call('POST', `/api/projects/${p}/secrets`, { visibility: 'masked', ...s })).status).toBe(
        201,
      );
    await call('PUT', `/api/projects/${p}/settings/REGION`, { value: 'eu' });

    const api = (id: string, config: Record<string, unknown>, next?: string) => ({
      id,
      type: 'api',
      ...(next ? { next } : {}),
      config,
    });
    const flows: Record<string, unknown> = {
      echo: {
        start: 'call',
        blocks: [
          api(
            'call',
            {
              method: 'POST',
              url: `${echo}/echo/{{settings.REGION}}?q=<secret:TEXT>&m=<secret:MULTI>`,
              headers: {
                'X-Token': '<secret:TEXT>',
                'X-Bin': '<secret:BIN>',
                'X-User': '<secret:BASIC.username>',
              },
              body: {
                type: 'json',
                content: { t: '<secret:TEXT>', m: '<secret:MULTI>', p: '<secret:BASIC.password>' },
              },
              auth: { type: 'basic', secret: 'BASIC' },
              saveAs: 'echo',
            },
            'shape',
          ),
          {
            id: 'shape',
            type: 'function',
            config: { code: 'return { seen: input.echo, all: JSON.stringify(input) };' },
          },
        ],
      },
      oauth: {
        start: 'call',
        blocks: [
          api('call', {
            method: 'GET',
            url: `${echo}/oauth?id=<secret:OAUTH.clientId>`,
            auth: { type: 'oauth2', secret: 'OAUTH' },
            saveAs: 'echo',
          }),
        ],
      },
      redirect: {
        start: 'call',
        blocks: [
          api('call', {
            method: 'GET',
            url: `${redirect}/go?t=<secret:TEXT>`,
            headers: { 'X-Token': '<secret:TEXT>' },
            auth: { type: 'bearer', secret: 'TEXT' },
            saveAs: 'echo',
          }),
        ],
      },
      error: {
        start: 'call',
        blocks: [
          api('call', {
            method: 'POST',
            url: `${failing}/fail`,
            headers: { 'X-Token': '<secret:TEXT>' },
            auth: { type: 'bearer', secret: 'TEXT' },
            body: { type: 'json', content: { t: '<secret:TEXT>' } },
            saveAs: 'echo',
          }),
        ],
      },
      reset: {
        start: 'call',
        blocks: [
          api('call', {
            method: 'GET',
            url: `${failing}/reset?t=<secret:TEXT>`,
            headers: { 'X-Token': '<secret:TEXT>' },
          }),
        ],
      },
      egress: {
        start: 'call',
        blocks: [api('call', { method: 'GET', url: `http://10.255.255.1/x?t=<secret:TEXT>` })],
      },
    };
    const ids: Record<string, string> = {};
    for (const [name, definition] of Object.entries(flows)) {
      const r = await call('POST', `/api/projects/${p}/flows`, { name, definition });
      expect(r.status, JSON.stringify(r.body)).toBe(201);
      ids[name] = r.body.id;
    }
    const records: unknown[] = [];
    for (const [name, id] of Object.entries(ids)) {
      for (const environment of ['development', 'production']) {
        const r = await call('POST', `/api/projects/${p}/flows/${id}/runs`, {
          environment,
          input: { who: name },
          waitMs: 20_000,
        });
        expect(r.status, `${name} ${environment}`).toBe(200);
        records.push(r.body);
        if (name === 'echo' || name === 'oauth')
          expect(r.body.status, JSON.stringify(r.body)).toBe('succeeded');
        if (name === 'reset' || name === 'egress') expect(r.body.status).toBe('failed');
      }
    }
    // The upstream really received the values (the test would prove nothing otherwise)…
    for (const v of [C.text, C.textProd, C.access, C.user]) expect(received).toContain(v);
    const echoed = JSON.stringify(records);
    expect(echoed).toContain('[REDACTED:TEXT]');
    expect(echoed).toContain('[REDACTED:BASIC]');
    expect(echoed).toContain('[REDACTED:OAUTH]');
    // …and the pasted value itself is refused.
    expect(
      (
        await call('POST', `/api/projects/${p}/flows`, {
          name: 'paste',
          definition: { start: 'a', blocks: [api('a', { method: 'GET', url: `${echo}/?t=${C.text}` })] },
        })
      ).status,
    ).toBe(422);
    expect(
      (
        await call('PUT', `/api/projects/${p}/settings/PASTED`, {
          value: Buffer.from(C.pass).toString('base64'),
        })
      ).status,
    ).toBe(422);
    // Reads of everything.
    await call('GET', `/api/projects/${p}/runs?limit=100`);
    for (const id of Object.values(ids)) await call('GET', `/api/projects/${p}/flows/${id}/runs?limit=100`);
    for (const r of records as Array<{ id: string }>) await call('GET', `/api/projects/${p}/runs/${r.id}`);
    await call('GET', `/api/projects/${p}/secrets`);
    for (const s of secrets) {
      await call('GET', `/api/projects/${p}/secrets/${s.name}`);
      await call('GET', `/api/projects/${p}/secrets/${s.name}/usages`);
    }
    await call('GET', `/api/projects/${p}/settings`);
    await call('GET', `/api/projects/${p}/audit?limit=100`);
    await call('GET', `/api/projects/${p}/flows`);
    // Errors that could echo input.
    await call('POST', `/api/projects/${p}/secrets`, { name: 'TEXT', type: 'text', value: C.text });
    await call('PATCH', `/api/projects/${p}/secrets/TEXT`, { value: C.text, bogus: C.text });
    await call('POST', `/api/projects/${p}/secrets`, {
      name: C.text.replace(/-/g, '_'),
      type: 'nope',
      value: C.text,
    });
    await call('POST', `/api/projects/${p}/secrets/BASIC/reveal`, { environment: C.text });
    // Export, import, duplicate.
    const bundle = await call('GET', `/api/projects/${p}/export`);
    expect(bundle.status).toBe(200);
    const imported = await call('POST', `/api/workspaces/${ws}/projects/import`, bundle.body);
    expect(imported.status).toBe(201);
    const importedFlows = (await call('GET', `/api/projects/${imported.body.id}/flows`)).body.items as Array<{
      id: string;
      name: string;
    }>;
    const missingRun = await call(
      'POST',
      `/api/projects/${imported.body.id}/flows/${importedFlows.find((f) => f.name === 'echo')!.id}/runs`,
      { environment: 'production' },
    );
    expect(missingRun.body.status).toBe('failed');
    expect(JSON.stringify(missingRun.body)).toMatch(/secret \w+ has no value for environment production/);
    const dup = await call('POST', `/api/projects/${p}/duplicate`, { name: 'Dup' });
    expect(dup.status).toBe(201);
    await call('GET', `/api/projects/${dup.body.id}/secrets`);
    // The one authorised reveal returns the value, and is the only place it appears.
    const reveal = await call(
      'POST',
      `/api/projects/${p}/secrets/TEXT/reveal`,
      { environment: 'production' },
      { authorisedReveal: true },
    );
    expect(reveal.body.value).toBe(C.textProd);

    // Shut down cleanly, so every file is flushed and every log line written.
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));

    const found: string[] = [];
    for (const b of bodies) for (const l of leaks(b.text)) found.push(`response ${b.where}: ${l}`);
    for (const l of leaks(output)) found.push(`server output: ${l}`);
    const walk = async (dir: string): Promise<string[]> => {
      const entries = await readdir(dir, { withFileTypes: true });
      const nested = await Promise.all(
        entries.map((e) => (e.isDirectory() ? walk(path.join(dir, e.name)) : [path.join(dir, e.name)])),
      );
      return nested.flat();
    };
    const files = await walk(dataDir);
    expect(files.length).toBeGreaterThan(3);
    for (const f of files)
      for (const l of leaks(await readFile(f, 'latin1')))
        found.push(`file ${path.relative(dataDir, f)}: ${l}`);
    expect(output.length).toBeGreaterThan(1000);
    expect(found).toEqual([]);
  }, 120_000);
});
