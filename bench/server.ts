// Server overhead: POST /api/projects/:p/flows/:f/runs for a one-API-block flow (a text secret
// in a header) against a local keep-alive upstream, versus an express handler in the same
// process (its own top-level express app, as the product's app is deployed) that makes the same
// upstream call with raw undici. Both at concurrency 16 over >= 3,000 requests each, after a
// warm-up, in alternating rounds so machine drift hits both; rates and the ratio are medians
// over the rounds. Run records and audit events go to a real lowdb store in a temp dir; request
// logs are written (by pino to /dev/null, as to stdout in production). Last line: one JSON object.
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
// express and its types live in apps/server (the root package does not depend on them)
import type expressTypes from '../apps/server/node_modules/@types/express';
import { Agent, request } from '../apps/server/node_modules/undici/index.js';
import { bufferedDestination, Redactor } from '@flowsafe/redact';
import { MasterKey } from '@flowsafe/secrets';
import { bootstrap, createApp, createServerLogger, createServices } from '@flowsafe/server';

// the server's own express and pino, resolved from @flowsafe/server
const serverRequire = createRequire(import.meta.resolve('@flowsafe/server'));
const express = serverRequire('express') as typeof expressTypes;
const CONCURRENCY = 16;
const TOTAL = Number(process.env.BENCH_SERVER_TOTAL ?? 3000);
const ROUNDS = 6;
const WARMUP = 300;
const TOKEN = 'fs_bench_owner_token_0123456789abcdef';

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

function listen(server: Server): Promise<string> {
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`),
    ),
  );
}

async function main(): Promise<void> {
  const upstream = createServer((_req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end('{"ok":true,"id":42}');
  });
  const upstreamUrl = await listen(upstream);

  const dataDir = await mkdtemp(join(tmpdir(), 'flowsafe-bench-server-'));
  const { store, keyRing } = await bootstrap({
    dataDir,
    masterKey: MasterKey.generate().toBase64(),
    bootstrapToken: TOKEN,
  });
  const global = new Redactor();
  // request logs go the way `flowsafe start` sends them to stdout (the logger's default buffered
  // destination: sonic-boom, 4 KiB chunks), here to /dev/null
  const sink = bufferedDestination('/dev/null');
  const logger = createServerLogger(global, { level: 'info', destination: sink });
  const services = await createServices({
    store,
    keyRing,
    logger,
    global,
    egressAllow: '127.0.0.1',
    concurrency: CONCURRENCY,
  });

  const upstreamAgent = new Agent({ keepAliveTimeout: 10_000, connections: CONCURRENCY * 2 });
  const front = express();
  front.post('/raw', async (_req, res) => {
    const r = await request(`${upstreamUrl}/v1/things`, {
      method: 'GET',
      headers: { 'x-api-key': 'bench-secret-value-1234' },
      dispatcher: upstreamAgent,
    });
    const body = await r.body.json();
    res.json({ status: r.statusCode, body });
  });
  // Each side gets its own express app at the top, as in production (`flowsafe start` serves
  // createApp's app directly): mounting the product's app inside the baseline's would charge
  // the runs a second express dispatch that no deployment has.
  const app = createApp(services.ctx);
  const server = createServer((req, res) => (req.url === '/raw' ? front(req, res) : app(req, res)));
  const base = await listen(server);

  const client = new Agent({ keepAliveTimeout: 10_000, connections: CONCURRENCY * 2 });
  const call = async (method: string, path: string, body?: unknown) => {
    const r = await request(`${base}${path}`, {
      method: method as 'GET',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      dispatcher: client,
    });
    const text = await r.body.text();
    return { status: r.statusCode, body: text ? JSON.parse(text) : undefined };
  };

  const me = await call('GET', '/api/me');
  const ws = me.body.workspaces[0].id as string;
  const p = (await call('POST', `/api/workspaces/${ws}/projects`, { name: 'bench' })).body.id as string;
  await call('POST', `/api/projects/${p}/secrets`, {
    name: 'API_KEY',
    type: 'text',
    value: 'bench-secret-value-1234',
    allowedHosts: ['127.0.0.1'],
  });
  const flow = await call('POST', `/api/projects/${p}/flows`, {
    name: 'one call',
    definition: {
      start: 'call',
      blocks: [
        {
          id: 'call',
          type: 'api',
          config: {
            method: 'GET',
            url: `${upstreamUrl}/v1/things`,
            headers: { 'X-Api-Key': '<secret:API_KEY>' },
            saveAs: 'r',
          },
        },
      ],
    },
  });
  const runPath = `/api/projects/${p}/flows/${flow.body.id}/runs`;

  const runOnce = async (): Promise<number> => {
    const t = performance.now();
    const r = await call('POST', runPath, { environment: 'production' });
    if (r.status !== 200 || r.body.status !== 'succeeded')
      throw new Error(`run failed: ${r.status} ${JSON.stringify(r.body).slice(0, 300)}`);
    return performance.now() - t;
  };
  const rawOnce = async (): Promise<number> => {
    const t = performance.now();
    const r = await call('POST', '/raw', {});
    if (r.status !== 200) throw new Error(`raw failed: ${r.status}`);
    return performance.now() - t;
  };

  /** `n` calls at CONCURRENCY; returns elapsed ms and each latency */
  const drive = async (n: number, once: () => Promise<number>) => {
    let next = 0;
    const latencies: number[] = [];
    const start = performance.now();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < n) {
          next++;
          latencies.push(await once());
        }
      }),
    );
    return { ms: performance.now() - start, latencies };
  };

  await drive(WARMUP, runOnce);
  await drive(WARMUP, rawOnce);

  // Alternating rounds, each a raw phase then a run phase: the ratio of a round compares two
  // phases a second apart, and the median over rounds discards rounds that other processes on
  // the machine disturbed.
  const per = Math.ceil(TOTAL / ROUNDS);
  const runRates: number[] = [];
  const rawRates: number[] = [];
  const ratios: number[] = [];
  const runLat: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const raw = await drive(per, rawOnce);
    const run = await drive(per, runOnce);
    const runRate = per / (run.ms / 1000);
    const rawRate = per / (raw.ms / 1000);
    runRates.push(runRate);
    rawRates.push(rawRate);
    ratios.push(runRate / rawRate);
    runLat.push(...run.latencies);
  }
  const n = per * ROUNDS;
  const result = {
    bench: 'server',
    runs: n,
    concurrency: CONCURRENCY,
    runRps: Math.round(median(runRates)),
    rawRps: Math.round(median(rawRates)),
    rpsRatio: Math.round(median(ratios) * 1000) / 1000,
    runP50Ms: Math.round(median(runLat) * 100) / 100,
  };

  await client.close();
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await services.close(5_000);
  await store.close();
  await upstreamAgent.close();
  upstream.closeAllConnections();
  await new Promise<void>((resolve) => upstream.close(() => resolve()));
  await rm(dataDir, { recursive: true, force: true });
  console.log(JSON.stringify(result));
}

await main();
