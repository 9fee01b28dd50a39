import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFile, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KeyRing, MasterKey, type SecretType, type SecretValue } from '@flowsafe/secrets';
import { describeStoreContract } from '../../../test/utils/store-contract';
import { openLowdbStore } from './lowdb-store';
import type { StoreLogger } from './store-error';
import type { Store, StoredRun } from './types';

async function tempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'flowsafe-store-'));
}

describeStoreContract('lowdb', async () => {
  const dataDir = await tempDir();
  const store = await openLowdbStore({ dataDir });
  return {
    store,
    cleanup: async () => {
      await store.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
});

function run(projectId: string, i: number): StoredRun {
  return {
    id: `run-${i}`,
    projectId,
    flowId: 'flow-1',
    environment: 'production',
    status: 'succeeded',
    queuedAt: new Date().toISOString(),
    steps: [{ i }],
  };
}

function memoryLogger(): StoreLogger & { lines: Array<{ obj: Record<string, unknown>; msg: string }> } {
  const lines: Array<{ obj: Record<string, unknown>; msg: string }> = [];
  return { lines, warn: (obj, msg) => lines.push({ obj, msg }) };
}

describe('lowdb store', () => {
  let dataDir: string;
  let store: Store | undefined;
  beforeEach(async () => {
    dataDir = await tempDir();
  });
  afterEach(async () => {
    await store?.close();
    store = undefined;
    await rm(dataDir, { recursive: true, force: true });
  });

  it('keeps everything across a reopen, in a 0600 main file', async () => {
    store = await openLowdbStore({ dataDir });
    const ws = await store.workspaces.create({ name: 'Acme' });
    const project = await store.projects.create({ workspaceId: ws.id, name: 'P' });
    await store.settings.put(project.id, 'URL', { default: 'https://example.com' });
    const saved = run(project.id, 1);
    await store.runs.save(saved);
    await store.audit.append({ workspaceId: ws.id, actor: 'system', action: 'key.rotate' });
    await store.close();

    store = await openLowdbStore({ dataDir });
    expect(await store.projects.get(project.id)).toEqual(project);
    expect(await store.settings.get(project.id, 'URL')).toBeDefined();
    expect(await store.runs.get(project.id, 'run-1')).toEqual(saved);
    expect((await store.audit.list(ws.id)).items).toHaveLength(1);
    expect((await stat(join(dataDir, 'flowsafe.json'))).mode & 0o777).toBe(0o600);
  });

  it('1,000 parallel updates all land (in memory and on disk)', async () => {
    store = await openLowdbStore({ dataDir });
    const ws = await store.workspaces.create({ name: 'Acme' });
    const project = await store.projects.create({ workspaceId: ws.id, name: 'P' });
    const s = store;
    await Promise.all(
      Array.from({ length: 1000 }, (_, i) =>
        i % 2 === 0
          ? s.settings.put(project.id, `S${i}`, { default: String(i) })
          : s.meta.set(`m${i}`, String(i)),
      ),
    );
    await Promise.all(Array.from({ length: 200 }, (_, i) => s.runs.save(run(project.id, i))));
    expect(await store.settings.list(project.id)).toHaveLength(500);
    await store.close();

    store = await openLowdbStore({ dataDir });
    expect(await store.settings.list(project.id)).toHaveLength(500);
    for (let i = 1; i < 1000; i += 2) expect(await store.meta.get(`m${i}`)).toBe(String(i));
    expect((await store.runs.list(project.id, { limit: 1000 })).items).toHaveLength(200);
  });

  it('a writer killed with SIGKILL leaves a store with every acknowledged write', async () => {
    const script = fileURLToPath(new URL('./fixtures/kill-writer.ts', import.meta.url));
    const child = spawn(process.execPath, ['--import', 'tsx', script, dataDir], {
      cwd: fileURLToPath(new URL('../../..', import.meta.url)),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`child made too little progress: ${err}`)), 20_000);
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        if ((out.match(/^ack /gm)?.length ?? 0) >= 150) {
          clearTimeout(timer);
          child.kill('SIGKILL');
          resolve();
        }
      });
      child.on('exit', () => {
        clearTimeout(timer);
        reject(new Error(`child exited early: ${err}`));
      });
    }).catch(async (e: unknown) => {
      child.kill('SIGKILL');
      await exited;
      throw e;
    });
    await exited;
    // read only what the child said before it died
    const projectId = /^project (\S+)$/m.exec(out)?.[1] as string;
    const acked = [...out.matchAll(/^ack (\d+)$/gm)].map((m) => Number(m[1]));
    expect(acked.length).toBeGreaterThanOrEqual(150);

    store = await openLowdbStore({ dataDir, logger: memoryLogger() });
    for (const i of acked) {
      expect(await store.meta.get(`k${i}`)).toBe(`v${i}`);
      expect((await store.runs.get(projectId, `run-${i}`))?.steps).toEqual([{ i }]);
    }
    // and it keeps working
    await store.meta.set('after', 'crash');
    await store.runs.save(run(projectId, 999_999));
    expect((await store.runs.list(projectId, { limit: 1 })).items[0]?.id).toBe('run-999999');
  });

  it('skips a torn last line of a run file with a warning, and appends cleanly after it', async () => {
    store = await openLowdbStore({ dataDir });
    const ws = await store.workspaces.create({ name: 'Acme' });
    const project = await store.projects.create({ workspaceId: ws.id, name: 'P' });
    await store.runs.save(run(project.id, 1));
    await store.runs.save(run(project.id, 2));
    await store.close();
    const file = join(dataDir, 'runs', `${project.id}.jsonl`);
    await appendFile(file, '{"id":"run-3","projectId":"');

    const logger = memoryLogger();
    store = await openLowdbStore({ dataDir, logger });
    expect((await store.runs.list(project.id)).items.map((r) => r.id)).toEqual(['run-2', 'run-1']);
    expect(logger.lines).toHaveLength(1);
    expect(logger.lines[0]?.msg).toMatch(/torn last line/);
    expect(logger.lines[0]?.obj.file).toBe(file);
    await store.runs.save(run(project.id, 4));
    await store.close();

    store = await openLowdbStore({ dataDir });
    expect((await store.runs.list(project.id)).items.map((r) => r.id)).toEqual(['run-4', 'run-2', 'run-1']);
  });

  it('keeps a complete last record whose newline was lost', async () => {
    store = await openLowdbStore({ dataDir });
    const ws = await store.workspaces.create({ name: 'Acme' });
    const project = await store.projects.create({ workspaceId: ws.id, name: 'P' });
    await store.close();
    await writeFile(join(dataDir, 'runs', `${project.id}.jsonl`), JSON.stringify(run(project.id, 1)));
    store = await openLowdbStore({ dataDir });
    await store.runs.save(run(project.id, 2));
    expect((await store.runs.list(project.id)).items.map((r) => r.id)).toEqual(['run-2', 'run-1']);
  });

  it('refuses a damaged line in the middle of a run file, naming the file', async () => {
    store = await openLowdbStore({ dataDir });
    const ws = await store.workspaces.create({ name: 'Acme' });
    const project = await store.projects.create({ workspaceId: ws.id, name: 'P' });
    const file = join(dataDir, 'runs', `${project.id}.jsonl`);
    await writeFile(
      file,
      `${JSON.stringify(run(project.id, 1))}\nnot json\n${JSON.stringify(run(project.id, 2))}\n`,
    );
    await expect(store.runs.list(project.id)).rejects.toMatchObject({
      code: 'STORE_FILE_INVALID',
      message: expect.stringContaining(file),
    });
  });

  it.each([
    ['not JSON', '{"version": 1, "users": ['],
    ['empty', ''],
    ['the wrong shape', JSON.stringify({ version: 1, users: 'nope' })],
    ['an unknown version', JSON.stringify({ version: 2 })],
  ])('refuses a main file that is %s, naming it and leaving it as it was', async (_what, content) => {
    const file = join(dataDir, 'flowsafe.json');
    await writeFile(file, content);
    await expect(openLowdbStore({ dataDir })).rejects.toMatchObject({
      code: 'STORE_FILE_INVALID',
      message: expect.stringContaining(file),
    });
    expect(await readFile(file, 'utf8')).toBe(content);
  });

  it('retention: keeps the newest runs per project and compacts the file', async () => {
    store = await openLowdbStore({ dataDir, retention: { runsPerProject: 20 } });
    const ws = await store.workspaces.create({ name: 'Acme' });
    const project = await store.projects.create({ workspaceId: ws.id, name: 'P' });
    for (let i = 0; i < 400; i++) {
      await store.runs.save({ ...run(project.id, i), status: 'running' });
      await store.runs.save(run(project.id, i));
    }
    const file = join(dataDir, 'runs', `${project.id}.jsonl`);
    const lines = (await readFile(file, 'utf8')).split('\n').filter(Boolean).length;
    expect(lines).toBeLessThanOrEqual(2 * 20 + 100);
    const listed = (await store.runs.list(project.id, { limit: 1000 })).items;
    expect(listed.length).toBeGreaterThanOrEqual(20);
    expect(listed.length).toBeLessThanOrEqual(20 + 100);
    expect(listed[0]?.id).toBe('run-399');
    expect(listed.every((r) => r.status === 'succeeded')).toBe(true);
    await store.close();

    store = await openLowdbStore({ dataDir, retention: { runsPerProject: 20 } });
    const reopened = (await store.runs.list(project.id, { limit: 1000 })).items;
    expect(reopened.map((r) => r.id)).toEqual(listed.map((r) => r.id));
  });

  it('a transaction that throws appends no run or audit record either', async () => {
    store = await openLowdbStore({ dataDir });
    const ws = await store.workspaces.create({ name: 'Acme' });
    const project = await store.projects.create({ workspaceId: ws.id, name: 'P' });
    await expect(
      store.transaction(async (tx) => {
        await tx.runs.save(run(project.id, 1));
        await tx.audit.append({ workspaceId: ws.id, actor: 'system', action: 'project.import' });
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    expect((await store.runs.list(project.id)).items).toEqual([]);
    expect((await store.audit.list(ws.id)).items).toEqual([]);
  });

  it('refuses writes through the outer store inside a transaction instead of deadlocking', async () => {
    store = await openLowdbStore({ dataDir });
    const outer = store;
    await expect(outer.transaction(async () => outer.meta.set('k', 'v'))).rejects.toMatchObject({
      code: 'INVALID_INPUT',
    });
    await outer.meta.set('k', 'v2');
    expect(await outer.meta.get('k')).toBe('v2');
  });

  it('deleting a project deletes its run file', async () => {
    store = await openLowdbStore({ dataDir });
    const ws = await store.workspaces.create({ name: 'Acme' });
    const project = await store.projects.create({ workspaceId: ws.id, name: 'P' });
    await store.runs.save(run(project.id, 1));
    expect(await readdir(join(dataDir, 'runs'))).toEqual([`${project.id}.jsonl`]);
    await store.projects.delete(project.id);
    expect(await readdir(join(dataDir, 'runs'))).toEqual([]);
  });

  it('refuses ids that would escape the data directory', async () => {
    store = await openLowdbStore({ dataDir });
    await expect(store.runs.save(run('../evil', 1))).rejects.toMatchObject({ code: 'INVALID_INPUT' });
  });
});

describe('invariant 1: the data directory holds no secret value in any encoding', () => {
  it('after creating secrets of every type with canary values', async () => {
    const dataDir = await tempDir();
    const store = await openLowdbStore({ dataDir });
    try {
      const ring = new KeyRing(MasterKey.generate());
      await store.meta.set('kcv', ring.checkValue());
      const ws = await store.workspaces.create({ name: 'Acme' });
      const project = await store.projects.create({ workspaceId: ws.id, name: 'P' });
      const canary = (label: string) => `${label}-${randomBytes(12).toString('hex')}`;
      const pem = `-----BEGIN PRIVATE KEY-----\n${randomBytes(48).toString('base64')}\n-----END PRIVATE KEY-----\n`;
      const values: Array<[string, SecretType, SecretValue]> = [
        ['TEXT', 'text', canary('text/with "quotes" & spaces')],
        ['BINARY', 'binary', { base64: Buffer.from(pem).toString('base64'), filename: 'key.pem' }],
        ['BASIC', 'basic', { username: canary('user'), password: canary('pass:word') }],
        [
          'OAUTH',
          'oauth2',
          {
            clientId: canary('client'),
            clientSecret: canary('secret+/='),
            tokenUrl: 'https://auth.example.com/token',
          },
        ],
      ];
      for (const [name, type, value] of values) {
        const secretId = `sec-${name.toLowerCase()}`;
        const wrappedKey = ring.newDataKey();
        const seal = (environment: string) =>
          ring.seal(
            wrappedKey,
            { workspaceId: ws.id, projectId: project.id, secretId, environment },
            type,
            value,
          );
        await store.secrets.create({
          id: secretId,
          workspaceId: ws.id,
          projectId: project.id,
          name,
          type,
          visibility: 'masked',
          wrappedKey,
          values: { default: seal('default'), production: seal('production') },
        });
        await store.audit.append({
          workspaceId: ws.id,
          projectId: project.id,
          actor: 'system',
          action: 'secret.create',
          secret: name,
        });
      }
      await store.runs.save(run(project.id, 1));
      await store.close();

      const needles: string[] = [];
      const forms = (s: string) => {
        const b64 = Buffer.from(s).toString('base64');
        const b64url = Buffer.from(s).toString('base64url');
        needles.push(
          s,
          b64,
          b64.replace(/=+$/, ''),
          b64url,
          `${b64url}${'='.repeat((4 - (b64url.length % 4)) % 4)}`,
        );
        needles.push(encodeURIComponent(s), JSON.stringify(s).slice(1, -1));
      };
      forms(values[0]?.[2] as string);
      forms(pem);
      for (const line of pem.split('\n')) if (line.length >= 8) forms(line);
      forms(Buffer.from(pem).toString('base64'));
      const basic = values[2]?.[2] as { username: string; password: string };
      forms(basic.username);
      forms(basic.password);
      forms(`${basic.username}:${basic.password}`);
      const oauth = values[3]?.[2] as { clientId: string; clientSecret: string };
      forms(oauth.clientId);
      forms(oauth.clientSecret);
      forms(`${oauth.clientId}:${oauth.clientSecret}`);

      const files = (await readdir(dataDir, { recursive: true, withFileTypes: true })).filter((d) =>
        d.isFile(),
      );
      expect(files.map((f) => f.name)).toEqual(expect.arrayContaining(['flowsafe.json']));
      let checked = 0;
      for (const f of files) {
        const raw = await readFile(join(f.parentPath, f.name), 'utf8');
        for (const needle of needles) {
          expect(raw.includes(needle), `${f.name} contains a form of a canary`).toBe(false);
          checked++;
        }
      }
      expect(checked).toBeGreaterThan(needles.length * 2);
      // and the values are really there, sealed
      const reopened = await openLowdbStore({ dataDir });
      const secret = await reopened.secrets.get(project.id, 'BASIC');
      await reopened.close();
      const ctx = {
        workspaceId: ws.id,
        projectId: project.id,
        secretId: 'sec-basic',
        environment: 'production',
      };
      expect(ring.open(secret!.wrappedKey, ctx, 'basic', secret!.values.production!)).toEqual(basic);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
