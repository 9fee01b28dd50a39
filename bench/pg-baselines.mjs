// The processes of bench:scale's PostgreSQL baselines, one role each (env ROLE):
//   noop-worker:  Graphile Worker alone — a task that only reports that it ran (one pg_notify on
//                 `bench_noop_done`), the least a worker of a run queue does for a job whose
//                 caller waits for it (graphilePhase).
//   floor-api, floor-worker: the floor of PostgreSQL mode, the least any implementation of a run
//                 queue on Graphile Worker does for a one-API-block run whose caller waits for it
//                 (floorPhase):
//     floor-api:    node:http; POST /runs stores the queued run and adds its job in one statement
//                   (`INSERT … RETURNING` + `graphile_worker.add_job`, as flowsafe's API does),
//                   waits for the run's "done" notification on one LISTEN connection, answers the
//                   record. No authentication, no project or flow read, no validation, no log.
//     floor-worker: the task reads the run's input, flow and two sealed values in one statement
//                   (the payload holds the run id only), opens them with node:crypto
//                   (AES-256-GCM, KeyObject), calls the upstream with undici, then stores the
//                   final record and notifies it in one statement. No lease, no audit, no
//                   runner, no redaction: the upstream echoes its request headers, so the
//                   floor's records and answers hold its two values — made-up bench values in
//                   a database made for this phase and dropped with the bench's server. This
//                   is not flowsafe code and nothing of flowsafe reads it.
// Workers run Graphile Worker with the settings flowsafe's queue gives it (concurrency, local
// queue, batched completion, a pool of concurrency + 6). Prepared statements throughout.
// Env: URL (database), ROLE, CONCURRENCY, DATA_KEY (floor-worker: base64); floor-api prints
// `listening <port>`, the workers `ready`; SIGTERM stops each gracefully.
import { createDecipheriv, createSecretKey, randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { Logger, run } from 'graphile-worker';
import pg from 'pg';
import { Agent, request } from 'undici';

const DONE = 'floor_run_done';
const role = process.env.ROLE;
const concurrency = Number(process.env.CONCURRENCY ?? 16);
const pool = new pg.Pool({ connectionString: process.env.URL, max: concurrency + 6 });
// what Graphile Worker asks of a pool it is given: idle and checked-out clients may error
pool.on('error', () => undefined);
pool.on('connect', (client) => client.on('error', () => undefined));

/** Graphile Worker with flowsafe's queue settings; prints `ready`, stops on SIGTERM. */
async function startWorker(taskList, onStop = async () => undefined) {
  const runner = await run({
    pgPool: pool,
    concurrency,
    noHandleSignals: true,
    pollInterval: 1000,
    taskList,
    parsedCronItems: [],
    logger: new Logger(() => () => undefined),
    preset: { worker: { localQueue: { size: concurrency, ttl: 20_000 }, completeJobBatchDelay: 50 } },
  });
  process.stdout.write('ready\n');
  process.once('SIGTERM', () => {
    void runner
      .stop()
      .then(() => Promise.all([pool.end(), onStop()]))
      .finally(() => process.exit(0));
  });
}

if (role === 'noop-worker') {
  await startWorker({
    noop: async (payload, helpers) => {
      await helpers.query('SELECT pg_notify($1, $2)', ['bench_noop_done', String(payload.id)]);
    },
  });
} else if (role === 'floor-api') {
  const waiting = new Map();
  const listener = new pg.Client({ connectionString: process.env.URL });
  listener.on('error', () => undefined);
  await listener.connect();
  listener.on('notification', (n) => {
    const payload = n.payload ?? '';
    const space = payload.indexOf(' ');
    const id = payload.slice(0, space);
    const done = waiting.get(id);
    waiting.delete(id);
    done?.(payload.slice(space + 1));
  });
  await listener.query(`LISTEN ${DONE}`);
  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        const body = JSON.parse(Buffer.concat(chunks).toString() || '{}');
        const id = randomUUID();
        const done = new Promise((resolve) => waiting.set(id, resolve));
        await pool.query({
          name: 'floor_enqueue',
          text: `WITH r AS (INSERT INTO floor_runs (id, flow_id, status, input, queued_at)
                   VALUES ($1, $2, 'queued', $3, now()) RETURNING id)
                 SELECT j.revision FROM r, graphile_worker.add_job('floor_run', json_build_object('runId', r.id),
                   max_attempts := 1, job_key := r.id, job_key_mode := 'unsafe_dedupe') j`,
          values: [id, body.flowId, JSON.stringify(body.input ?? {})],
        });
        const record = await done;
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(record);
      })().catch((err) => {
        res.writeHead(500);
        res.end(String(err));
      });
    });
  });
  server.keepAliveTimeout = 30_000;
  server.listen(0, '127.0.0.1', () => process.stdout.write(`listening ${server.address().port}\n`));
  process.once('SIGTERM', () => {
    server.closeAllConnections();
    server.close();
    void Promise.all([listener.end(), pool.end()]).finally(() => process.exit(0));
  });
} else if (role === 'floor-worker') {
  const key = createSecretKey(Buffer.from(process.env.DATA_KEY ?? '', 'base64'));
  const open = (sealed) => {
    const d = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, 12));
    d.setAuthTag(sealed.subarray(12, 28));
    return Buffer.concat([d.update(sealed.subarray(28)), d.final()]).toString();
  };
  const dispatcher = new Agent({ connections: concurrency });
  await startWorker(
    {
      floor_run: async (payload, helpers) => {
        const runId = payload.runId;
        const queued = await helpers.query({
          name: 'floor_context',
          text: `SELECT r.flow_id, r.input, r.queued_at, f.definition,
                 (SELECT array_agg(s.sealed ORDER BY s.name) FROM floor_secrets s WHERE s.flow_id = r.flow_id) AS sealed
               FROM floor_runs r JOIN floor_flows f ON f.id = r.flow_id WHERE r.id = $1`,
          values: [runId],
        });
        const row = queued.rows[0];
        const startedAt = new Date().toISOString();
        const block = row.definition.blocks[0].config;
        const [a, b] = row.sealed.map(open);
        const res = await request(`${block.url}?n=${encodeURIComponent(row.input.n ?? '')}`, {
          method: block.method,
          headers: { 'x-key': a, 'x-key-2': b },
          dispatcher,
        });
        const answer = await res.body.json();
        const record = JSON.stringify({
          id: runId,
          flowId: row.flow_id,
          status: 'succeeded',
          queuedAt: row.queued_at.toISOString(),
          startedAt,
          finishedAt: new Date().toISOString(),
          steps: [{ blockId: 'call', status: 'succeeded', output: { status: res.statusCode, body: answer } }],
        });
        await helpers.query({
          name: 'floor_final',
          text: `WITH u AS (UPDATE floor_runs SET status = 'succeeded', record = $2 WHERE id = $1 RETURNING id)
               SELECT pg_notify('${DONE}', u.id || ' ' || $2) FROM u`,
          values: [runId, record],
        });
      },
    },
    () => dispatcher.close(),
  );
} else {
  throw new Error(`ROLE must be noop-worker, floor-api or floor-worker, got ${role}`);
}
