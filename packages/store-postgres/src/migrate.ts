// Versioned schema migrations: plain .sql files in ../migrations applied in name order, each
// in its own transaction and recorded in flowsafe_migrations. An advisory lock keeps two
// processes (an API and a worker starting together) from migrating at once.
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import type { Pool } from 'pg';
import { PostgresStoreError } from './errors';

const LOCK_ID = 7_302_114_511; // arbitrary, stable: "flowsafe migrations"

export interface Migration {
  id: string;
  sql: string;
}

/** ../migrations of this package, or ./migrations next to a bundle that copied them (dist/cli.js). */
export const defaultMigrationsDir =
  [
    fileURLToPath(new URL('./migrations', import.meta.url)),
    fileURLToPath(new URL('../migrations', import.meta.url)),
  ].find((dir) => existsSync(dir)) ?? fileURLToPath(new URL('../migrations', import.meta.url));

/** Read the migrations folder: files named NNN_name.sql, sorted. */
export async function loadMigrations(dir: string = defaultMigrationsDir): Promise<Migration[]> {
  const files = (await readdir(dir)).filter((f) => /^\d+_[\w-]+\.sql$/.test(f)).sort();
  return Promise.all(
    files.map(async (f) => ({ id: f.replace(/\.sql$/, ''), sql: await readFile(path.join(dir, f), 'utf8') })),
  );
}

export interface MigrateOptions {
  migrations?: Migration[];
  /** called before each migration is applied */
  onProgress?: (event: { id: string; index: number; total: number }) => void;
}

async function ensureTable(pool: Pool): Promise<void> {
  await pool.query(
    'CREATE TABLE IF NOT EXISTS flowsafe_migrations (id text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())',
  );
}

/** Ids of migrations not yet applied. */
export async function pendingMigrations(pool: Pool, migrations?: Migration[]): Promise<string[]> {
  const all = migrations ?? (await loadMigrations());
  await ensureTable(pool);
  const { rows } = await pool.query<{ id: string }>('SELECT id FROM flowsafe_migrations');
  const done = new Set(rows.map((r) => r.id));
  return all.filter((m) => !done.has(m.id)).map((m) => m.id);
}

/** Apply every pending migration in order; returns the ids applied. */
export async function migrate(pool: Pool, options: MigrateOptions = {}): Promise<string[]> {
  const all = options.migrations ?? (await loadMigrations());
  await ensureTable(pool);
  const client = await pool.connect();
  const applied: string[] = [];
  try {
    await client.query('SELECT pg_advisory_lock($1)', [LOCK_ID]);
    const { rows } = await client.query<{ id: string }>('SELECT id FROM flowsafe_migrations');
    const done = new Set(rows.map((r) => r.id));
    const todo = all.filter((m) => !done.has(m.id));
    for (const [index, m] of todo.entries()) {
      options.onProgress?.({ id: m.id, index, total: todo.length });
      try {
        await client.query('BEGIN');
        await client.query(m.sql);
        await client.query('INSERT INTO flowsafe_migrations (id) VALUES ($1)', [m.id]);
        await client.query('COMMIT');
        applied.push(m.id);
      } catch (err) {
        await client.query('ROLLBACK');
        throw new PostgresStoreError(
          'MIGRATION_FAILED',
          `migration ${m.id} failed and was rolled back: ${(err as Error).message}`,
        );
      }
    }
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [LOCK_ID]).catch(() => undefined);
    client.release();
  }
  return applied;
}
