// Dispatch overhead: one local keep-alive upstream, measured in the same process two ways —
// (a) raw undici request() through a keep-alive Agent, (b) a flow of one API block (a text
// secret in a header, a basic-auth secret via auth, a templated JSON body) run through
// createRunner with run records stored as the server stores them (its RunRecords over a lowdb
// store in a temp dir) and secret values opened per dispatch from real AES-256-GCM sealed
// values through the KeyRing.
// (c) the floor: raw undici plus the least any engine must add to send this flow's two sealed
// secrets and keep its run record (two AES-256-GCM opens through node:crypto, one JSON line
// appended with write(2)): floorP50Ratio and floorRpsRatio show how much of the targets' budget
// that alone takes.
// p50 at concurrency 1 and requests per second at concurrency 32, each measured in rounds in
// which the sides alternate (so machine noise hits all); each figure is the median of its
// rounds. Last line: one JSON object.
import { createCipheriv, createDecipheriv, createSecretKey, randomBytes, randomUUID } from 'node:crypto';
import { closeSync, openSync, writeSync } from 'node:fs';
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

// Issue 18 figures (egressAndStoreFigures, at the end of this file).
import { createEgressGuard, parseEgressAllow } from '@flowsafe/api-block';
import { createServerLogger, createServices, bootstrap, RunRecords, recordsSink } from '@flowsafe/server';
import { startVaultStandIn } from '@flowsafe/secret-stores';

const WARMUP = 500;
const ROUNDS = 6;
const PER_ROUND = 600; // 3,600 measured runs per side at concurrency 1
const CONCURRENCY = 32;
const RPS_ROUNDS = 5;
const RPS_PER_WORKER = 50; // 1,600 requests per round, 8,000 per side at concurrency 32

const BODY = JSON.stringify({ ok: true, id: 'T-1', items: [1, 2, 3] });

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

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
    // frozen, as the stores hand out their records
    stored.set(name, deepFreeze({ meta, wrapped, sealed: ring.seal(wrapped, ctx, type, value) }));
    redactor.addSecret(name, value);
  };
  addSecret('API_KEY', 'text', `key_${randomUUID()}`, ['127.0.0.1']);
  addSecret('LOGIN', 'basic', { username: 'bench-user', password: `pw_${randomUUID()}` });
  let openUs = 0; // time spent in KeyRing.open, for the breakdown line
  let opens = 0;
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
      const t0 = performance.now();
      const value = ring.open(s.wrapped, ctx, s.meta.type, s.sealed);
      openUs += (performance.now() - t0) * 1000;
      opens++;
      return value;
    },
  };

  // Run records are stored the way `flowsafe start` stores them: through the server's RunRecords
  // (a run's in-flight snapshots stay in memory unless it is still going after 250 ms; its final
  // record is appended to the project's run log in the lowdb store).
  let sinkKind = "the server's RunRecords over the lowdb store";
  let sink: RunSink;
  let closeStore = async (): Promise<void> => {};
  const dataDir = await mkdtemp(join(tmpdir(), 'flowsafe-bench-dispatch-'));
  try {
    const { openLowdbStore } = await import('../packages/store/src/index');
    const store = await openLowdbStore({ dataDir });
    const records = new RunRecords(store, (err) => {
      throw err;
    });
    sink = recordsSink(records);
    closeStore = async () => {
      await records.flushAll();
      await store.close();
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
  // frozen, as the stores hand out flows to the runs of the server
  const definition: FlowDefinition = deepFreeze({
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
  });
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

  // --- (c) the floor: raw undici plus the least any engine adds for this flow — two AES-256-GCM
  // opens through node:crypto (a KeyObject each, as KeyRing keeps its data keys) and one run
  // record (the flow's own, with a fresh id) appended to a file as one JSON line with write(2).
  // No templating, planning, egress check, scrubbing, redaction, audit or promise of a runner.
  const floorKey = createSecretKey(randomBytes(32));
  const sealRaw = (plain: string, aad: Buffer) => {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', floorKey, iv);
    cipher.setAAD(aad);
    const ct = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return { iv, aad, ct, tag: cipher.getAuthTag() };
  };
  const floorBlobs = [
    sealRaw(`key_${randomUUID()}`, Buffer.from('ws_1/proj_1/sec_API_KEY/default/value')),
    sealRaw(
      JSON.stringify({ username: 'bench-user', password: `pw_${randomUUID()}` }),
      Buffer.from('ws_1/proj_1/sec_LOGIN/default/fields'),
    ),
  ];
  const openRaw = (blob: (typeof floorBlobs)[number]): string => {
    const decipher = createDecipheriv('aes-256-gcm', floorKey, blob.iv, { authTagLength: 16 });
    decipher.setAAD(blob.aad);
    decipher.setAuthTag(blob.tag);
    const head = decipher.update(blob.ct);
    decipher.final();
    return head.toString('utf8');
  };
  await memFlow();
  const sampleRecord = [...memRecords.values()].at(-1)!;
  const floorFd = openSync(join(dataDir, 'floor-runs.jsonl'), 'a');
  const floor = async (): Promise<void> => {
    const key = openRaw(floorBlobs[0]!);
    const login = openRaw(floorBlobs[1]!);
    const res = await request(`${base}/tickets`, {
      method: 'POST',
      dispatcher: rawAgent,
      headers: {
        'content-type': 'application/json',
        'x-api-key': key,
        authorization: `Basic ${Buffer.from(login).toString('base64')}`,
      },
      body: JSON.stringify({ subject: 'Hello' }),
    });
    await res.body.json();
    writeSync(floorFd, `${JSON.stringify({ ...sampleRecord, id: randomUUID() })}\n`);
  };

  // --- p50 at concurrency 1
  for (let i = 0; i < WARMUP; i++) {
    await raw();
    await flow();
    await memFlow();
    await floor();
  }
  const timeOne = async (fn: () => Promise<void>, into: number[]): Promise<void> => {
    const t0 = process.hrtime.bigint();
    await fn();
    into.push(Number(process.hrtime.bigint() - t0) / 1000);
  };
  const p50 = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const median = (xs: number[]): number => {
    const s = [...xs].sort((a, b) => a - b);
    const mid = s.length >> 1;
    return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
  };
  const sides = { raw, flow, mem: memFlow, floor };
  type Side = keyof typeof sides;
  const order = (round: number): Side[] =>
    (['raw', 'flow', 'mem', 'floor'] as Side[]).map((_, i, all) => all[(i + round) % all.length]!);
  const roundP50s: Record<Side, number[]> = { raw: [], flow: [], mem: [], floor: [] };
  let measuredRuns = 0;
  for (let round = 0; round < ROUNDS; round++) {
    for (const side of order(round)) {
      const times: number[] = [];
      for (let i = 0; i < PER_ROUND; i++) await timeOne(sides[side], times);
      roundP50s[side].push(p50(times));
      if (side === 'flow') measuredRuns += times.length;
    }
  }
  const c1Opens = opens;
  const c1OpenUs = openUs;

  // --- throughput at concurrency 32, rounds alternating the same way
  const rps = async (fn: () => Promise<void>): Promise<number> => {
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        for (let i = 0; i < RPS_PER_WORKER; i++) await fn();
      }),
    );
    return (CONCURRENCY * RPS_PER_WORKER) / ((performance.now() - t0) / 1000);
  };
  const roundRps: Record<Side, number[]> = { raw: [], flow: [], mem: [], floor: [] };
  for (let round = 0; round < RPS_ROUNDS; round++) {
    for (const side of order(round)) roundRps[side].push(await rps(sides[side]));
  }
  const rawP50Us = median(roundP50s.raw);
  const flowP50Us = median(roundP50s.flow);
  const memP50Us = median(roundP50s.mem);
  const rawRps = median(roundRps.raw);
  const flowRps = median(roundRps.flow);
  const memRps = median(roundRps.mem);
  const floorP50Us = median(roundP50s.floor);
  const floorRps = median(roundRps.floor);
  closeSync(floorFd);

  const storeFigures = await egressAndStoreFigures(base);

  await plugin.close();
  await rawAgent.close();
  await closeStore();
  upstream.closeAllConnections();
  await new Promise<void>((r) => upstream.close(() => r()));
  await rm(dataDir, { recursive: true, force: true });

  console.log(
    `dispatch: upstream ${base}; sink: ${sinkKind}; secrets: KeyRing-sealed, opened per dispatch; ` +
      `p50 = median of ${ROUNDS} rounds of ${PER_ROUND} runs each (${measuredRuns} flow runs) after ${WARMUP} warm-up; ` +
      `rps = median of ${RPS_ROUNDS} rounds at concurrency ${CONCURRENCY}; flow failures: ${failures}`,
  );
  const round1 = (n: number): number => Math.round(n * 10) / 10;
  const round3 = (n: number): number => Math.round(n * 1000) / 1000;
  console.log(
    `breakdown (same flow, run records in memory instead of the store): flowP50Us ${round1(memP50Us)} ` +
      `(p50Ratio ${round3(memP50Us / rawP50Us)}), flowRps ${Math.round(memRps)} (rpsRatio ${round3(memRps / rawRps)}); ` +
      `KeyRing.open ${round1(c1OpenUs / Math.max(1, c1Opens))} us per secret, ${round1((2 * c1OpenUs) / Math.max(1, c1Opens))} us per run`,
  );
  console.log(
    `floor (raw undici + two node:crypto AES-256-GCM opens + the run record appended as one JSON line): ` +
      `p50 ${round1(floorP50Us)} us (floorP50Ratio ${round3(floorP50Us / rawP50Us)}), ${Math.round(floorRps)} req/s ` +
      `(floorRpsRatio ${round3(floorRps / rawRps)}); the flow against the floor: p50 ${round3(flowP50Us / floorP50Us)}x, ` +
      `rps ${round3(flowRps / floorRps)}x`,
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
      floorP50Ratio: round3(floorP50Us / rawP50Us),
      floorRpsRatio: round3(floorRps / rawRps),
      ...storeFigures,
    }),
  );
}

/**
 * Issue 18, same upstream: the egress guard's cost (the same flow through the guard's agent with
 * 127.0.0.1 allowed vs a plain keep-alive agent), and external secrets through the server's own
 * ProjectSecrets (a text secret from a local Vault stand-in, cache warm, vs the same flow with a
 * sealed stored secret, both through the guard), plus the first dispatch after the cache expired.
 */
async function egressAndStoreFigures(base: string): Promise<Record<string, number>> {
  const WARM = 300;
  const STORE_ROUNDS = 6;
  const STORE_PER_ROUND = 400;
  const COLD_SAMPLES = 9;
  const vault = await startVaultStandIn({ tokens: ['bench-vault-token-1'] });
  vault.setSecret('bench', { token: `ext_${randomUUID()}` });
  const dataDir = await mkdtemp(join(tmpdir(), 'flowsafe-bench-stores-'));
  const { store, keyRing } = await bootstrap({
    dataDir,
    masterKey: MasterKey.generate().toBase64(),
    bootstrapToken: undefined,
  });
  const logger = createServerLogger(new Redactor(), { level: 'silent' });
  const services = await createServices({ store, keyRing, logger, egressAllow: '127.0.0.1' });
  const secrets = services.ctx.secrets;
  const workspace = await store.workspaces.create({ name: 'bench' });
  const project = await store.projects.create({
    workspaceId: workspace.id,
    name: 'bench',
    environments: ['development', 'production'],
  });
  const addStore = async (name: string, cacheTtlS: number) => {
    const def = {
      name,
      type: 'vault' as const,
      cacheTtlS,
      config: {
        address: vault.url,
        mount: 'secret',
        auth: { method: 'token' as const, token: 'bench-vault-token-1' },
        timeoutMs: 10_000,
      },
    };
    const wrappedKey = secrets.newDataKey();
    const sealed = secrets.external.seal(workspace.id, def, wrappedKey);
    await store.secretStores.create({
      workspaceId: workspace.id,
      name,
      type: 'vault',
      config: sealed.config,
      wrappedKey,
      credentials: sealed.credentials,
      cacheTtlS,
    });
  };
  await addStore('vault-warm', 3600);
  await addStore('vault-cold', 1);
  const base0 = {
    workspaceId: workspace.id,
    projectId: project.id,
    visibility: 'restricted' as const,
    values: {},
  };
  const storedKey = { id: randomUUID(), ...base0, type: 'text' as const, wrappedKey: secrets.newDataKey() };
  await store.secrets.create({
    ...storedKey,
    name: 'STORED_KEY',
    values: { default: secrets.seal(storedKey, 'default', `stored_${randomUUID()}`) },
  });
  for (const [name, storeName] of [
    ['EXT_KEY', 'vault-warm'],
    ['COLD_KEY', 'vault-cold'],
  ] as const)
    await store.secrets.create({
      id: randomUUID(),
      ...base0,
      type: 'text',
      wrappedKey: secrets.newDataKey(),
      name,
      source: { store: storeName, ref: 'bench#token' },
    });
  secrets.invalidate(project.id);
  await secrets.entry(project.id);
  const projectRedactor = await secrets.redactor(project.id);

  const guard = createEgressGuard({ allow: parseEgressAllow('127.0.0.1') });
  const plainAgent = new Agent({ keepAliveTimeout: 10_000, connections: 64 });
  const guardAgent = guard.agent({ keepAliveTimeout: 10_000 });
  const records = new Map<string, RunRecord>();
  const sink: RunSink = { save: async (record) => void records.set(record.id, record) };
  const runnerWith = (dispatcher: typeof plainAgent) =>
    createRunner({
      plugins: [...builtinPlugins(), createApiBlockPlugin({ secrets, dispatcher })],
      sink,
    });
  const off = runnerWith(plainAgent);
  const on = runnerWith(guardAgent as unknown as typeof plainAgent);
  const definitionFor = (secret: string): FlowDefinition => ({
    name: 'bench-stores',
    start: 'call',
    variables: { subject: 'Hello' },
    blocks: [
      {
        id: 'call',
        type: 'api',
        config: {
          method: 'POST',
          url: `${base}/tickets`,
          headers: { 'X-Api-Key': `<secret:${secret}>` },
          body: { type: 'json', content: { subject: '{{subject}}' } },
          saveAs: 'ticket',
        },
      },
    ],
  });
  let failures = 0;
  const flowOf = (r: typeof off, secret: string) => {
    const definition = definitionFor(secret);
    return async (): Promise<void> => {
      const record = await r.run({
        definition,
        run: {
          workspaceId: workspace.id,
          projectId: project.id,
          flowId: 'flow_bench',
          environment: 'production',
          runId: randomUUID(),
        },
        redactor: projectRedactor.child(),
      });
      if (record.status !== 'succeeded' && failures++ === 0)
        console.error('store flow failed:', JSON.stringify(record.error ?? record.steps.at(-1)?.error));
      if (records.size > 1000) records.clear();
    };
  };
  const guardOff = flowOf(off, 'STORED_KEY');
  const guardOn = flowOf(on, 'STORED_KEY');
  const external = flowOf(on, 'EXT_KEY');
  const cold = flowOf(on, 'COLD_KEY');

  for (let i = 0; i < WARM; i++) {
    await guardOff();
    await guardOn();
    await external();
  }
  const times: number[][] = [[], [], []];
  const sides = [guardOff, guardOn, external];
  for (let round = 0; round < STORE_ROUNDS; round++) {
    const order = round % 2 === 0 ? [0, 1, 2] : [2, 1, 0];
    for (const side of order) {
      for (let i = 0; i < STORE_PER_ROUND; i++) {
        const t0 = process.hrtime.bigint();
        await sides[side]!();
        times[side]!.push(Number(process.hrtime.bigint() - t0) / 1000);
      }
    }
  }
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  // The first dispatch after the cache expired: the fetch from Vault is part of it.
  await cold();
  const coldMs: number[] = [];
  for (let i = 0; i < COLD_SAMPLES; i++) {
    await new Promise((resolve) => setTimeout(resolve, 1_050));
    const t0 = process.hrtime.bigint();
    await cold();
    coldMs.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  const vaultReads = vault.counts.read;

  await services.close(1_000);
  await secrets.external.close();
  await plainAgent.close();
  await guardAgent.close();
  await store.close();
  await vault.close();
  await rm(dataDir, { recursive: true, force: true });

  const [offP50, onP50, extP50] = times.map(median) as [number, number, number];
  const r3 = (n: number): number => Math.round(n * 1000) / 1000;
  console.log(
    `egress/stores: p50 guard off ${r3(offP50)} us, guard on ${r3(onP50)} us, external (Vault, cache warm) ` +
      `${r3(extP50)} us over ${STORE_ROUNDS * STORE_PER_ROUND} runs each; cold first dispatch after expiry ` +
      `${coldMs.map((m) => m.toFixed(2)).join(', ')} ms; Vault reads ${vaultReads}; failures ${failures}`,
  );
  return {
    guardP50Ratio: r3(onP50 / offP50),
    externalCachedP50Ratio: r3(extP50 / onP50),
    externalColdMs: Math.round(median(coldMs) * 100) / 100,
  };
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
