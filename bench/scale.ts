// Scale-out throughput (issue 16): runs per second of a one-API-block flow (a text secret in
// a header) through POST /api/projects/:p/flows/:f/runs at concurrency 32 against a local
// keep-alive upstream, each POST waiting for its run to finish, measured on real `flowsafe`
// processes (apps/server/dist/cli.js, built first): the embedded mode (one
// `flowsafe start`), and PostgreSQL mode with one API process and one, then two,
// `flowsafe worker` processes. Same run, same machine, after a warm-up each.
// pickupP50Ms: median time from enqueue to a worker starting the run, on an otherwise idle
// queue (two workers, one run at a time, after the throughput phase): startedAt - queuedAt,
// where queuedAt is taken by the API just before its one round trip that stores and enqueues
// the run, and startedAt by the worker's runner as the run begins, so it is an upper bound.
// The idle phase also prints the p90 and the longest pickup, and how long its runs took.
// pickupLoadedP50Ms: the same median over the concurrency-32 phase with two workers (includes
// the wait behind other runs: at 32 runs in flight most of a run's life is waiting for a core).
// lost: PostgreSQL runs that did not end succeeded.
// graphileRps2: the baseline of the PostgreSQL phases on the same server — Graphile Worker
// alone, two worker processes with a task that only notifies, 32 clients adding jobs and waiting
// for them (graphilePhase); pgVsGraphile = pgRps2 / graphileRps2.
// floorRps2: the floor of the PostgreSQL mode on the same server, upstream and callers — an API
// process and two workers (bench/pg-baselines.mjs) that do only what any run queue on Graphile Worker
// does for a waited-for one-API-block run: store the queued run with its job (one statement),
// read its input, flow and two sealed values (one), open them with node:crypto, call the
// upstream with undici, store and notify the final record (one), answer. No authentication,
// validation, lease, audit, runner, redaction or logging (floorPhase). floorRatio = floorRps2 /
// embeddedRps: the pgRatio that implementation would score; pgVsFloor = pgRps2 / floorRps2.
// BENCH_SCALE_COUNT_QUERIES=1 also prints the statements per run each process sent (see
// bench/scale-query-counter.mjs). BENCH_SCALE_PHASES=pg2 (comma list of embedded, pg1, pg2, graphile, floor)
// runs only some phases, for profiling. Last line: one JSON object.
import { execFileSync, spawn } from 'node:child_process';
import { createCipheriv, createSecretKey, randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import path from 'node:path';
import { runMigrations } from 'graphile-worker';
import pg from 'pg';
import { startTestPostgres } from '../test/utils/postgres';
import {
  baseEnv,
  CLI,
  client,
  newMasterKey,
  newToken,
  procOf,
  ROOT,
  startApi,
  startUpstream,
  startWorker,
  type Proc,
  waitForOutput,
} from '../test/e2e/postgres-cluster';

const CONCURRENCY = 32;
const cores = availableParallelism();
const TOTAL = Number(process.env.BENCH_SCALE_TOTAL ?? 3000);
const WARMUP = 300;
const WORKER_CONCURRENCY = Number(process.env.BENCH_SCALE_WORKER_CONCURRENCY ?? 16);
const IDLE_RUNS = 200;
const COUNT_QUERIES = process.env.BENCH_SCALE_COUNT_QUERIES === '1';
const PHASES = new Set((process.env.BENCH_SCALE_PHASES ?? 'embedded,pg1,pg2,graphile,floor').split(','));

interface Phase {
  rps: number;
  seconds?: number;
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

async function drive(
  call: ReturnType<typeof client>,
  runsPath: string,
  total: number,
  concurrency = CONCURRENCY,
): Promise<Phase> {
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
  await Promise.all(Array.from({ length: concurrency }, one));
  const s = (performance.now() - t0) / 1000;
  return { rps: total / s, seconds: s, pickups, notSucceeded };
}

async function measure(
  url: string,
  token: string,
  upstream: string,
  idle = false,
): Promise<Phase & { idle?: Phase }> {
  const { call, path: runsPath } = await setUp(url, token, upstream);
  await drive(call, runsPath, WARMUP);
  const loaded = await drive(call, runsPath, TOTAL);
  if (!idle) return loaded;
  return { ...loaded, idle: await drive(call, runsPath, IDLE_RUNS, 1) };
}

/** CPU seconds (user + system) a process has used so far, from /proc. */
function cpuSeconds(pid: number | undefined): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return NaN;
  }
}

/** CPU seconds the whole machine spent busy (all cores), from /proc/stat. */
function machineBusySeconds(): number {
  const [cpu] = readFileSync('/proc/stat', 'utf8').split('\n');
  const f = (cpu ?? '').trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal
  return ((f[0] ?? 0) + (f[1] ?? 0) + (f[2] ?? 0) + (f[5] ?? 0) + (f[6] ?? 0) + (f[7] ?? 0)) / 100;
}

/** CPU seconds of the PostgreSQL server: the postmaster, its live children and its reaped ones. */
async function pgServerCpuSeconds(adminUrl: string): Promise<number> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  let dataDir: string;
  try {
    dataDir = (await client.query<{ d: string }>('SELECT current_setting($1) AS d', ['data_directory']))
      .rows[0]!.d;
  } finally {
    await client.end();
  }
  const postmaster = Number(readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  let total = 0;
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const pid = Number(entry);
      if (pid === postmaster) total += Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
      else if (Number(f[1]) === postmaster) total += Number(f[11]) + Number(f[12]);
    } catch {
      // gone meanwhile
    }
  }
  return total / 100;
}

/** Statements per run, per role, from the counter files of one phase. */
async function queriesPerRun(dir: string, runs: number): Promise<Record<string, unknown>> {
  const perRole: Record<string, Record<string, number>> = {};
  for (const file of await readdir(dir)) {
    const { role, counts } = JSON.parse(await readFile(path.join(dir, file), 'utf8')) as {
      role: string;
      counts: Record<string, number>;
    };
    const into = (perRole[role] ??= {});
    for (const [sql, n] of Object.entries(counts)) into[sql] = (into[sql] ?? 0) + n;
  }
  const out: Record<string, unknown> = {};
  let total = 0;
  for (const [role, counts] of Object.entries(perRole)) {
    const sum = Object.values(counts).reduce((a, b) => a + b, 0);
    total += sum;
    out[role] = {
      perRun: round(sum / runs, 2),
      top: Object.fromEntries(
        Object.entries(counts)
          .filter(([, n]) => n / runs >= 0.05)
          .map(([sql, n]) => [sql, round(n / runs, 2)]),
      ),
    };
  }
  out.totalPerRun = round(total / runs, 2);
  return out;
}

function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length === 0
    ? NaN
    : (sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))] ?? NaN);
}

function median(values: number[]): number {
  return quantile(values, 0.5);
}

const round = (v: number, d = 1) => Math.round(v * 10 ** d) / 10 ** d;

/** A process of bench/pg-baselines.mjs in `role`, started and ready (`ready` or `listening <port>`). */
async function startBaseline(
  role: string,
  databaseUrl: string,
  extra: Record<string, string> = {},
): Promise<{ proc: Proc; ready: RegExpExecArray }> {
  const proc = procOf(
    spawn(process.execPath, [path.join(ROOT, 'bench/pg-baselines.mjs')], {
      env: baseEnv({ URL: databaseUrl, ROLE: role, CONCURRENCY: String(WORKER_CONCURRENCY), ...extra }),
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
  try {
    return { proc, ready: await waitForOutput(proc, /^(?:ready|listening (\d+))$/m) };
  } catch (err) {
    await proc.stop(5000);
    throw err;
  }
}

/**
 * A baseline's throughput on `kids` (the API first when `api`): `one` done by 32 callers,
 * WARMUP times and then TOTAL times, with the CPU each process, PostgreSQL and this process
 * (client and upstream) used per 1000 during the measured part.
 */
async function measureBaseline(
  databaseUrl: string,
  kids: readonly Proc[],
  api: boolean,
  one: () => Promise<void>,
): Promise<{ rps: number; cpu: string }> {
  const drive = async (total: number): Promise<number> => {
    let left = total;
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (left-- > 0) await one();
      }),
    );
    return total / ((performance.now() - t0) / 1000);
  };
  await drive(WARMUP);
  const cpu0 = kids.map((k) => cpuSeconds(k.child.pid));
  const pgCpu0 = await pgServerCpuSeconds(databaseUrl);
  const benchCpu0 = process.cpuUsage();
  const rps = await drive(TOTAL);
  const per1000 = (seconds: number) => round((seconds * 1000) / TOTAL, 2);
  const benchCpu = process.cpuUsage(benchCpu0);
  const used = kids.map((k, i) => per1000(cpuSeconds(k.child.pid) - cpu0[i]!));
  const cpu =
    (api ? `api ${used[0]}, ` : '') +
    `workers ${used.slice(api ? 1 : 0).join(' + ')}, ` +
    `postgres ${per1000((await pgServerCpuSeconds(databaseUrl)) - pgCpu0)}, ` +
    `bench client${api ? ' + upstream' : ''} ${per1000((benchCpu.user + benchCpu.system) / 1e6)}`;
  return { rps, cpu };
}

/**
 * The baseline of the PostgreSQL phases, on the same server: Graphile Worker alone, two worker
 * processes (bench/pg-baselines.mjs, noop-worker) whose task only notifies that it ran; 32
 * clients each add a job the way flowsafe's API does (`add_job` with a job key,
 * `unsafe_dedupe`) and wait for its notification before adding the next. What a run in
 * PostgreSQL mode costs beyond this is flowsafe's: the HTTP API, the run record, the lease,
 * the run itself, the answer.
 */
async function graphilePhase(databaseUrl: string, workers: number): Promise<{ rps: number; cpu: string }> {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: CONCURRENCY + 2 });
  pool.on('error', () => undefined);
  pool.on('connect', (c) => c.on('error', () => undefined));
  const kids: Proc[] = [];
  const listener = new pg.Client({ connectionString: databaseUrl });
  listener.on('error', () => undefined);
  const waiting = new Map<string, () => void>();
  try {
    await runMigrations({ pgPool: pool });
    await listener.connect();
    listener.on('notification', (n) => {
      const done = waiting.get(n.payload ?? '');
      waiting.delete(n.payload ?? '');
      done?.();
    });
    await listener.query('LISTEN bench_noop_done');
    for (let i = 0; i < workers; i++) kids.push((await startBaseline('noop-worker', databaseUrl)).proc);
    let id = 0;
    return await measureBaseline(databaseUrl, kids, false, async () => {
      const key = `job_${id++}`;
      const done = new Promise<void>((resolve) => waiting.set(key, resolve));
      await pool.query(
        `SELECT revision FROM graphile_worker.add_job('noop', $1::json, max_attempts := 1, job_key := $2, job_key_mode := 'unsafe_dedupe')`,
        [JSON.stringify({ id: key }), key],
      );
      await done;
    });
  } finally {
    await Promise.all(kids.map((kid) => kid.stop(5000)));
    await listener.end().catch(() => undefined);
    await pool.end();
  }
}

/**
 * The floor of the PostgreSQL phases (bench/pg-baselines.mjs, floor-api and floor-worker), on
 * the same server and upstream: an API process and two worker processes that do only what any
 * run queue on Graphile Worker does for a one-API-block run whose caller waits — store the
 * queued run with its job, read the run's input, flow and two sealed values, open them, call
 * the upstream, store and notify the final record, answer — with no authentication,
 * validation, lease, audit, runner, redaction or logging. The same 32 callers (fetch) as the
 * flowsafe phases; a run that does not succeed fails the benchmark.
 */
async function floorPhase(
  databaseUrl: string,
  upstream: string,
  workers: number,
): Promise<{ rps: number; cpu: string }> {
  const dataKey = randomBytes(32);
  const seal = (value: string): Buffer => {
    const iv = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', createSecretKey(dataKey), iv);
    const ct = Buffer.concat([c.update(value), c.final()]);
    return Buffer.concat([iv, c.getAuthTag(), ct]);
  };
  const setup = new pg.Client({ connectionString: databaseUrl });
  await setup.connect();
  const kids: Proc[] = [];
  try {
    await runMigrations({ connectionString: databaseUrl });
    await setup.query(`
      CREATE TABLE floor_flows (id text PRIMARY KEY, definition json NOT NULL);
      CREATE TABLE floor_secrets (flow_id text NOT NULL, name text NOT NULL, sealed bytea NOT NULL,
        PRIMARY KEY (flow_id, name));
      CREATE TABLE floor_runs (id text PRIMARY KEY, flow_id text NOT NULL, status text NOT NULL,
        input json, record json, queued_at timestamptz NOT NULL)`);
    const definition = {
      start: 'call',
      blocks: [{ id: 'call', type: 'api', config: { method: 'GET', url: `${upstream}/hit`, saveAs: 'r' } }],
    };
    await setup.query('INSERT INTO floor_flows VALUES ($1, $2)', ['flow1', JSON.stringify(definition)]);
    for (const name of ['A', 'B'])
      await setup.query('INSERT INTO floor_secrets VALUES ($1, $2, $3)', [
        'flow1',
        name,
        seal(`bench-${name}-0123456789`),
      ]);
    const api = await startBaseline('floor-api', databaseUrl);
    kids.push(api.proc);
    for (let i = 0; i < workers; i++) {
      kids.push(
        (await startBaseline('floor-worker', databaseUrl, { DATA_KEY: dataKey.toString('base64') })).proc,
      );
    }
    const call = client(`http://127.0.0.1:${api.ready[1]}`, 'unused');
    let n = 0;
    let bad = 0;
    const result = await measureBaseline(databaseUrl, kids, true, async () => {
      const r = await call('POST', '/runs', {
        flowId: 'flow1',
        environment: 'development',
        input: { n: String(n++) },
      });
      if (r.status !== 200 || r.body?.status !== 'succeeded') bad++;
    });
    if (bad > 0) throw new Error(`floor: ${bad} runs did not succeed`);
    return result;
  } finally {
    await Promise.all(kids.map((kid) => kid.stop(5000)));
    await setup.end().catch(() => undefined);
  }
}

async function main(): Promise<void> {
  // Always build: a dist/ left from older code would be measured instead of the code at hand.
  execFileSync('pnpm', ['--filter', '@flowsafe/server', 'run', 'build'], { cwd: ROOT, stdio: 'inherit' });
  if (!existsSync(CLI)) throw new Error(`build did not produce ${CLI}`);
  const upstream = await startUpstream();
  const procs: Proc[] = [];
  const dirs: string[] = [];
  const pgServer = await startTestPostgres();
  try {
    // embedded
    let embedded: Phase = { rps: NaN, pickups: [], notSucceeded: 0 };
    if (PHASES.has('embedded')) {
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
      embedded = await measure(emb.url, token, upstream.url);
      await emb.proc.stop();
      console.log(`embedded: ${round(embedded.rps)} runs/s`);
    }

    // PostgreSQL: one API process, then one and two workers
    const none: Phase & { idle?: Phase } = { rps: NaN, pickups: [], notSucceeded: 0 };
    const pgPhase = async (workers: number): Promise<Phase & { idle?: Phase }> => {
      const dir = await mkdtemp(path.join(tmpdir(), 'flowsafe-bench-scale-pg-'));
      dirs.push(dir);
      const countDir = await mkdtemp(path.join(tmpdir(), 'flowsafe-bench-scale-count-'));
      dirs.push(countDir);
      const t = newToken();
      const env = baseEnv({
        // BENCH_SCALE_NODE_OPTIONS: e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof` for the flowsafe processes
        NODE_OPTIONS: [
          process.env.BENCH_SCALE_NODE_OPTIONS ?? '',
          COUNT_QUERIES ? `--import ${path.join(ROOT, 'bench/scale-query-counter.mjs')}` : '',
        ].join(' '),
        BENCH_SCALE_COUNT_DIR: countDir,
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
      const cpu0 = [api.proc, ...ws].map((p) => cpuSeconds(p.child.pid));
      const pgCpu0 = await pgServerCpuSeconds(pgServer.adminUrl);
      const benchCpu0 = process.cpuUsage();
      const busy0 = machineBusySeconds();
      const wall0 = performance.now();
      let result: Phase & { idle?: Phase };
      try {
        result = await measure(api.url, t, upstream.url, workers === 2);
        const cpu = [api.proc, ...ws].map((p, i) => round(cpuSeconds(p.child.pid) - cpu0[i]!, 2));
        const pgCpu = (await pgServerCpuSeconds(pgServer.adminUrl)) - pgCpu0;
        const benchCpu = process.cpuUsage(benchCpu0);
        const wall = (performance.now() - wall0) / 1000;
        const busy = machineBusySeconds() - busy0;
        const ours = cpu.reduce((a, b) => a + b, 0) + pgCpu + (benchCpu.user + benchCpu.system) / 1e6;
        const runs = WARMUP + TOTAL + (result.idle ? IDLE_RUNS : 0);
        const per1000 = (s: number) => round((s * 1000) / runs, 2);
        console.log(
          `postgres, ${workers} worker(s): CPU s per 1000 runs: api ${round((cpu[0]! * 1000) / runs, 2)}, workers ${cpu
            .slice(1)
            .map((c) => round((c * 1000) / runs, 2))
            .join(
              ' + ',
            )}, postgres ${per1000(pgCpu)}, bench client + upstream ${per1000((benchCpu.user + benchCpu.system) / 1e6)}; machine busy ${round((busy / wall / cores) * 100)}% of ${cores} cores, ${round(((busy - ours) / wall / cores) * 100)}% not ours`,
        );
      } finally {
        await Promise.all(ws.map((w) => w.stop()));
        await api.proc.stop();
      }
      if (COUNT_QUERIES) {
        const runs = WARMUP + TOTAL + (result.idle ? IDLE_RUNS : 0);
        console.log(
          `postgres, ${workers} worker(s): statements per run ${JSON.stringify(await queriesPerRun(countDir, runs), null, 1)}`,
        );
      }
      return result;
    };
    const pg1 = PHASES.has('pg1') ? await pgPhase(1) : none;
    console.log(
      `postgres, 1 worker: ${round(pg1.rps)} runs/s, pickup p50 under load ${round(median(pg1.pickups))} ms`,
    );
    const pg2 = PHASES.has('pg2') ? await pgPhase(2) : none;
    console.log(
      `postgres, 2 workers: ${round(pg2.rps)} runs/s, pickup p50 under load ${round(median(pg2.pickups))} ms, idle ${round(median(pg2.idle?.pickups ?? []))} ms (p90 ${round(quantile(pg2.idle?.pickups ?? [], 0.9))}, max ${round(quantile(pg2.idle?.pickups ?? [], 1))}), idle phase ${round((pg2.idle?.seconds ?? NaN) * 1000)} ms`,
    );
    let graphile = { rps: NaN, cpu: '' };
    if (PHASES.has('graphile')) {
      graphile = await graphilePhase(await pgServer.createDatabase(), 2);
      console.log(
        `graphile worker alone (no-op task, 2 workers): ${round(graphile.rps)} jobs/s; CPU s per 1000 jobs: ${graphile.cpu}; ` +
          `postgres mode with 2 workers reaches ${round(pg2.rps / graphile.rps, 3)} of it`,
      );
    }
    let floor = { rps: NaN, cpu: '' };
    if (PHASES.has('floor')) {
      floor = await floorPhase(await pgServer.createDatabase(), upstream.url, 2);
      console.log(
        `floor of postgres mode (2 workers): ${round(floor.rps)} runs/s, ${round(floor.rps / embedded.rps, 3)} of the embedded mode; ` +
          `CPU s per 1000 runs: ${floor.cpu}; postgres mode with 2 workers reaches ${round(pg2.rps / floor.rps, 3)} of it`,
      );
    }
    console.log(
      JSON.stringify({
        bench: 'scale',
        embeddedRps: round(embedded.rps),
        pgRps1: round(pg1.rps),
        pgRps2: round(pg2.rps),
        pgRatio: round(pg2.rps / embedded.rps, 3),
        pickupP50Ms: round(median(pg2.idle?.pickups ?? [])),
        pickupLoadedP50Ms: round(median(pg2.pickups)),
        lost: pg1.notSucceeded + pg2.notSucceeded + (pg2.idle?.notSucceeded ?? 0),
        graphileRps2: round(graphile.rps),
        pgVsGraphile: round(pg2.rps / graphile.rps, 3),
        floorRps2: round(floor.rps),
        floorRatio: round(floor.rps / embedded.rps, 3),
        pgVsFloor: round(pg2.rps / floor.rps, 3),
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
