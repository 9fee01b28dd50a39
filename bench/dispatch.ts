// Dispatch overhead: one local keep-alive upstream, measured in the same process two ways —
// (a) raw undici request() through a keep-alive Agent, (b) a flow of one API block (a text
// secret in a header, a basic-auth secret via auth, a templated JSON body) run through
// createRunner with run records stored (the lowdb store's runs repo in a temp dir) and secret
// values opened per dispatch from real AES-256-GCM sealed values through the KeyRing.
// p50 at concurrency 1 (rounds of raw and flow alternate so drift hits both), requests per
// second at concurrency 32. Last line: one JSON object.
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApiBlockPlugin, type SecretAccess, type SecretMeta } from '../packages/api-block/src/index';
// the undici the API block itself uses, so both sides run the same client
import { Agent, request } from '../packages/api-block/node_modules/undici/index.js';
import { Redactor } from '../packages/redact/src/index';
import {
  builtinPlugins,
  createRunner,
  type FlowDefinition,
  type RunRecord,
  type RunSink,
} from '../packages/runner/src/index';
import {
  KeyRing,
  MasterKey,
  type SealedValue,
  type SecretType,
  type SecretValue,
  type WrappedKey,
} from '../packages/secrets/src/index';

const WARMUP = 500;
const ROUNDS = 6;
const PER_ROUND = 600; // 3,600 measured runs per side at concurrency 1
const CONCURRENCY = 32;
const RPS_PER_WORKER = 120; // 3,840 requests per side at concurrency 32

const BODY = JSON.stringify({ ok: true, id: 'T-1', items: [1, 2, 3] });

async function main(): Promise<void> {
  const upstream = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.setHeader('content-type', 'application/json');
      res.setHeader('content-length', Buffer.byteLength(BODY));
      res.end(BODY);
    });
  });
  upstream.keepAliveTimeout = 30_000;
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;

  // --- (a) raw undici
  const rawAgent = new Agent({ keepAliveTimeout: 10_000, connections: 64 });
  const raw = async (): Promise<void> => {
    const res = await request(`${base}/tickets`, {
      method: 'POST',
      dispatcher: rawAgent,
      headers: { 'content-type': 'application/json', 'x-api-key': 'k', authorization: 'Basic dTpw' },
      body: JSON.stringify({ subject: 'Hello' }),
    });
    await res.body.json();
  };

  // --- (b) the flow: sealed secrets, a redactor that knows them, the runner with a stored sink
  const ring = new KeyRing(MasterKey.generate());
  const run = { workspaceId: 'ws_1', projectId: 'proj_1', flowId: 'flow_1', environment: 'production' };
  const stored = new Map<string, { meta: SecretMeta; wrapped: WrappedKey; sealed: SealedValue }>();
  const redactor = new Redactor();
  const addSecret = (name: string, type: SecretType, value: SecretValue, allowedHosts?: string[]): void => {
    const wrapped = ring.newDataKey();
    const ctx = {
      workspaceId: run.workspaceId,
      projectId: run.projectId,
      secretId: `sec_${name}`,
      environment: 'default',
    };
    const meta: SecretMeta = allowedHosts ? { name, type, allowedHosts } : { name, type };
    stored.set(name, { meta, wrapped, sealed: ring.seal(wrapped, ctx, type, value) });
    redactor.addSecret(name, value);
  };
  addSecret('API_KEY', 'text', `key_${randomUUID()}`, ['127.0.0.1']);
  addSecret('LOGIN', 'basic', { username: 'bench-user', password: `pw_${randomUUID()}` });
  const secrets: SecretAccess = {
    describe: (_run, name) => stored.get(name)?.meta,
    open: async (r, name) => {
      const s = stored.get(name)!;
      const ctx = {
        workspaceId: r.workspaceId,
        projectId: r.projectId,
        secretId: `sec_${name}`,
        environment: 'default',
      };
      return ring.open(s.wrapped, ctx, s.meta.type, s.sealed);
    },
  };

  let sinkKind = 'lowdb runs repo';
  let sink: RunSink;
  let closeStore = async (): Promise<void> => {};
  const dataDir = await mkdtemp(join(tmpdir(), 'flowsafe-bench-dispatch-'));
  try {
    const { openLowdbStore } = await import('../packages/store/src/index');
    const store = await openLowdbStore({ dataDir });
    sink = { save: (record: RunRecord) => store.runs.save(record) };
    closeStore = async () => {
      await (store as { close?: () => Promise<void> }).close?.();
    };
  } catch (err) {
    sinkKind = `in-memory (store unavailable: ${(err as Error).message})`;
    const records = new Map<string, RunRecord>();
    sink = { save: async (record) => void records.set(record.id, record) };
  }

  const plugin = createApiBlockPlugin({
    secrets,
    dispatcher: new Agent({ keepAliveTimeout: 10_000, connections: 64 }),
  });
  const runner = createRunner({ plugins: [...builtinPlugins(), plugin], sink });
  // for the breakdown line only: the same flow with run records kept in memory
  const memRecords = new Map<string, RunRecord>();
  const memRunner = createRunner({
    plugins: [...builtinPlugins(), plugin],
    sink: { save: async (record) => void memRecords.set(record.id, record) },
  });
  const definition: FlowDefinition = {
    name: 'bench',
    start: 'call',
    variables: { subject: 'Hello' },
    blocks: [
      {
        id: 'call',
        type: 'api',
        config: {
          method: 'POST',
          url: `${base}/tickets`,
          headers: { 'X-Api-Key': '<secret:API_KEY>' },
          auth: { type: 'basic', secret: 'LOGIN' },
          body: { type: 'json', content: { subject: '{{subject}}' } },
          saveAs: 'ticket',
        },
      },
    ],
  };
  let failures = 0;
  const runWith = (r: typeof runner) => async (): Promise<void> => {
    const record = await r.run({
      definition,
      run: { ...run, runId: randomUUID() },
      redactor: redactor.child(),
    });
    if (record.status !== 'succeeded') {
      failures++;
      if (failures === 1)
        console.error('flow failed:', JSON.stringify(record.error ?? record.steps.at(-1)?.error));
    }
    if (memRecords.size > 1000) memRecords.clear();
  };
  const flow = runWith(runner);
  const memFlow = runWith(memRunner);

  // --- p50 at concurrency 1
  for (let i = 0; i < WARMUP; i++) {
    await raw();
    await flow();
    await memFlow();
  }
  const rawTimes: number[] = [];
  const flowTimes: number[] = [];
  const memTimes: number[] = [];
  const timeOne = async (fn: () => Promise<void>, into: number[]): Promise<void> => {
    const t0 = process.hrtime.bigint();
    await fn();
    into.push(Number(process.hrtime.bigint() - t0) / 1000);
  };
  for (let round = 0; round < ROUNDS; round++) {
    const order: Array<[() => Promise<void>, number[]]> = [
      [raw, rawTimes],
      [flow, flowTimes],
      [memFlow, memTimes],
    ];
    if (round % 2 === 1) order.reverse();
    for (const [fn, into] of order) {
      for (let i = 0; i < PER_ROUND; i++) await timeOne(fn, into);
    }
  }
  const p50 = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const rawP50Us = p50(rawTimes);
  const flowP50Us = p50(flowTimes);

  // --- throughput at concurrency 32 (two alternating passes each, best of the two)
  const rps = async (fn: () => Promise<void>): Promise<number> => {
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        for (let i = 0; i < RPS_PER_WORKER; i++) await fn();
      }),
    );
    return (CONCURRENCY * RPS_PER_WORKER) / ((performance.now() - t0) / 1000);
  };
  const rawRpsRuns: number[] = [];
  const flowRpsRuns: number[] = [];
  const memRpsRuns: number[] = [];
  for (let pass = 0; pass < 2; pass++) {
    rawRpsRuns.push(await rps(raw));
    flowRpsRuns.push(await rps(flow));
    memRpsRuns.push(await rps(memFlow));
  }
  const rawRps = Math.max(...rawRpsRuns);
  const flowRps = Math.max(...flowRpsRuns);
  const memRps = Math.max(...memRpsRuns);

  await plugin.close();
  await rawAgent.close();
  await closeStore();
  upstream.closeAllConnections();
  await new Promise<void>((r) => upstream.close(() => r()));
  await rm(dataDir, { recursive: true, force: true });

  console.log(
    `dispatch: upstream ${base}; sink: ${sinkKind}; secrets: KeyRing-sealed, opened per dispatch; ` +
      `p50 over ${rawTimes.length} runs each after ${WARMUP} warm-up; rps at concurrency ${CONCURRENCY}; flow failures: ${failures}`,
  );
  const round1 = (n: number): number => Math.round(n * 10) / 10;
  const round3 = (n: number): number => Math.round(n * 1000) / 1000;
  const memP50Us = p50(memTimes);
  console.log(
    `breakdown (same flow, run records in memory instead of the store): flowP50Us ${round1(memP50Us)} ` +
      `(p50Ratio ${round3(memP50Us / rawP50Us)}), flowRps ${Math.round(memRps)} (rpsRatio ${round3(memRps / rawRps)})`,
  );
  console.log(
    JSON.stringify({
      bench: 'dispatch',
      rawP50Us: round1(rawP50Us),
      flowP50Us: round1(flowP50Us),
      p50Ratio: round3(flowP50Us / rawP50Us),
      rawRps: Math.round(rawRps),
      flowRps: Math.round(flowRps),
      rpsRatio: round3(flowRps / rawRps),
    }),
  );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
