// The one contract every Store adapter passes (lowdb now, PostgreSQL later): each
// repository method, transactions, and that no caller changes stored state through a returned
// object or its own input afterwards. Adapter-specific behaviour (files, crashes) is tested
// beside each adapter.
import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
// by path: the root package does not depend on the workspace packages by name
import type { SealedValue, WrappedKey } from '../../packages/secrets/src/index';
import type { Project, Store, StoredRun, Workspace } from '../../packages/store/src/index';

export interface OpenedStore {
  store: Store;
  cleanup: () => Promise<void>;
}

const b64 = (): string => Buffer.from(randomUUID()).toString('base64');
const wrappedKey = (): WrappedKey => ({ kekId: '0123456789abcdef', iv: b64(), ct: b64(), tag: b64() });
const sealed = (...fields: string[]): SealedValue =>
  Object.fromEntries(fields.map((f) => [f, { iv: b64(), ct: b64(), tag: b64() }]));

function run(
  projectId: string,
  flowId: string,
  i: number,
  status: StoredRun['status'] = 'succeeded',
): StoredRun {
  return {
    id: `run-${i}-${randomUUID().slice(0, 8)}`,
    projectId,
    flowId,
    environment: 'production',
    status,
    queuedAt: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(),
    steps: [{ step: i }],
  };
}

export function describeStoreContract(name: string, open: () => Promise<OpenedStore>): void {
  describe(`store contract: ${name}`, () => {
    let opened: OpenedStore;
    let store: Store;
    let ws: Workspace;
    let project: Project;

    beforeEach(async () => {
      opened = await open();
      store = opened.store;
      ws = await store.workspaces.create({ name: 'Acme' });
      project = await store.projects.create({ workspaceId: ws.id, name: 'Support' });
    });
    afterEach(async () => {
      await opened.cleanup();
    });

    it('users: create, get, findByTokenHash, count', async () => {
      const before = await store.users.count();
      const user = await store.users.create({ name: 'alice', tokenHash: 'a'.repeat(64) });
      expect(user).toMatchObject({ name: 'alice', tokenHash: 'a'.repeat(64) });
      expect(user.id).toBeTruthy();
      expect(Date.parse(user.createdAt)).not.toBeNaN();
      expect(await store.users.get(user.id)).toEqual(user);
      expect(await store.users.findByTokenHash('a'.repeat(64))).toEqual(user);
      expect(await store.users.findByTokenHash('b'.repeat(64))).toBeUndefined();
      expect(await store.users.get(randomUUID())).toBeUndefined();
      expect(await store.users.count()).toBe(before + 1);
    });

    it('workspaces: create, get, list by ids, list all', async () => {
      const other = await store.workspaces.create({ name: 'Other' });
      expect((await store.workspaces.listAll()).map((w) => w.id).sort()).toEqual([ws.id, other.id].sort());
      expect(await store.workspaces.get(ws.id)).toEqual(ws);
      expect(await store.workspaces.get(randomUUID())).toBeUndefined();
      const listed = await store.workspaces.list([other.id, ws.id, randomUUID()]);
      expect(listed.map((w) => w.id).sort()).toEqual([ws.id, other.id].sort());
      expect(await store.workspaces.list([])).toEqual([]);
    });

    it('members: add, get, list, update, remove', async () => {
      const alice = await store.users.create({ name: 'alice', tokenHash: 'c'.repeat(64) });
      const bob = await store.users.create({ name: 'bob', tokenHash: 'd'.repeat(64) });
      const other = await store.workspaces.create({ name: 'Other' });
      await store.members.add({ workspaceId: ws.id, userId: alice.id, role: 'owner' });
      await store.members.add({ workspaceId: ws.id, userId: bob.id, role: 'viewer' });
      await store.members.add({ workspaceId: other.id, userId: alice.id, role: 'editor' });

      expect(await store.members.get(ws.id, alice.id)).toEqual({
        workspaceId: ws.id,
        userId: alice.id,
        role: 'owner',
      });
      expect(await store.members.get(ws.id, randomUUID())).toBeUndefined();
      expect((await store.members.listByWorkspace(ws.id)).map((m) => m.userId).sort()).toEqual(
        [alice.id, bob.id].sort(),
      );
      expect(
        (await store.members.listByUser(alice.id)).map((m) => `${m.workspaceId}:${m.role}`).sort(),
      ).toEqual([`${ws.id}:owner`, `${other.id}:editor`].sort());

      expect(await store.members.update(ws.id, bob.id, 'admin')).toEqual({
        workspaceId: ws.id,
        userId: bob.id,
        role: 'admin',
      });
      expect((await store.members.get(ws.id, bob.id))?.role).toBe('admin');
      expect(await store.members.update(ws.id, randomUUID(), 'admin')).toBeUndefined();

      expect(await store.members.remove(ws.id, bob.id)).toBe(true);
      expect(await store.members.remove(ws.id, bob.id)).toBe(false);
      expect(await store.members.get(ws.id, bob.id)).toBeUndefined();
      expect(await store.members.listByWorkspace(ws.id)).toHaveLength(1);
    });

    it('projects: created with development and production and the default policy', async () => {
      expect(project.environments).toEqual(expect.arrayContaining(['development', 'production']));
      expect(project.policy).toEqual({ requireAllowedHosts: false });
      expect(project.workspaceId).toBe(ws.id);
      const staged = await store.projects.create({
        workspaceId: ws.id,
        name: 'Staged',
        environments: ['staging'],
      });
      expect([...staged.environments].sort()).toEqual(['development', 'production', 'staging']);
      expect(await store.projects.get(project.id)).toEqual(project);
      expect(await store.projects.get(randomUUID())).toBeUndefined();
      expect((await store.projects.listByWorkspace(ws.id)).map((p) => p.id).sort()).toEqual(
        [project.id, staged.id].sort(),
      );
    });

    it("projects: getWithAccess returns the project with the caller's role in its workspace", async () => {
      const alice = await store.users.create({ name: 'alice', tokenHash: 'e'.repeat(64) });
      const bob = await store.users.create({ name: 'bob', tokenHash: 'f'.repeat(64) });
      const other = await store.workspaces.create({ name: 'Other' });
      await store.members.add({ workspaceId: ws.id, userId: alice.id, role: 'editor' });
      // bob is a member of another workspace only: no role in this project's workspace
      await store.members.add({ workspaceId: other.id, userId: bob.id, role: 'owner' });

      expect(await store.projects.getWithAccess(project.id, alice.id)).toEqual({ project, role: 'editor' });
      const outsider = await store.projects.getWithAccess(project.id, bob.id);
      expect(outsider).toEqual({ project });
      expect(outsider?.role).toBeUndefined();
      expect(await store.projects.getWithAccess(randomUUID(), alice.id)).toBeUndefined();

      await store.members.update(ws.id, alice.id, 'viewer');
      expect((await store.projects.getWithAccess(project.id, alice.id))?.role).toBe('viewer');
      await store.members.remove(ws.id, alice.id);
      expect(await store.projects.getWithAccess(project.id, alice.id)).toEqual({ project });
    });

    it('projects: getWithAccess with a flow id also reads that flow of the project, in the same call', async () => {
      const alice = await store.users.create({ name: 'alice-f', tokenHash: 'a'.repeat(64) });
      await store.members.add({ workspaceId: ws.id, userId: alice.id, role: 'editor' });
      const flow = await store.flows.create({
        projectId: project.id,
        name: 'f1',
        definition: { start: 'a' },
      });
      const elsewhere = await store.projects.create({ workspaceId: ws.id, name: 'Elsewhere' });
      const foreign = await store.flows.create({
        projectId: elsewhere.id,
        name: 'f2',
        definition: { start: 'b' },
      });

      expect(await store.projects.getWithAccess(project.id, alice.id, flow.id)).toEqual({
        project,
        role: 'editor',
        flow: await store.flows.get(project.id, flow.id),
      });
      // another project's flow, an unknown id, and any text are no flow (never an error)
      for (const id of [foreign.id, randomUUID(), "x'; DROP TABLE flows; --", '']) {
        expect(await store.projects.getWithAccess(project.id, alice.id, id)).toEqual({
          project,
          role: 'editor',
        });
      }
      // the store answers for a non-member too; the server refuses them before using the flow
      const outsider = await store.users.create({ name: 'outsider-f', tokenHash: 'b'.repeat(64) });
      expect(await store.projects.getWithAccess(project.id, outsider.id, flow.id)).toEqual({
        project,
        flow: await store.flows.get(project.id, flow.id),
      });
      expect(await store.projects.getWithAccess(randomUUID(), alice.id, flow.id)).toBeUndefined();
    });

    it('projects: update name, environments and policy', async () => {
      const updated = await store.projects.update(project.id, {
        name: 'Renamed',
        environments: ['development', 'production', 'qa'],
        policy: { requireAllowedHosts: true },
      });
      expect(updated).toMatchObject({
        id: project.id,
        name: 'Renamed',
        policy: { requireAllowedHosts: true },
      });
      expect(updated?.environments).toEqual(expect.arrayContaining(['development', 'production', 'qa']));
      expect(await store.projects.get(project.id)).toEqual(updated);
      expect(await store.projects.update(randomUUID(), { name: 'x' })).toBeUndefined();
    });

    it('projects: delete removes its secrets, settings, flows and runs', async () => {
      const keep = await store.projects.create({ workspaceId: ws.id, name: 'Keep' });
      for (const p of [project, keep]) {
        await store.secrets.create({
          workspaceId: ws.id,
          projectId: p.id,
          name: 'TOKEN',
          type: 'text',
          visibility: 'masked',
          wrappedKey: wrappedKey(),
          values: { default: sealed('value') },
        });
        await store.settings.put(p.id, 'BASE_URL', { default: 'https://example.com' });
        const flow = await store.flows.create({ projectId: p.id, name: 'f', definition: { blocks: [] } });
        await store.runs.save(run(p.id, flow.id, 1));
      }
      expect(await store.projects.delete(project.id)).toBe(true);
      expect(await store.projects.get(project.id)).toBeUndefined();
      expect(await store.secrets.list(project.id)).toEqual([]);
      expect(await store.settings.list(project.id)).toEqual([]);
      expect(await store.flows.list(project.id)).toEqual([]);
      expect((await store.runs.list(project.id)).items).toEqual([]);
      expect(await store.projects.delete(project.id)).toBe(false);
      // the other project is untouched
      expect(await store.secrets.list(keep.id)).toHaveLength(1);
      expect(await store.settings.list(keep.id)).toHaveLength(1);
      expect(await store.flows.list(keep.id)).toHaveLength(1);
      expect((await store.runs.list(keep.id)).items).toHaveLength(1);
    });

    it('secrets: create, get, list, listByWorkspace, update, delete', async () => {
      const wk = wrappedKey();
      const created = await store.secrets.create({
        workspaceId: ws.id,
        projectId: project.id,
        name: 'ZENDESK_TOKEN',
        type: 'basic',
        visibility: 'masked',
        allowedHosts: ['*.zendesk.com'],
        description: 'support desk',
        wrappedKey: wk,
        values: { default: sealed('username', 'password'), production: sealed('username', 'password') },
      });
      expect(created.id).toBeTruthy();
      expect(created).toMatchObject({
        name: 'ZENDESK_TOKEN',
        type: 'basic',
        wrappedKey: wk,
        allowedHosts: ['*.zendesk.com'],
      });
      expect(await store.secrets.get(project.id, 'ZENDESK_TOKEN')).toEqual(created);
      expect(await store.secrets.get(project.id, 'NOPE')).toBeUndefined();

      const givenId = randomUUID();
      const second = await store.secrets.create({
        id: givenId,
        workspaceId: ws.id,
        projectId: project.id,
        name: 'API_KEY',
        type: 'text',
        visibility: 'restricted',
        wrappedKey: wrappedKey(),
        values: {},
        missing: ['production'],
        source: { store: 'vault', ref: 'kv/api', environments: { production: 'kv/api-prod' } },
      });
      expect(second.id).toBe(givenId);
      expect(second.missing).toEqual(['production']);
      expect(second.source).toEqual({
        store: 'vault',
        ref: 'kv/api',
        environments: { production: 'kv/api-prod' },
      });

      await expect(
        store.secrets.create({
          workspaceId: ws.id,
          projectId: project.id,
          name: 'API_KEY',
          type: 'text',
          visibility: 'masked',
          wrappedKey: wrappedKey(),
          values: {},
        }),
      ).rejects.toMatchObject({ code: 'CONFLICT' });

      expect((await store.secrets.list(project.id)).map((s) => s.name)).toEqual(['API_KEY', 'ZENDESK_TOKEN']);
      const other = await store.projects.create({ workspaceId: ws.id, name: 'Other' });
      await store.secrets.create({
        workspaceId: ws.id,
        projectId: other.id,
        name: 'API_KEY',
        type: 'text',
        visibility: 'masked',
        wrappedKey: wrappedKey(),
        values: {},
      });
      expect(await store.secrets.listByWorkspace(ws.id)).toHaveLength(3);

      const newValues = { default: sealed('username', 'password') };
      const updated = await store.secrets.update(project.id, 'ZENDESK_TOKEN', {
        visibility: 'restricted',
        values: newValues,
        description: undefined,
      });
      expect(updated).toMatchObject({
        id: created.id,
        name: 'ZENDESK_TOKEN',
        visibility: 'restricted',
        values: newValues,
      });
      expect(updated?.description).toBeUndefined();
      expect(updated?.allowedHosts).toEqual(['*.zendesk.com']);
      expect(updated?.createdAt).toBe(created.createdAt);
      expect(Date.parse(updated?.updatedAt ?? '')).toBeGreaterThanOrEqual(Date.parse(created.updatedAt));
      expect(await store.secrets.get(project.id, 'ZENDESK_TOKEN')).toEqual(updated);
      expect(await store.secrets.update(project.id, 'NOPE', { visibility: 'masked' })).toBeUndefined();

      expect(await store.secrets.delete(project.id, 'ZENDESK_TOKEN')).toBe(true);
      expect(await store.secrets.delete(project.id, 'ZENDESK_TOKEN')).toBe(false);
      expect(await store.secrets.get(project.id, 'ZENDESK_TOKEN')).toBeUndefined();
      expect(await store.secrets.get(other.id, 'API_KEY')).toBeDefined();
    });

    it('settings: put (insert and replace), get, list, delete', async () => {
      const first = await store.settings.put(project.id, 'BASE_URL', { default: 'https://a.example.com' });
      expect(first).toMatchObject({
        projectId: project.id,
        name: 'BASE_URL',
        values: { default: 'https://a.example.com' },
      });
      const second = await store.settings.put(project.id, 'BASE_URL', {
        production: 'https://b.example.com',
      });
      expect(second.id).toBe(first.id);
      expect(second.values).toEqual({ production: 'https://b.example.com' });
      await store.settings.put(project.id, 'A_SETTING', { default: 'x' });
      expect(await store.settings.get(project.id, 'BASE_URL')).toEqual(second);
      expect(await store.settings.get(project.id, 'NOPE')).toBeUndefined();
      expect((await store.settings.list(project.id)).map((s) => s.name)).toEqual(['A_SETTING', 'BASE_URL']);
      expect(await store.settings.delete(project.id, 'BASE_URL')).toBe(true);
      expect(await store.settings.delete(project.id, 'BASE_URL')).toBe(false);
      expect(await store.settings.list(project.id)).toHaveLength(1);
    });

    it('flows: create, get, list, update, delete', async () => {
      const definition = { version: 1, blocks: [{ id: 'a', type: 'set', config: { x: 1 } }] };
      const flow = await store.flows.create({ projectId: project.id, name: 'Sync', definition });
      expect(flow).toMatchObject({ projectId: project.id, name: 'Sync', definition });
      expect(await store.flows.get(project.id, flow.id)).toEqual(flow);
      const other = await store.projects.create({ workspaceId: ws.id, name: 'Other' });
      expect(await store.flows.get(other.id, flow.id)).toBeUndefined();
      const second = await store.flows.create({ projectId: project.id, name: 'Second', definition: {} });
      expect((await store.flows.list(project.id)).map((f) => f.id).sort()).toEqual(
        [flow.id, second.id].sort(),
      );

      const updated = await store.flows.update(project.id, flow.id, {
        name: 'Renamed',
        definition: { version: 2 },
      });
      expect(updated).toMatchObject({
        id: flow.id,
        name: 'Renamed',
        definition: { version: 2 },
        createdAt: flow.createdAt,
      });
      const renamedOnly = await store.flows.update(project.id, flow.id, { name: 'Again' });
      expect(renamedOnly?.definition).toEqual({ version: 2 });
      expect(await store.flows.update(project.id, randomUUID(), { name: 'x' })).toBeUndefined();

      expect(await store.flows.delete(project.id, flow.id)).toBe(true);
      expect(await store.flows.delete(project.id, flow.id)).toBe(false);
      expect((await store.flows.list(project.id)).map((f) => f.id)).toEqual([second.id]);
    });

    it('audit: append and list newest first, by project, with cursor pages', async () => {
      const other = await store.projects.create({ workspaceId: ws.id, name: 'Other' });
      const given = '2026-01-02T03:04:05.000Z';
      const first = await store.audit.append({
        workspaceId: ws.id,
        projectId: project.id,
        actor: 'system',
        action: 'secret.create',
        secret: 'TOKEN',
        environment: 'production',
        at: given,
        details: { count: 1, ok: true, note: 'n' },
      });
      expect(first.id).toBeTruthy();
      expect(first.at).toBe(given);
      const ids = [first.id];
      for (let i = 0; i < 11; i++) {
        const event = await store.audit.append({
          workspaceId: ws.id,
          projectId: i % 2 === 0 ? project.id : other.id,
          actor: 'user-1',
          action: 'secret.use',
          secret: 'TOKEN',
          flowId: 'flow-1',
          runId: `run-${i}`,
        });
        expect(Date.parse(event.at)).not.toBeNaN();
        ids.push(event.id);
      }
      const all = await store.audit.list(ws.id, { limit: 100 });
      expect(all.items.map((e) => e.id)).toEqual([...ids].reverse());
      expect(all.next).toBeUndefined();
      expect(all.items.at(-1)).toEqual(first);

      const seen: string[] = [];
      let cursor: string | undefined;
      for (let page = 0; page < 10; page++) {
        const result = await store.audit.list(ws.id, { limit: 5, ...(cursor !== undefined && { cursor }) });
        expect(result.items.length).toBeLessThanOrEqual(5);
        seen.push(...result.items.map((e) => e.id));
        cursor = result.next;
        if (cursor === undefined) break;
      }
      expect(seen).toEqual([...ids].reverse());

      const forProject = await store.audit.list(ws.id, { projectId: project.id });
      expect(forProject.items.every((e) => e.projectId === project.id)).toBe(true);
      expect(forProject.items).toHaveLength(7);
      const otherWs = await store.workspaces.create({ name: 'Other' });
      expect((await store.audit.list(otherWs.id)).items).toEqual([]);
    });

    it('runs: save inserts or replaces by id, get, list newest first by flow with cursor pages', async () => {
      const runs = Array.from({ length: 12 }, (_, i) =>
        run(project.id, i % 3 === 0 ? 'flow-a' : 'flow-b', i, 'queued'),
      );
      for (const r of runs) await store.runs.save(r);
      const done: StoredRun = {
        ...(runs[4] as StoredRun),
        status: 'failed',
        startedAt: new Date().toISOString(),
        durationMs: 12,
        error: { code: 'HTTP_ERROR', message: 'upstream said 500' },
        output: { ok: false },
        actor: 'user-1',
      };
      await store.runs.save(done);
      expect(await store.runs.get(project.id, done.id)).toEqual(done);
      expect(await store.runs.get(project.id, 'missing')).toBeUndefined();

      const all = await store.runs.list(project.id, { limit: 100 });
      // replacing keeps one record per id, in the position of its first save
      expect(all.items.map((r) => r.id)).toEqual(runs.map((r) => r.id).reverse());
      expect(all.items.find((r) => r.id === done.id)).toEqual(done);

      const seen: string[] = [];
      let cursor: string | undefined;
      for (let page = 0; page < 10; page++) {
        const result = await store.runs.list(project.id, {
          limit: 5,
          ...(cursor !== undefined && { cursor }),
        });
        seen.push(...result.items.map((r) => r.id));
        cursor = result.next;
        if (cursor === undefined) break;
      }
      expect(seen).toEqual(runs.map((r) => r.id).reverse());

      const flowA = await store.runs.list(project.id, { flowId: 'flow-a', limit: 2 });
      expect(flowA.items.map((r) => r.id)).toEqual([runs[9]?.id, runs[6]?.id]);
      const flowARest = await store.runs.list(project.id, {
        flowId: 'flow-a',
        limit: 2,
        cursor: flowA.next as string,
      });
      expect(flowARest.items.map((r) => r.id)).toEqual([runs[3]?.id, runs[0]?.id]);
      expect(flowARest.next).toBeUndefined();

      const other = await store.projects.create({ workspaceId: ws.id, name: 'Other' });
      expect((await store.runs.list(other.id)).items).toEqual([]);
      expect(await store.runs.get(other.id, done.id)).toBeUndefined();
    });

    it('secret stores: create, get, list, update, delete', async () => {
      const input = {
        workspaceId: ws.id,
        name: 'vault-main',
        type: 'vault' as const,
        config: { address: 'http://127.0.0.1:8200', mount: 'kv' },
        wrappedKey: wrappedKey(),
        credentials: sealed('token'),
        cacheTtlS: 60,
      };
      const created = await store.secretStores.create(input);
      expect(created).toMatchObject(input);
      expect(created.id).toBeTruthy();
      await expect(store.secretStores.create(input)).rejects.toMatchObject({ code: 'CONFLICT' });
      await store.secretStores.create({
        ...input,
        name: 'aws',
        type: 'aws-secrets-manager',
        config: { region: 'eu-west-1' },
      });
      expect(await store.secretStores.get(ws.id, 'vault-main')).toEqual(created);
      expect(await store.secretStores.get(ws.id, 'nope')).toBeUndefined();
      expect((await store.secretStores.list(ws.id)).map((s) => s.name)).toEqual(['aws', 'vault-main']);

      const credentials = sealed('token');
      const updated = await store.secretStores.update(ws.id, 'vault-main', { cacheTtlS: 5, credentials });
      expect(updated).toMatchObject({ id: created.id, cacheTtlS: 5, credentials, config: input.config });
      expect(await store.secretStores.get(ws.id, 'vault-main')).toEqual(updated);
      expect(await store.secretStores.update(ws.id, 'nope', { cacheTtlS: 1 })).toBeUndefined();
      expect(await store.secretStores.delete(ws.id, 'vault-main')).toBe(true);
      expect(await store.secretStores.delete(ws.id, 'vault-main')).toBe(false);
      expect(await store.secretStores.list(ws.id)).toHaveLength(1);
    });

    it('meta: get and set', async () => {
      expect(await store.meta.get('kcv-test')).toBeUndefined();
      await store.meta.set('kcv-test', 'kcv1:abc');
      await store.meta.set('kcv-test', 'kcv1:def');
      expect(await store.meta.get('kcv-test')).toBe('kcv1:def');
    });

    it('transaction: every write inside applies together', async () => {
      const result = await store.transaction(async (tx) => {
        const flow = await tx.flows.create({ projectId: project.id, name: 'in-tx', definition: {} });
        await tx.settings.put(project.id, 'TX_SETTING', { default: 'v' });
        await tx.meta.set('tx-key', 'tx-value');
        expect(await tx.flows.get(project.id, flow.id)).toEqual(flow);
        return flow.id;
      });
      expect(await store.flows.get(project.id, result)).toBeDefined();
      expect(await store.settings.get(project.id, 'TX_SETTING')).toBeDefined();
      expect(await store.meta.get('tx-key')).toBe('tx-value');
    });

    it('transaction: a throw inside applies nothing', async () => {
      await expect(
        store.transaction(async (tx) => {
          await tx.flows.create({ projectId: project.id, name: 'doomed', definition: {} });
          await tx.settings.put(project.id, 'DOOMED', { default: 'v' });
          await tx.projects.update(project.id, { name: 'Doomed' });
          throw new Error('abort');
        }),
      ).rejects.toThrow('abort');
      expect(await store.flows.list(project.id)).toEqual([]);
      expect(await store.settings.get(project.id, 'DOOMED')).toBeUndefined();
      expect((await store.projects.get(project.id))?.name).toBe('Support');
      // the store keeps working
      await store.settings.put(project.id, 'AFTER', { default: 'v' });
      expect(await store.settings.get(project.id, 'AFTER')).toBeDefined();
    });

    it('callers cannot change the stored state through a returned object (nor through their input)', async () => {
      // An adapter may hand out fresh copies (a change has no effect) or frozen records (a
      // change throws a TypeError in strict-mode code); either way the store keeps its state.
      const attempt = (change: () => void): void => {
        try {
          change();
        } catch (err) {
          expect(err).toBeInstanceOf(TypeError);
        }
      };
      const definition = { a: 1, nested: { list: [1, 2] } };
      const flow = await store.flows.create({ projectId: project.id, name: 'f', definition });
      // the input stays the caller's: still writable, and changing it changes nothing stored
      definition.a = 9;
      definition.nested.list.push(3);
      attempt(() => ((flow.definition as { a: number }).a = 2));
      attempt(() => (flow.name = 'changed'));
      const read = await store.flows.get(project.id, flow.id);
      expect(read?.name).toBe('f');
      expect(read?.definition).toEqual({ a: 1, nested: { list: [1, 2] } });
      attempt(() => ((read?.definition as { a: number }).a = 3));
      attempt(() => (read?.definition as { nested: { list: number[] } }).nested.list.push(4));
      const [listed] = await store.flows.list(project.id);
      attempt(() => (listed!.name = 'listed'));
      expect(await store.flows.get(project.id, flow.id)).toMatchObject({
        name: 'f',
        definition: { a: 1, nested: { list: [1, 2] } },
      });

      const p = await store.projects.get(project.id);
      attempt(() => p!.environments.push('staging'));
      attempt(() => (p!.policy.requireAllowedHosts = true));
      attempt(() => (p!.name = 'changed'));
      expect(await store.projects.get(project.id)).toEqual(project);

      const user = await store.users.create({ name: 'alice', tokenHash: 'e'.repeat(64) });
      await store.members.add({ workspaceId: ws.id, userId: user.id, role: 'viewer' });
      const member = await store.members.get(ws.id, user.id);
      attempt(() => (member!.role = 'owner'));
      const [byUser] = await store.members.listByUser(user.id);
      attempt(() => (byUser!.role = 'owner'));
      expect((await store.members.get(ws.id, user.id))?.role).toBe('viewer');
      const found = await store.users.findByTokenHash('e'.repeat(64));
      attempt(() => (found!.tokenHash = 'f'.repeat(64)));
      expect(await store.users.findByTokenHash('f'.repeat(64))).toBeUndefined();
      expect((await store.users.get(user.id))?.tokenHash).toBe('e'.repeat(64));

      const all = await store.workspaces.listAll();
      all.length = 0;
      attempt(() => (all[0] = { id: 'x', name: 'x', createdAt: '' }));
      const w = await store.workspaces.get(ws.id);
      attempt(() => (w!.name = 'changed'));
      expect(await store.workspaces.listAll()).toEqual([ws]);

      const values = { default: sealed('value') };
      await store.secrets.create({
        workspaceId: ws.id,
        projectId: project.id,
        name: 'KEY',
        type: 'text',
        visibility: 'masked',
        wrappedKey: wrappedKey(),
        values,
      });
      const secret = await store.secrets.get(project.id, 'KEY');
      const snapshot = structuredClone(secret);
      values.default = sealed('other');
      attempt(() => (secret!.values.production = sealed('value')));
      attempt(() => (secret!.values.default!.value!.ct = 'changed'));
      const [listedSecret] = await store.secrets.list(project.id);
      attempt(() => delete (listedSecret as { wrappedKey?: unknown }).wrappedKey);
      expect(await store.secrets.get(project.id, 'KEY')).toEqual(snapshot);

      await store.settings.put(project.id, 'URL', { default: 'a' });
      const setting = await store.settings.get(project.id, 'URL');
      attempt(() => (setting!.values.default = 'b'));
      expect((await store.settings.get(project.id, 'URL'))?.values).toEqual({ default: 'a' });

      const r = run(project.id, 'flow-a', 1);
      await store.runs.save(r);
      r.status = 'failed';
      const savedRun = await store.runs.get(project.id, r.id);
      expect(savedRun?.status).toBe('succeeded');
      attempt(() => savedRun!.steps.push({ step: 99 }));
      expect((await store.runs.get(project.id, r.id))?.steps).toEqual([{ step: 1 }]);

      const details = { reason: 'test' };
      const event = await store.audit.append({
        workspaceId: ws.id,
        actor: 'system',
        action: 'key.rotate',
        details,
      });
      details.reason = 'changed';
      attempt(() => (event.details!.reason = 'changed too'));
      expect((await store.audit.list(ws.id)).items[0]?.details).toEqual({ reason: 'test' });

      // a record read before a change keeps showing what it was read as
      const before = await store.flows.get(project.id, flow.id);
      await store.flows.update(project.id, flow.id, { name: 'renamed' });
      expect(before?.name).toBe('f');
      expect((await store.flows.get(project.id, flow.id))?.name).toBe('renamed');
    });
  });
}
