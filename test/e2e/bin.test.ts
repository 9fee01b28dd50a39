// The installed `flowsafe` command (node_modules/.bin/flowsafe → apps/server/bin/flowsafe.mjs):
// it runs the built CLI under `node --no-node-snapshot` (isolated-vm asks for it), and says in
// one line what to do when nothing is built yet.
import { spawnSync } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT, startServer } from '../utils/server-process';

const SHIM = join(REPO_ROOT, 'node_modules', '.bin', 'flowsafe');
const LAUNCHER = join(REPO_ROOT, 'apps', 'server', 'bin', 'flowsafe.mjs');

describe('the flowsafe bin', () => {
  it('answers --help through the shim pnpm installed', () => {
    const r = spawnSync(SHIM, ['--help'], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^Usage: flowsafe/);
  });

  it('runs `flowsafe start` under --no-node-snapshot', async () => {
    const server = await startServer({ command: [SHIM] });
    try {
      const argv = (await readFile(`/proc/${server.pid}/cmdline`, 'utf8')).split('\0');
      expect(argv).toContain('--no-node-snapshot');
      expect(argv.some((a) => a.endsWith('flowsafe.mjs'))).toBe(true);
      expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    } finally {
      await server.stop();
    }
  });

  it('says in one line to build first when dist/cli.js is missing', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'flowsafe-bin-'));
    try {
      await mkdir(join(dir, 'bin'));
      await copyFile(LAUNCHER, join(dir, 'bin', 'flowsafe.mjs'));
      const r = spawnSync(process.execPath, [join(dir, 'bin', 'flowsafe.mjs'), '--help'], {
        encoding: 'utf8',
      });
      expect(r.status).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr).toBe('flowsafe: apps/server/dist/cli.js is missing; run `pnpm build` first\n');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
