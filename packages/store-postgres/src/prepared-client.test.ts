import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import pg from 'pg';
import { startTestPostgres, type TestPostgres } from '../../../test/utils/postgres';
import { openPostgresStore } from './pg-store';
import { PreparingClient, statementName } from './prepared-client';

let server: TestPostgres;
let pool: pg.Pool;

beforeAll(async () => {
  server = await startTestPostgres();
  // one connection, so every query below sees the same session's prepared statements
  pool = new pg.Pool({ connectionString: await server.createDatabase(), max: 1, Client: PreparingClient });
  pool.on('error', () => undefined); // the server stopping under an idle connection
});
afterAll(async () => {
  await pool?.end();
  await server?.stop();
});

const unique = () => randomBytes(4).toString('hex');

async function prepared(): Promise<string[]> {
  const result = await pool.query<{ statement: string }>('SELECT statement FROM pg_prepared_statements');
  return result.rows.map((r) => r.statement);
}

describe('PreparingClient', () => {
  test('a text is named on its second use, always with the same name', () => {
    const text = `SELECT $1::int AS n /* ${unique()} */`;
    expect(statementName(text)).toBeUndefined();
    const name = statementName(text);
    expect(name).toMatch(/^flowsafe_[0-9a-f]{24}$/);
    expect(statementName(text)).toBe(name);
    expect(statementName(`${text} `)).toBeUndefined();
  });

  test('a repeated parameterised statement is prepared once per connection and answers as before', async () => {
    const text = `SELECT $1::int + 1 AS n /* ${unique()} */`;
    for (let i = 0; i < 4; i++) {
      const result = await pool.query<{ n: number }>(text, [i]);
      expect(result.rows).toEqual([{ n: i + 1 }]);
    }
    expect((await prepared()).filter((s) => s === text)).toHaveLength(1);
  });

  test('statements without values, and the callback form, still work', async () => {
    const text = `SELECT 1 AS one /* ${unique()} */`;
    await pool.query(text);
    await pool.query(text);
    expect(await prepared()).not.toContain(text);
    const client = await pool.connect();
    try {
      const viaCallback = `SELECT $1::text AS v /* ${unique()} */`;
      for (let i = 0; i < 3; i++) {
        const value = await new Promise<unknown>((resolve, reject) => {
          client.query(viaCallback, [`x${i}`], (err: Error | undefined, result: pg.QueryResult) =>
            err ? reject(err) : resolve(result.rows[0]?.v),
          );
        });
        expect(value).toBe(`x${i}`);
      }
      expect(await client.query('SELECT statement FROM pg_prepared_statements')).toMatchObject({
        rows: expect.arrayContaining([{ statement: viaCallback }]),
      });
    } finally {
      client.release();
    }
  });

  test('errors reach the caller unchanged', async () => {
    const text = `SELECT 1 / $1::int AS n /* ${unique()} */`;
    await pool.query(text, [1]);
    await pool.query(text, [1]);
    await expect(pool.query(text, [0])).rejects.toMatchObject({ code: '22012' });
  });

  test('a statement whose table changed shape meanwhile is sent again unnamed', async () => {
    const table = `t_${unique()}`;
    await pool.query(`CREATE TABLE ${table} (id int PRIMARY KEY, a text)`);
    await pool.query(`INSERT INTO ${table} VALUES (1, 'x')`);
    const text = `SELECT * FROM ${table} WHERE id = $1`;
    await pool.query(text, [1]);
    await pool.query(text, [1]); // prepared now
    expect(await prepared()).toContain(text);
    await pool.query(`ALTER TABLE ${table} ADD COLUMN b text DEFAULT 'y'`);
    for (let i = 0; i < 2; i++) {
      const result = await pool.query(text, [1]);
      expect(result.rows).toEqual([{ id: 1, a: 'x', b: 'y' }]);
    }
  });

  test('openPostgresStore uses it unless preparedStatements is false', async () => {
    const url = await server.createDatabase();
    for (const preparedStatements of [true, false]) {
      const store = openPostgresStore({ connectionString: url, max: 1, preparedStatements });
      try {
        const text = `SELECT $1::int AS n /* ${unique()} */`;
        for (let i = 0; i < 3; i++) await store.pool.query(text, [i]);
        const names = await store.pool.query<{ statement: string }>(
          'SELECT statement FROM pg_prepared_statements',
        );
        expect(names.rows.some((r) => r.statement === text)).toBe(preparedStatements);
      } finally {
        await store.close();
      }
    }
  });
});
