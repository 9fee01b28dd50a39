// `flowsafe start` as a child process (tsx on src/cli.ts): first start, owner token file,
// wrong master key, bad configuration — each failure is one line on stderr.
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const CLI = fileURLToPath(new URL('./cli.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

interface Child {
  stdout: string;
  stderr: string;
  exit: Promise<number | null>;
  kill(signal?: NodeJS.Signals): void;
  waitFor(pattern: RegExp, ms?: number): Promise<RegExpMatchArray>;
}

function start(env: Record<string, string>): Child {
  const child = spawn(process.execPath, ['--no-node-snapshot', '--import', 'tsx', CLI, 'start'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out: Child = {
    stdout: '',
    stderr: '',
    exit: new Promise((resolve) => child.on('exit', (code) => resolve(code))),
    kill: (signal = 'SIGTERM') => child.kill(signal),
    waitFor: (pattern, ms = 20_000) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(
          () =>
            reject(
              new Error(`timed out waiting for ${pattern}; stdout: ${out.stdout}; stderr: ${out.stderr}`),
            ),
          ms,
        );
        const check = () => {
          const m = out.stdout.match(pattern);
          if (m) {
            clearTimeout(timer);
            resolve(m);
          }
        };
        child.stdout.on('data', check);
        void out.exit.then(() => {
          clearTimeout(timer);
          reject(new Error(`exited; stdout: ${out.stdout}; stderr: ${out.stderr}`));
        });
        check();
      }),
  };
  child.stdout.on('data', (d: Buffer) => (out.stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out.stderr += d.toString()));
  return out;
}

describe('start-up', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'flowsafe-start-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('first start writes owner.token (0600), prints its path and never the token; SIGTERM exits cleanly', async () => {
    const child = start({ PORT: '0', FLOWSAFE_DATA_DIR: dir });
    try {
      const [, url] = (await child.waitFor(/listening on (http:\/\/127\.0\.0\.1:\d+)/)) as unknown as [
        string,
        string,
      ];
      const tokenFile = path.join(dir, 'owner.token');
      expect(child.stdout).toContain(tokenFile);
      expect((await stat(tokenFile)).mode & 0o777).toBe(0o600);
      expect((await stat(path.join(dir, 'master.key'))).mode & 0o777).toBe(0o600);
      const token = (await readFile(tokenFile, 'utf8')).trim();
      expect(token.length).toBeGreaterThan(20);
      const me = await fetch(`${url}/api/me`, { headers: { authorization: `Bearer ${token}` } });
      expect(me.status).toBe(200);
      expect(((await me.json()) as { workspaces: Array<{ name: string; role: string }> }).workspaces).toEqual(
        [expect.objectContaining({ name: 'default', role: 'owner' })],
      );
      expect((await fetch(`${url}/healthz`)).status).toBe(200);
      child.kill('SIGTERM');
      expect(await child.exit).toBe(0);
      // every log line reached stdout before the process ended (the destination writes
      // asynchronously; request lines are written at the end of their event-loop turn)
      expect(child.stdout).toMatch(/"path":"\/api\/me","status":200/);
      expect(child.stdout).toContain('"msg":"shutting down"');
      expect(child.stdout + child.stderr).not.toContain(token);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('a wrong master key is refused at start with one line', async () => {
    const child = start({
      PORT: '0',
      FLOWSAFE_DATA_DIR: dir,
      FLOWSAFE_MASTER_KEY: Buffer.alloc(32, 7).toString('base64'),
    });
    const code = await child.exit;
    expect(code).toBe(1);
    const lines = child.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/MASTER_KEY does not match/);
    expect(child.stdout).not.toContain('listening');
  });

  it.each([
    ['PORT', 'abc'],
    ['PORT', '70000'],
    ['LOG_LEVEL', 'loud'],
    ['FLOWSAFE_MASTER_KEY', 'not-base64-32-bytes'],
    ['FLOWSAFE_BOOTSTRAP_TOKEN', 'short'],
    ['FLOWSAFE_EGRESS_ALLOW', '10.0.0.0/99'],
    ['FLOWSAFE_DATABASE_URL', 'mysql://x'],
    ['FLOWSAFE_PG_PREPARED_STATEMENTS', 'maybe'],
    ['FLOWSAFE_DATABASE_URL', 'mysql://flowsafe:db-password-canary-91@db.internal/flowsafe'],
  ])('bad %s=%s stops start-up with one line and exit code 2', async (name, value) => {
    const child = start({ FLOWSAFE_DATA_DIR: dir, [name]: value });
    expect(await child.exit).toBe(2);
    const lines = child.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(name);
    // values that are secrets (or may hold one) are never echoed back
    if (['FLOWSAFE_MASTER_KEY', 'FLOWSAFE_BOOTSTRAP_TOKEN'].includes(name))
      expect(lines[0]).not.toContain(value);
    expect(lines[0]).not.toContain('db-password-canary-91');
  });

  it('FLOWSAFE_BOOTSTRAP_TOKEN becomes the owner token on an empty store and is never printed', async () => {
    const fresh = await mkdtemp(path.join(tmpdir(), 'flowsafe-start-'));
    const token = 'fs_bootstrap_token_for_tests_0123456789';
    const child = start({ PORT: '0', FLOWSAFE_DATA_DIR: fresh, FLOWSAFE_BOOTSTRAP_TOKEN: token });
    try {
      const [, url] = (await child.waitFor(/listening on (http:\/\/127\.0\.0\.1:\d+)/)) as unknown as [
        string,
        string,
      ];
      expect((await fetch(`${url}/api/me`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(
        200,
      );
      await expect(stat(path.join(fresh, 'owner.token'))).rejects.toThrow();
      child.kill('SIGINT');
      expect(await child.exit).toBe(0);
      expect(child.stdout + child.stderr).not.toContain(token);
    } finally {
      child.kill('SIGKILL');
      await rm(fresh, { recursive: true, force: true });
    }
  });
});
