// Starts a real flowsafe server (`node apps/server/dist/cli.js start`) as a child process on a
// free 127.0.0.1 port with a temp data dir, waits for /healthz, and stops it. Used by the
// browser tests and bench/editor.ts, which must run against the real server, not a stub.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const REPO_ROOT = resolve(import.meta.dirname, '..', '..');
export const SERVER_CLI = join(REPO_ROOT, 'apps', 'server', 'dist', 'cli.js');
export const EDITOR_DIST = join(REPO_ROOT, 'apps', 'editor', 'dist', 'index.html');

export interface ServerProcess {
  url: string;
  port: number;
  token: string;
  dataDir: string;
  /** the process started (the server itself when `command` execs it, as the bin shim does) */
  pid: number;
  /** everything the process wrote to stdout and stderr so far */
  output(): string;
  stop(): Promise<void>;
}

export interface StartOptions {
  env?: Record<string, string>;
  /** default 127.0.0.1 (the browser tests' local upstream) */
  egressAllow?: string;
  timeoutMs?: number;
  /** what to run with the argument `start`; default node --no-node-snapshot dist/cli.js */
  command?: readonly string[];
}

/** A port the OS says is free right now on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      s.close(() => res(port));
    });
  });
}

export function assertBuilt(): void {
  if (!existsSync(SERVER_CLI))
    throw new Error(`${SERVER_CLI} is missing: run \`pnpm build\` (pnpm test builds first)`);
  if (!existsSync(EDITOR_DIST)) throw new Error(`${EDITOR_DIST} is missing: run \`pnpm build\``);
}

export async function startServer(opts: StartOptions = {}): Promise<ServerProcess> {
  assertBuilt();
  const dataDir = await mkdtemp(join(tmpdir(), 'flowsafe-browser-'));
  const token = `fs_test_${randomBytes(18).toString('hex')}`;
  const port = await freePort();
  const [file, ...args] = opts.command ?? [process.execPath, '--no-node-snapshot', SERVER_CLI];
  const child: ChildProcess = spawn(file!, [...args, 'start'], {
    cwd: REPO_ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? tmpdir(),
      NODE_ENV: 'production',
      PORT: String(port),
      HOST: '127.0.0.1',
      FLOWSAFE_DATA_DIR: dataDir,
      FLOWSAFE_BOOTSTRAP_TOKEN: token,
      FLOWSAFE_EGRESS_ALLOW: opts.egressAllow ?? '127.0.0.1',
      LOG_LEVEL: 'warn',
      ...opts.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  let exited: number | null = null;
  const exit = new Promise<void>((res) =>
    child.once('exit', (code) => {
      exited = code ?? -1;
      res();
    }),
  );
  const url = `http://127.0.0.1:${port}`;

  const stop = async () => {
    if (exited === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exit;
      clearTimeout(timer);
    }
    await rm(dataDir, { recursive: true, force: true });
  };

  const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
  for (;;) {
    if (exited !== null) {
      await rm(dataDir, { recursive: true, force: true });
      throw new Error(`flowsafe exited with ${exited} before it was healthy:\n${out}`);
    }
    try {
      const r = await fetch(`${url}/healthz`);
      if (r.ok) break;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`flowsafe did not answer /healthz within the time limit:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { url, port, token, dataDir, pid: child.pid!, output: () => out, stop };
}

/** A small authenticated JSON client for test set-up against the real API. */
export function apiClient(url: string, token: string) {
  return async function call<T = unknown>(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: T }> {
    const r = await fetch(`${url}${path}`, {
      method,
      headers: {
        Authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await r.text();
    return { status: r.status, body: (text ? JSON.parse(text) : undefined) as T };
  };
}
