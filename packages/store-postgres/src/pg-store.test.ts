import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import pg from 'pg';
import { startTestPostgres, type TestPostgres } from '../../../test/utils/postgres';
import { describeStoreContract } from '../../../test/utils/store-contract';
import { migrate } from './migrate';
import { checkDatabaseUrl, openPostgresStore } from './pg-store';

let server: TestPostgres;
beforeAll(async () => {
  server = await startTestPostgres();
});
afterAll(async () => {
  await server?.stop();
});

async function freshStore() {
  const url = await server.createDatabase();
  const pool = new pg.Pool({ connectionString: url });
  await migrate(pool);
  await pool.end();
  const store = openPostgresStore({ connectionString: url, max: 4 });
  return { store, cleanup: () => store.close() };
}

describeStoreContract('postgres', freshStore);

describe('postgres adapter', () => {
  test('sealed values are bytea rows, one per field', async () => {
    const { store, cleanup } = await freshStore();
    try {
      const ws = await store.workspaces.create({ name: 'w' });
      const project = await store.projects.create({ workspaceId: ws.id, name: 'p' });
      const blob = { iv: Buffer.from('iv-bytes-12b').toString('base64'), ct: 'Y3Q=', tag: 'dGFn' };
      await store.secrets.create({
        workspaceId: ws.id,
        projectId: project.id,
        name: 'BASIC',
        type: 'basic',
        visibility: 'masked',
        wrappedKey: { kekId: 'k1', iv: 'aXY=', ct: 'Y3Q=', tag: 'dGFn' },
        values: {
          default: { username: blob, password: blob },
          production: { username: blob, password: blob },
        },
      });
      const { rows } = await store.pool.query(
        'SELECT environment, field, pg_typeof(ct)::text AS t FROM secret_values ORDER BY environment, field',
      );
      expect(rows).toEqual([
        { environment: 'default', field: 'password', t: 'bytea' },
        { environment: 'default', field: 'username', t: 'bytea' },
        { environment: 'production', field: 'password', t: 'bytea' },
        { environment: 'production', field: 'username', t: 'bytea' },
      ]);
    } finally {
      await cleanup();
    }
  });

  test('a transaction that throws leaves nothing behind', async () => {
    const { store, cleanup } = await freshStore();
    try {
      const ws = await store.workspaces.create({ name: 'w' });
      await expect(
        store.transaction(async (tx) => {
          await tx.projects.create({ workspaceId: ws.id, name: 'half' });
          throw new Error('boom');
        }),
      ).rejects.toThrow('boom');
      expect(await store.projects.listByWorkspace(ws.id)).toEqual([]);
    } finally {
      await cleanup();
    }
  });

  test('a bad database URL is refused with one clear line', () => {
    expect(() => checkDatabaseUrl('mysql://x@y/z')).toThrow(/postgres:\/\//);
    expect(() => checkDatabaseUrl('not a url')).toThrow(/FLOWSAFE_DATABASE_URL/);
  });

  test('an unreachable database is a clear error, not a stack trace', async () => {
    const store = openPostgresStore({ connectionString: 'postgres://u:p@127.0.0.1:1/db' });
    try {
      await expect(store.transaction(async () => undefined)).rejects.toMatchObject({
        code: 'DATABASE_UNREACHABLE',
      });
    } finally {
      await store.close();
    }
  });
});
