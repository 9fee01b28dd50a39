import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import pg from 'pg';
import type { AuditEvent, StoredRun } from '@flowsafe/store';
import { startTestPostgres, type TestPostgres } from '../../../test/utils/postgres';
import { migrate } from './migrate';
import { openPostgresStore, type PostgresStore } from './pg-store';

let server: TestPostgres;
let store: PostgresStore;
let projectId: string;
let workspaceId: string;

beforeAll(async () => {
  server = await startTestPostgres();
  const url = await server.createDatabase();
  const pool = new pg.Pool({ connectionString: url });
  await migrate(pool);
  await pool.end();
  store = openPostgresStore({ connectionString: url, max: 4 });
  const ws = await store.workspaces.create({ name: 'w' });
  workspaceId = ws.id;
  projectId = (await store.projects.create({ workspaceId, name: 'p' })).id;
});
afterAll(async () => {
  await store?.close();
  await server?.stop();
});

const queued = (extra: Partial<StoredRun> = {}): StoredRun => ({
  id: randomUUID(),
  projectId,
  flowId: 'f1',
  environment: 'development',
  status: 'queued',
  queuedAt: new Date().toISOString(),
  steps: [],
  actor: 'tester',
  ...extra,
});

describe('runs on PostgreSQL', () => {
  test('the first final record wins: a later final or in-flight save does not replace it', async () => {
    const run = queued();
    await store.runs.save(run);
    await store.runs.save({ ...run, status: 'running', startedAt: new Date().toISOString() });
    const failed: StoredRun = {
      ...run,
      status: 'failed',
      error: { code: 'WORKER_LOST', message: 'worker lost' },
    };
    await store.runs.save(failed);
    await store.runs.save({ ...run, status: 'succeeded', output: { ok: true }, durationMs: 12.5 });
    await store.runs.save({ ...run, status: 'running' }); // a late snapshot
    const stored = await store.runs.get(projectId, run.id);
    expect(stored?.status).toBe('failed');
    expect(stored?.error).toEqual({ code: 'WORKER_LOST', message: 'worker lost' });
    expect(stored?.output).toBeUndefined();
  });

  test('input: stored in its column, read back, kept by saves without input, absent when never given', async () => {
    const run = queued({ input: { n: '7', nested: { a: [1, 2] } } });
    await store.runs.save(run);
    expect((await store.runs.get(projectId, run.id))?.input).toEqual({ n: '7', nested: { a: [1, 2] } });
    const { input: _input, ...withoutInput } = run;
    await store.runs.save({ ...withoutInput, status: 'succeeded', output: 1, durationMs: 3 });
    const done = await store.runs.get(projectId, run.id);
    expect(done?.status).toBe('succeeded');
    expect(done?.input).toEqual({ n: '7', nested: { a: [1, 2] } });
    const { rows } = await store.pool.query('SELECT input FROM runs WHERE id = $1', [run.id]);
    expect(rows[0].input).toEqual({ n: '7', nested: { a: [1, 2] } });

    const plain = queued();
    await store.runs.save(plain);
    expect(await store.runs.get(projectId, plain.id)).not.toHaveProperty('input');
  });

  test('queuedRunStatement inserts the record and answers the flow retries (0 when unset or no flow)', async () => {
    const withRetries = await store.flows.create({
      projectId,
      name: 'r',
      definition: { start: 'a', retries: 2, blocks: [] },
    });
    const without = await store.flows.create({
      projectId,
      name: 'n',
      definition: { start: 'a', blocks: [] },
    });
    for (const [flowId, retries] of [
      [withRetries.id, 2],
      [without.id, 0],
      ['no-such-flow', null],
    ] as const) {
      const run = queued({ flowId, input: { x: 1 } });
      const statement = store.queuedRunStatement(run);
      const result = await store.pool.query(statement.sql, statement.params);
      expect(result.rows).toEqual([{ retries }]);
      await statement.inserted();
      expect(await store.runs.get(projectId, run.id)).toEqual(run);
    }
  });

  test('finalRunStatement stores a finished record and answers a row only when it was stored (first final wins)', async () => {
    const run = queued({ input: { keep: true } });
    await store.runs.save(run);
    const { input: _input, ...plain } = run;
    const succeeded: StoredRun = { ...plain, status: 'succeeded', output: { n: 1 }, durationMs: 4 };
    const first = store.finalRunStatement(succeeded);
    expect((await store.pool.query(first.sql, first.params)).rows).toEqual([{ applied: 1 }]);
    const failed: StoredRun = { ...plain, status: 'failed', error: { code: 'WORKER_LOST', message: 'lost' } };
    const second = store.finalRunStatement(failed);
    expect((await store.pool.query(second.sql, second.params)).rows).toEqual([]);
    expect(await store.runs.get(projectId, run.id)).toEqual({ ...succeeded, input: { keep: true } });
  });

  test('finalRunStatement writes the given audit rows whether or not the record is stored; appendAudit writes several at once; an event written twice is kept once', async () => {
    const run = queued();
    await store.runs.save(run);
    const event = (n: number): AuditEvent => ({
      id: randomUUID(),
      at: new Date().toISOString(),
      workspaceId,
      projectId,
      actor: 'tester',
      action: 'secret.use',
      secret: `S${n}`,
      environment: 'development',
      flowId: 'f1',
      runId: run.id,
      details: { blockId: `b${n}` },
    });
    const send = async (statement: { sql: string; params: unknown[]; with?: string }) =>
      (
        await store.pool.query(
          `${statement.with ? `WITH ${statement.with} ` : ''}${statement.sql}`,
          statement.params,
        )
      ).rows;
    const first = [event(1), event(2)];
    expect(await send(store.finalRunStatement({ ...run, status: 'succeeded' }, first))).toEqual([
      { applied: 1 },
    ]);
    const late = [event(3)];
    expect(await send(store.finalRunStatement({ ...run, status: 'failed' }, late))).toEqual([]);
    const more = [event(4), event(5)];
    await store.appendAudit([...more, first[0]!]);
    const listed = await store.audit.list(workspaceId, { limit: 100 });
    const ofRun = listed.items.filter((e) => e.runId === run.id);
    expect(ofRun.map((e) => e.secret).sort()).toEqual(['S1', 'S2', 'S3', 'S4', 'S5']);
    expect(ofRun.find((e) => e.secret === 'S2')).toEqual(first[1]);
  });

  test('runContext reads the record, the flow, the settings and a secrets fingerprint that changes with the secrets', async () => {
    const flow = await store.flows.create({ projectId, name: 'ctx', definition: { start: 'a', blocks: [] } });
    await store.settings.put(projectId, 'B', { default: 'b' });
    await store.settings.put(projectId, 'A', { default: 'a', production: 'A' });
    const run = queued({ flowId: flow.id, input: { q: 'x' } });
    await store.runs.save(run);
    const context = await store.runContext(projectId, run.id, flow.id);
    expect(context.run).toEqual(await store.runs.get(projectId, run.id));
    expect(context.flow).toEqual(await store.flows.get(projectId, flow.id));
    expect(context.settings).toEqual(await store.settings.list(projectId));
    const before = context.secretsFingerprint;
    await store.secrets.create({
      workspaceId,
      projectId,
      name: 'S',
      type: 'text',
      visibility: 'masked',
      wrappedKey: { kekId: 'k1', iv: 'aXY=', ct: 'Y3Q=', tag: 'dGFn' },
      values: { default: { value: { iv: 'aXY=', ct: 'Y3Q=', tag: 'dGFn' } } },
    });
    const after = await store.runContext(projectId, run.id, flow.id);
    expect(after.secretsFingerprint).not.toBe(before);
    const statement = store.runContextStatement(projectId, run.id, flow.id);
    const row = (await store.pool.query(statement.sql, statement.params)).rows[0];
    expect(store.parseRunContext(row)).toEqual(after);
    const missing = await store.runContext(projectId, randomUUID(), 'no-such-flow');
    expect(missing.run).toBeUndefined();
    expect(missing.flow).toBeUndefined();
  });
});
