import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import pg from 'pg';
import { startTestPostgres, type TestPostgres } from '../../../test/utils/postgres';
import { loadMigrations, migrate, pendingMigrations } from './migrate';

let server: TestPostgres;
beforeAll(async () => {
  server = await startTestPostgres();
});
afterAll(async () => {
  await server?.stop();
});

/** A pool whose idle clients may see the server stop at the end of the file without crashing the run. */
function testPool(connectionString: string): pg.Pool {
  const pool = new pg.Pool({ connectionString });
  pool.on('error', () => undefined);
  return pool;
}

async function tables(pool: pg.Pool): Promise<string[]> {
  const { rows } = await pool.query<{ tablename: string }>(
    "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename",
  );
  return rows.map((r) => r.tablename);
}

describe('migrations', () => {
  test('apply from an empty database, in order, and record each', async () => {
    const pool = testPool(await server.createDatabase());
    try {
      const all = await loadMigrations();
      expect(all.length).toBeGreaterThan(0);
      expect(await pendingMigrations(pool)).toEqual(all.map((m) => m.id));
      const seen: string[] = [];
      const applied = await migrate(pool, { onProgress: (e) => seen.push(e.id) });
      expect(applied).toEqual(all.map((m) => m.id));
      expect(seen).toEqual(applied);
      expect(await pendingMigrations(pool)).toEqual([]);
      expect(await tables(pool)).toEqual(
        expect.arrayContaining(['secrets', 'secret_values', 'runs', 'flowsafe_migrations']),
      );
      // re-running is a no-op
      expect(await migrate(pool)).toEqual([]);
    } finally {
      await pool.end();
    }
  });

  test('from every earlier migration to the latest', async () => {
    const all = await loadMigrations();
    for (let k = 0; k < all.length; k++) {
      const pool = testPool(await server.createDatabase());
      try {
        await migrate(pool, { migrations: all.slice(0, k) });
        expect(await pendingMigrations(pool)).toEqual(all.slice(k).map((m) => m.id));
        expect(await migrate(pool)).toEqual(all.slice(k).map((m) => m.id));
        expect(await pendingMigrations(pool)).toEqual([]);
      } finally {
        await pool.end();
      }
    }
  });

  test('003 keeps the run records written before it, value for value', async () => {
    const pool = testPool(await server.createDatabase());
    try {
      const all = await loadMigrations();
      const at = all.findIndex((m) => m.id.startsWith('003_'));
      expect(at).toBeGreaterThan(0);
      await migrate(pool, { migrations: all.slice(0, at) });
      const steps = [
        { blockId: 'call', status: 'succeeded', response: { body: { z: 1, a: [1, 'ü', null] } } },
      ];
      const output = { r: { status: 200 }, n: '1' };
      const error = { code: 'X', message: 'quote " and \\ backslash' };
      const input = { n: '1', nested: { k: true } };
      await pool.query(
        `INSERT INTO runs (id, project_id, flow_id, environment, status, queued_at, steps, output, error, input)
         VALUES ('r1', 'p1', 'f1', 'development', 'failed', now(), $1, $2, $3, $4)`,
        [JSON.stringify(steps), JSON.stringify(output), JSON.stringify(error), JSON.stringify(input)],
      );
      await migrate(pool);
      const { rows } = await pool.query('SELECT steps, output, error, input FROM runs WHERE id = $1', ['r1']);
      expect(rows[0]).toEqual({ steps, output, error, input });
    } finally {
      await pool.end();
    }
  });

  test('a migration that fails leaves the schema as it was', async () => {
    const pool = testPool(await server.createDatabase());
    try {
      const all = await loadMigrations();
      await migrate(pool);
      const before = await tables(pool);
      const broken = {
        id: '999_broken',
        sql: 'CREATE TABLE half_done (id int); SELECT * FROM no_such_table;',
      };
      await expect(migrate(pool, { migrations: [...all, broken] })).rejects.toMatchObject({
        code: 'MIGRATION_FAILED',
      });
      expect(await tables(pool)).toEqual(before);
      expect(await pendingMigrations(pool, [...all, broken])).toEqual(['999_broken']);
    } finally {
      await pool.end();
    }
  });
});
