// Scale-out throughput (issue 16): runs per second of a one-API-block flow (a text secret in
// a header) through POST /api/projects/:p/flows/:f/runs at concurrency 32 against a local
// keep-alive upstream, each POST waiting for its run to finish, measured on real `flowsafe`
// processes (apps/server/dist/cli.js; built first if missing): the embedded mode (one
// `flowsafe start`), and PostgreSQL mode with one API process and one, then two,
// `flowsafe worker` processes. Same run, same machine, after a warm-up each.
// pickupP50Ms: median of startedAt - queuedAt over the PostgreSQL runs with two workers
// (queuedAt is taken by the API before it stores and enqueues the run, startedAt by the
// worker's runner as the run begins). lost: PostgreSQL runs that did not end succeeded.
// Last line: one JSON object.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startTestPostgres } from '../test/utils/postgres';
import {
  baseEnv,
  CLI,
  client,
  newMasterKey,
  newToken,
  ROOT,
  startApi,
  startUpstream,
  startWorker,
  type Proc,
} from '../test/e2e/postgres-cluster';

const CONCURRENCY = 32;
const TOTAL = Number(process.env.BENCH_SCALE_TOTAL ?? 3000);
const WARMUP = 300;
const WORKER_CONCURRENCY = Number(process.env.BENCH_SCALE_WORKER_CONCURRENCY ?? 16);

interface Phase {
  rps: number;
  pickups: number[];
  notSucceeded: number;
}

async function setUp(url: string, token: string, upstream: string) {
  const call = client(url, token);
  const ws = (await call('GET', '/api/me')).body.workspaces[0].id as string;
  const p = (await call('POST', `/api/workspaces/${ws}/projects`, { name: 'Bench' })).body.id as string;
  await call('POST', `/api/projects/${p}/secrets`, {
    name: 'KEY',
    type: 'text',
    visibility: 'masked',
    value: 'bench-secret-value-0123456789',
    allowedHosts: ['127.0.0.1'],
  });
  const flow = await call('POST', `/api/projects/${p}/flows`, {
    name: 'one-call',
    definition: {
      start: 'call',
      blocks: [
        {
          id: 'call',
          type: 'api',
          config: {
            method: 'GET',
            url: `${upstream}/hit?n={{n}}`,
            headers: { 'X-Key': '<secret:KEY>' },
            saveAs: 'r',
          },
        },
      ],
    },
  });
  if (flow.status !== 201) throw new Error(`flow not created: ${JSON.stringify(flow.body)}`);
  return { call, path: `/api/projects/${p}/flows/${flow.body.id}/runs` };
}

async function drive(call: ReturnType<typeof client>, runsPath: string, total: number): Promise<Phase> {
  let next = 0;
  let notSucceeded = 0;
  const pickups: number[] = [];
  const one = async (): Promise<void> => {
    while (next < total) {
      const n = next++;
      const r = await call('POST', runsPath, { environment: 'development', input: { n: String(n) } });
      const rec = r.body as { status?: string; queuedAt?: string; startedAt?: string };
      if (r.status !== 200 || rec.status !== 'succeeded') notSucceeded++;
      if (rec.queuedAt && rec.startedAt) pickups.push(Date.parse(rec.startedAt) - Date.parse(rec.queuedAt));
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: CONCURRENCY }, one));
  const s = (performance.now() - t0) / 1000;
  return { rps: total / s, pickups, notSucceeded };
}

async function measure(url: string, token: string, upstream: string): Promise<Phase> {
  const { call, path: runsPath } = await setUp(url, token, upstream);
  await drive(call, runsPath, WARMUP);
  return drive(call, runsPath, TOTAL);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length === 0 ? NaN : (sorted[Math.floor(sorted.length / 2)] ?? NaN);
}

const round = (v: number, d = 1) => Math.round(v * 10 ** d) / 10 ** d;

async function main(): Promise<void> {
  if (!existsSync(CLI))
    execFileSync('pnpm', ['--filter', '@flowsafe/server', 'run', 'build'], { cwd: ROOT, stdio: 'inherit' });
  const upstream = await startUpstream();
  const procs: Proc[] = [];
  const dirs: string[] = [];
  const pgServer = await startTestPostgres();
  try {
    // embedded
    const token = newToken();
    const embeddedDir = await mkdtemp(path.join(tmpdir(), 'flowsafe-bench-scale-'));
    dirs.push(embeddedDir);
    const embEnv = baseEnv({
      FLOWSAFE_DATA_DIR: embeddedDir,
      FLOWSAFE_BOOTSTRAP_TOKEN: token,
      FLOWSAFE_EGRESS_ALLOW: '127.0.0.1',
      LOG_LEVEL: 'warn',
    });
    const emb = await startApi(embEnv);
    procs.push(emb.proc);
    const embedded = await measure(emb.url, token, upstream.url);
    await emb.proc.stop();
    console.log(`embedded: ${round(embedded.rps)} runs/s`);

    // PostgreSQL: one API process, then one and two workers
    const pgPhase = async (workers: number): Promise<Phase> => {
      const dir = await mkdtemp(path.join(tmpdir(), 'flowsafe-bench-scale-pg-'));
      dirs.push(dir);
      const t = newToken();
      const env = baseEnv({
        FLOWSAFE_DATABASE_URL: await pgServer.createDatabase(),
        FLOWSAFE_MASTER_KEY: newMasterKey(),
        FLOWSAFE_DATA_DIR: dir,
        FLOWSAFE_BOOTSTRAP_TOKEN: t,
        FLOWSAFE_EGRESS_ALLOW: '127.0.0.1',
        LOG_LEVEL: 'warn',
      });
      const api = await startApi(env);
      const ws = await Promise.all(
        Array.from({ length: workers }, () => startWorker(env, WORKER_CONCURRENCY)),
      );
      procs.push(api.proc, ...ws);
      try {
        return await measure(api.url, t, upstream.url);
      } finally {
        await Promise.all(ws.map((w) => w.stop()));
        await api.proc.stop();
      }
    };
    const pg1 = await pgPhase(1);
    console.log(`postgres, 1 worker: ${round(pg1.rps)} runs/s, pickup p50 ${round(median(pg1.pickups))} ms`);
    const pg2 = await pgPhase(2);
    console.log(`postgres, 2 workers: ${round(pg2.rps)} runs/s, pickup p50 ${round(median(pg2.pickups))} ms`);
    console.log(
      JSON.stringify({
        bench: 'scale',
        embeddedRps: round(embedded.rps),
        pgRps1: round(pg1.rps),
        pgRps2: round(pg2.rps),
        pgRatio: round(pg2.rps / embedded.rps, 3),
        pickupP50Ms: round(median(pg2.pickups)),
        lost: pg1.notSucceeded + pg2.notSucceeded,
      }),
    );
  } finally {
    await Promise.all(procs.map((p) => p.stop(5000)));
    await upstream.close();
    await pgServer.stop();
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  }
}

await main();
