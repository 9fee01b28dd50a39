// Benchmark: median time to add one run record when the project already has 1,000 versus
// 100,000 run records (the lowdb store's JSON-lines run files with their in-memory index).
// The files are pre-filled directly; the first access (index load) is not timed.
// Last line: one JSON object.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
// Imported by path: the root package does not depend on the workspace packages by name.
import { openLowdbStore, type StoredRun } from '../packages/store/src/index';

const SIZES = [1_000, 100_000] as const;
const ROUNDS = 5;
const PER_ROUND = 300;

function record(projectId: string, i: number): StoredRun {
  return {
    id: `run-${i}`,
    projectId,
    flowId: `flow-${i % 7}`,
    environment: 'production',
    status: 'succeeded',
    queuedAt: new Date(1_700_000_000_000 + i * 1000).toISOString(),
    startedAt: new Date(1_700_000_000_000 + i * 1000 + 5).toISOString(),
    durationMs: 120,
    steps: [
      {
        block: 'fetch',
        status: 'succeeded',
        durationMs: 80,
        output: { status: 200, body: { ok: true, items: [1, 2, 3] } },
      },
      { block: 'set', status: 'succeeded', durationMs: 1, output: { total: 3 } },
    ],
    output: { total: 3 },
  };
}

function median(xs: number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

const dataDir = await mkdtemp(join(tmpdir(), 'flowsafe-bench-store-'));
try {
  const store = await openLowdbStore({ dataDir, retention: { runsPerProject: 1_000_000 } });
  const ws = await store.workspaces.create({ name: 'bench' });
  const projects: Record<number, string> = {};
  for (const size of SIZES) {
    const project = await store.projects.create({ workspaceId: ws.id, name: `p${size}` });
    projects[size] = project.id;
    const lines: string[] = [];
    for (let i = 0; i < size; i++) lines.push(JSON.stringify(record(project.id, i)));
    await writeFile(join(dataDir, 'runs', `${project.id}.jsonl`), `${lines.join('\n')}\n`);
    // first access loads the index; check it saw every record
    const page = await store.runs.list(project.id, { limit: 1 });
    if (page.items[0]?.id !== `run-${size - 1}`) throw new Error('pre-fill not loaded');
  }

  const samples: Record<number, number[]> = { [SIZES[0]]: [], [SIZES[1]]: [] };
  let next = 1_000_000;
  async function round(size: number, keep: boolean): Promise<void> {
    const projectId = projects[size] as string;
    for (let i = 0; i < PER_ROUND; i++) {
      const run = record(projectId, next++);
      const start = process.hrtime.bigint();
      await store.runs.save(run);
      const us = Number(process.hrtime.bigint() - start) / 1000;
      if (keep) samples[size]?.push(us);
    }
  }
  // warm-up, then interleave so both sizes see the same machine load
  for (const size of SIZES) await round(size, false);
  for (let r = 0; r < ROUNDS; r++) for (const size of SIZES) await round(size, true);
  await store.close();

  const small = median(samples[SIZES[0]] ?? []);
  const large = median(samples[SIZES[1]] ?? []);
  console.log(
    JSON.stringify({
      bench: 'store',
      appendRunUs: { '1000': Number(small.toFixed(1)), '100000': Number(large.toFixed(1)) },
      growth: Number((large / small).toFixed(3)),
    }),
  );
} finally {
  await rm(dataDir, { recursive: true, force: true });
}
