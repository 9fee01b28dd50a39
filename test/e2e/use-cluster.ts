// The fixture of a PostgreSQL-mode end-to-end test file (vitest only; bench/scale.ts uses
// postgres-cluster.ts directly): a fresh PostgreSQL, a counting local upstream, a data dir
// and the flowsafe processes the file starts, all stopped after it.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { startTestPostgres, type TestPostgres } from '../utils/postgres';
import { baseEnv, newMasterKey, newToken, startUpstream, type Proc, type Upstream } from './postgres-cluster';

/** What one PostgreSQL-mode test file runs on: a fresh PostgreSQL, a counting upstream, a
 *  data dir, and the flowsafe processes it starts (stopped after the file). */
export interface Cluster {
  pg: TestPostgres;
  upstream: Upstream;
  dataDir: string;
  procs: Proc[];
  /** the environment of a flowsafe process on this cluster, with a new master key and owner token */
  env(extra?: Record<string, string>): { env: Record<string, string>; token: string };
}

/** Registers beforeAll/afterAll for a cluster; call at describe level, read it inside tests. */
export function useCluster(opts: {
  name: string;
  upstream?: { record?: boolean; delayMs?: number };
}): () => Cluster {
  let cluster: Cluster | undefined;
  beforeAll(async () => {
    const pgServer = await startTestPostgres();
    const upstream = await startUpstream(opts.upstream ?? {});
    const dataDir = await mkdtemp(path.join(tmpdir(), `flowsafe-${opts.name}-`));
    cluster = {
      pg: pgServer,
      upstream,
      dataDir,
      procs: [],
      env(extra = {}) {
        const token = newToken();
        const env = baseEnv({
          FLOWSAFE_DATABASE_URL: pgServer.url,
          FLOWSAFE_MASTER_KEY: newMasterKey(),
          FLOWSAFE_DATA_DIR: dataDir,
          FLOWSAFE_BOOTSTRAP_TOKEN: token,
          FLOWSAFE_EGRESS_ALLOW: '127.0.0.1',
          ...extra,
        });
        return { env, token };
      },
    };
  }, 60_000);
  afterAll(async () => {
    if (!cluster) return;
    await Promise.all(cluster.procs.map((p) => p.stop(5000)));
    await cluster.upstream.close();
    await cluster.pg.stop();
    await rm(cluster.dataDir, { recursive: true, force: true });
  });
  return () => {
    if (!cluster) throw new Error('the cluster is only there inside tests');
    return cluster;
  };
}
