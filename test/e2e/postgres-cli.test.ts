// The `flowsafe` command against real child processes and a real PostgreSQL: --help on every
// subcommand, exit codes (0 ok, 1 failure, 2 usage), migrate from empty, --no-migrate refused
// in one line, rotate-key keeps every value and can run again, export/import without values,
// and `run` exit codes.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestPostgres, type TestPostgres } from '../utils/postgres';
import {
  baseEnv,
  client,
  newMasterKey,
  newToken,
  oneCallFlow,
  runFlowsafe,
  startApi,
  startUpstream,
  type Upstream,
} from './postgres-cluster';

const SUBCOMMANDS = ['start', 'worker', 'migrate', 'rotate-key', 'export', 'import', 'run'];

describe('flowsafe command', () => {
  let pgServer: TestPostgres;
  let upstream: Upstream;
  let dataDir: string;

  beforeAll(async () => {
    pgServer = await startTestPostgres();
    upstream = await startUpstream();
    dataDir = await mkdtemp(path.join(tmpdir(), 'flowsafe-cli-'));
  }, 60_000);

  afterAll(async () => {
    await upstream?.close();
    await pgServer?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('--help exits 0 on every subcommand; bad usage exits 2 with one line', async () => {
    const env = baseEnv({ FLOWSAFE_DATA_DIR: dataDir });
    const helps = await Promise.all(
      [['--help'], ...SUBCOMMANDS.map((c) => [c, '--help'])].map((args) => runFlowsafe(args, env)),
    );
    for (const h of helps) {
      expect(h.code).toBe(0);
      expect(h.stdout).toMatch(/^Usage: flowsafe/);
    }
    const bad = await Promise.all(
      [
        ['worker', '--concurrency', 'many'],
        ['run', 'p'],
        ['export'],
        ['import', 'x.json'],
        ['start', '--bogus'],
      ].map((args) => runFlowsafe(args, env)),
    );
    for (const b of bad) {
      expect(b.code, b.stderr).toBe(2);
      expect(b.stderr.trim().split('\n')).toHaveLength(1);
      expect(b.stderr).not.toMatch(/\n\s+at /);
    }
    // start is the default command: an unknown command is named as one, not as an argument of start
    const typo = await runFlowsafe(['strat'], env);
    expect(typo.code).toBe(2);
    expect(typo.stderr.trim()).toBe(
      "flowsafe: unknown command 'strat' (did you mean 'start'?); see flowsafe --help",
    );
    const unknown = await runFlowsafe(['bogus'], env);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr.trim()).toBe("flowsafe: unknown command 'bogus'; see flowsafe --help");
    const extra = await runFlowsafe(['start', 'now'], env);
    expect(extra.code).toBe(2);
    expect(extra.stderr.trim()).toBe(
      "flowsafe: start takes no arguments, got 'now'; see flowsafe start --help",
    );
    const worker = await runFlowsafe(['worker'], env);
    expect(worker.code).toBe(2);
    expect(worker.stderr).toMatch(/needs FLOWSAFE_DATABASE_URL/);
    const badUrl = await runFlowsafe(['migrate'], { ...env, FLOWSAFE_DATABASE_URL: 'mysql://x' });
    expect(badUrl.code).toBe(2);
    const down = await runFlowsafe(['start'], {
      ...env,
      FLOWSAFE_DATABASE_URL: 'postgres://u:p@127.0.0.1:1/db',
      FLOWSAFE_MASTER_KEY: newMasterKey(),
    });
    expect(down.code).toBe(1);
    expect(down.stderr.trim()).toMatch(
      /^flowsafe: cannot reach PostgreSQL at 127\.0\.0\.1:1\/db: .*ECONNREFUSED/,
    );
    expect(down.stderr.trim().split('\n')).toHaveLength(1);
  }, 60_000);

  it('migrate from empty; --no-migrate refuses pending migrations in one line', async () => {
    const url = await pgServer.createDatabase();
    const env = baseEnv({
      FLOWSAFE_DATA_DIR: dataDir,
      FLOWSAFE_DATABASE_URL: url,
      FLOWSAFE_MASTER_KEY: newMasterKey(),
    });
    const refused = await runFlowsafe(['start', '--no-migrate'], { ...env, PORT: '0' });
    expect(refused.code).toBe(1);
    expect(refused.stderr.trim()).toMatch(
      /^flowsafe: the database needs migrations 001_init, 002_run_input, 003_run_records_json; run `flowsafe migrate`/,
    );
    expect(refused.stderr.trim().split('\n')).toHaveLength(1);
    const first = await runFlowsafe(['migrate'], env);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/applied 3 migrations: 001_init, 002_run_input, 003_run_records_json/);
    expect(first.stderr).toBe(''); // piped: no progress lines
    const again = await runFlowsafe(['migrate'], env);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/up to date/);
  }, 60_000);

  it('rotate-key keeps every value and runs again; export/import carry no value; run exit codes', async () => {
    const url = await pgServer.createDatabase();
    const token = newToken();
    const oldKey = newMasterKey();
    const env = baseEnv({
      FLOWSAFE_DATA_DIR: dataDir,
      FLOWSAFE_DATABASE_URL: url,
      FLOWSAFE_MASTER_KEY: oldKey,
      FLOWSAFE_BOOTSTRAP_TOKEN: token,
      FLOWSAFE_EGRESS_ALLOW: '127.0.0.1',
    });
    const values: Record<string, unknown> = {
      TEXT: 'rotate-text-value-1234',
      BASIC: { username: 'rotate-user', password: 'rotate-pass-5678' },
      BIN: { base64: Buffer.from('rotate-binary-bytes').toString('base64') },
    };
    let api = await startApi(env, ['--workers', '2']);
    let call = client(api.url, token);
    const ws = (await call('GET', '/api/me')).body.workspaces[0].id as string;
    const p = (await call('POST', `/api/workspaces/${ws}/projects`, { name: 'Rotate' })).body.id as string;
    const types: Record<string, string> = { TEXT: 'text', BASIC: 'basic', BIN: 'binary' };
    for (const [name, value] of Object.entries(values)) {
      const r = await call('POST', `/api/projects/${p}/secrets`, {
        name,
        type: types[name],
        visibility: 'masked',
        value,
        ...(name === 'TEXT' ? { environments: { production: 'rotate-text-prod-9999' } } : {}),
      });
      expect(r.status, JSON.stringify(r.body)).toBe(201);
    }
    const ok = await call('POST', `/api/projects/${p}/flows`, {
      name: 'ok',
      definition: oneCallFlow(upstream.url),
    });
    const broken = await call('POST', `/api/projects/${p}/flows`, {
      name: 'broken',
      definition: oneCallFlow('http://127.0.0.1:1'),
    });
    expect(ok.status).toBe(201);
    const reveal = async () => {
      const out: Record<string, unknown> = {};
      for (const name of Object.keys(values))
        out[name] = (
          await call('POST', `/api/projects/${p}/secrets/${name}/reveal`, { environment: 'default' })
        ).body.value;
      out.prod = (
        await call('POST', `/api/projects/${p}/secrets/TEXT/reveal`, { environment: 'production' })
      ).body.value;
      return out;
    };
    const before = await reveal();
    expect(before).toEqual({ ...values, prod: 'rotate-text-prod-9999' });
    expect(await api.proc.stop()).toBe(0);

    // rotate, then again (nothing left to re-wrap), then start with the new key
    const newKey = newMasterKey();
    const rotated = await runFlowsafe(['rotate-key'], { ...env, FLOWSAFE_NEW_MASTER_KEY: newKey });
    expect(rotated.code, rotated.stderr).toBe(0);
    expect(rotated.stdout).toMatch(/re-wrapped 3 data keys .*\(0 already were\)/);
    const rerun = await runFlowsafe(['rotate-key'], { ...env, FLOWSAFE_NEW_MASTER_KEY: newKey });
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(rerun.stdout).toMatch(/re-wrapped 0 data keys .*\(3 already were\)/);
    const oldRefused = await runFlowsafe(['start'], { ...env, PORT: '0' });
    expect(oldRefused.code).toBe(1);
    expect(oldRefused.stderr).toMatch(/does not match/);
    const newEnv = { ...env, FLOWSAFE_MASTER_KEY: newKey };
    api = await startApi(newEnv, ['--workers', '2']);
    call = client(api.url, token);
    expect(await reveal()).toEqual(before);

    // export (file) and import: names and flows, never a value
    const file = path.join(dataDir, 'bundle.json');
    const exported = await runFlowsafe(['export', p, '-o', file], newEnv);
    expect(exported.code, exported.stderr).toBe(0);
    const bundle = await readFile(file, 'utf8');
    expect(
      JSON.parse(bundle)
        .secrets.map((s: { name: string }) => s.name)
        .sort(),
    ).toEqual(['BASIC', 'BIN', 'TEXT']);
    for (const v of [
      'rotate-text-value-1234',
      'rotate-pass-5678',
      'rotate-text-prod-9999',
      'rotate-binary-bytes',
      Buffer.from('rotate-binary-bytes').toString('base64'),
    ])
      expect(bundle).not.toContain(v);
    const imported = await runFlowsafe(['import', file, '--workspace', ws, '--name', 'Copy'], newEnv);
    expect(imported.code, imported.stderr).toBe(0);
    const copy = JSON.parse(imported.stdout) as { id: string; name: string };
    expect(copy.name).toBe('Copy');
    const copied = await call('GET', `/api/projects/${copy.id}/secrets`);
    expect(copied.body.items.map((s: { name: string }) => s.name).sort()).toEqual(['BASIC', 'BIN', 'TEXT']);
    expect(JSON.stringify(copied.body)).toMatch(/missing/);
    const noWs = await runFlowsafe(['import', file, '--workspace', 'nope'], newEnv);
    expect(noWs.code).toBe(1);

    // run: 0 and the record when it succeeds, 1 when it fails
    const good = await runFlowsafe(
      ['run', p, 'ok', '--env', 'development', '--input', '{"n":"cli"}'],
      newEnv,
    );
    expect(good.code, good.stderr).toBe(0);
    expect(JSON.parse(good.stdout).status).toBe('succeeded');
    expect(upstream.perKey.get('cli')).toBe(1);
    const bad = await runFlowsafe(['run', p, broken.body.id, '--env', 'development'], newEnv);
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.stdout).status).toBe('failed');
    const badInput = await runFlowsafe(['run', p, 'ok', '--env', 'development', '--input', '{nope'], newEnv);
    expect(badInput.code).toBe(2);
    const badEnv = await runFlowsafe(['run', p, 'ok', '--env', 'staging'], newEnv);
    expect(badEnv.code).toBe(2);
    expect(await api.proc.stop()).toBe(0);
  }, 120_000);

  it('rotate-key in the embedded mode replaces master.key after re-wrapping', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'flowsafe-rotate-'));
    try {
      const token = newToken();
      const env = baseEnv({ FLOWSAFE_DATA_DIR: dir, FLOWSAFE_BOOTSTRAP_TOKEN: token });
      let api = await startApi(env);
      let call = client(api.url, token);
      const ws = (await call('GET', '/api/me')).body.workspaces[0].id as string;
      const p = (await call('POST', `/api/workspaces/${ws}/projects`, { name: 'E' })).body.id as string;
      await call('POST', `/api/projects/${p}/secrets`, {
        name: 'K',
        type: 'text',
        visibility: 'masked',
        value: 'embedded-value-4321',
      });
      expect(await api.proc.stop()).toBe(0);
      const oldKey = await readFile(path.join(dir, 'master.key'), 'utf8');
      const rotated = await runFlowsafe(['rotate-key'], env);
      expect(rotated.code, rotated.stderr).toBe(0);
      expect(rotated.stdout).toMatch(/re-wrapped 1 data keys/);
      expect(await readFile(path.join(dir, 'master.key'), 'utf8')).not.toBe(oldKey);
      api = await startApi(env);
      call = client(api.url, token);
      const r = await call('POST', `/api/projects/${p}/secrets/K/reveal`, { environment: 'default' });
      expect(r.body.value).toBe('embedded-value-4321');
      expect(await api.proc.stop()).toBe(0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
