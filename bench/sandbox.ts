// Benchmark of @flowsafe/sandbox: a function block mapping a ~1 KB input object, run through the
// plugin's execute() with a minimal BlockContext — cold (first call: isolate + compile) and warm
// (p50/p99 over 2,000 calls) — against the floor measured in the same run directly with
// isolated-vm on an existing isolate: new context + compile + run + copy the result out.
// Warm calls and floor calls are interleaved in rounds so machine noise hits both alike.
// Last line: one JSON object.
import { createRequire } from 'node:module';
import type { BlockContext } from '../packages/runner/src/index';
import type IsolatedVmModule from '../packages/sandbox/node_modules/isolated-vm';
import { createFunctionBlockPlugin } from '../packages/sandbox/src/index';

// isolated-vm is a dependency of @flowsafe/sandbox only: resolve it from there
const ivm = createRequire(new URL('../packages/sandbox/package.json', import.meta.url))(
  'isolated-vm',
) as typeof IsolatedVmModule;

const CALLS = 2000;
const ROUNDS = 10;
const WARMUP = 200;

const record: Record<string, string | number> = {};
for (let i = 0; i < 45; i++) record[`field${i}`] = i % 3 === 0 ? i * 1000 : `value-${i}-abc`;
const input = { record, meta: { source: 'bench', tags: ['a', 'b', 'c'] } };
const inputBytes = Buffer.byteLength(JSON.stringify(input));

const body = `const mapped = {};
for (const [key, value] of Object.entries(input.record)) {
  mapped[key.toUpperCase()] = typeof value === 'string' ? value.length : value * 2;
}
return { mapped, count: Object.keys(mapped).length, source: input.meta.source };`;

function context(): BlockContext {
  return {
    run: { runId: 'r', flowId: 'f', projectId: 'p', workspaceId: 'w', environment: 'default' },
    block: { id: 'map', type: 'function' },
    variables: input,
    settings: {},
    redactor: undefined as unknown as BlockContext['redactor'],
    log: () => {},
    signal: new AbortController().signal,
    deadline: Date.now() + 60_000,
  };
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? Number.NaN;
}

const plugin = createFunctionBlockPlugin();
const config = plugin.configSchema.parse({ code: body });

let start = performance.now();
const first = await plugin.execute(context(), config);
const coldMs = performance.now() - start;
if ((first.variables as { count?: number } | undefined)?.count !== 45) throw new Error('unexpected result');

// the floor: the same work done directly with isolated-vm
const isolate = new ivm.Isolate({ memoryLimit: 32 });
const floorSource = `(async function (input) {\n${body}\n})(input)`;
async function floorCall(): Promise<unknown> {
  const ctx = isolate.createContextSync();
  ctx.global.setIgnored('input', new ivm.ExternalCopy(input).copyInto());
  const script = await isolate.compileScript(floorSource);
  const result: unknown = await script.run(ctx, { promise: true, copy: true, timeout: 1000 });
  ctx.release();
  return result;
}
const floorResult = (await floorCall()) as { count?: number };
if (floorResult.count !== 45) throw new Error('unexpected floor result');

for (let i = 0; i < WARMUP; i++) {
  await plugin.execute(context(), config);
  await floorCall();
}

const warm: number[] = [];
const floor: number[] = [];
for (let round = 0; round < ROUNDS; round++) {
  for (let i = 0; i < CALLS / ROUNDS; i++) {
    start = performance.now();
    await plugin.execute(context(), config);
    warm.push(performance.now() - start);
  }
  for (let i = 0; i < CALLS / ROUNDS; i++) {
    start = performance.now();
    await floorCall();
    floor.push(performance.now() - start);
  }
}
warm.sort((a, b) => a - b);
floor.sort((a, b) => a - b);
plugin.close();
isolate.dispose();

const round3 = (n: number) => Math.round(n * 1000) / 1000;
const warmP50Ms = percentile(warm, 0.5);
const floorMs = percentile(floor, 0.5);
console.log(
  `input ${inputBytes} bytes; ${CALLS} warm calls; floor p99 ${round3(percentile(floor, 0.99))} ms`,
);
console.log(
  JSON.stringify({
    bench: 'sandbox',
    coldMs: round3(coldMs),
    warmP50Ms: round3(warmP50Ms),
    warmP99Ms: round3(percentile(warm, 0.99)),
    floorMs: round3(floorMs),
    ratio: round3(warmP50Ms / floorMs),
  }),
);
