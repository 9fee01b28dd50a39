// External secret stores of a workspace (SPEC §12), owners and admins only. A store's own
// credentials (Vault token, AppRole secret id, AWS secret access key) are sealed apart from
// its plain configuration and never returned: views say only which credential fields are set.
// DELETE refuses (409) while secrets use the store; POST …/test answers `{ ok, message }`.
import { Router, type Response } from 'express';
import {
  credentialFields,
  credentialParent,
  mergeCredentials,
  splitCredentials,
  type StoreDefinition,
  storeNameSchema,
} from '@flowsafe/secret-stores';
import type { SecretStoreConfig } from '@flowsafe/store';
import { currentUser } from '../auth';
import { type AppContext, audit, workspaceAccess } from '../context';
import { unflattenConfig } from '../external-secrets';
import { ServerError, parse } from '../errors';
import { storeDefinitionSchema, storePatchSchema } from '../schemas';

export interface StoreUser {
  projectId: string;
  project: string;
  secret: string;
}

/** What the API shows of a store: the plain config, which credentials are set, never their values. */
export function storeView(config: SecretStoreConfig, usedBy?: StoreUser[]) {
  return {
    name: config.name,
    type: config.type,
    config: unflattenConfig(config.config),
    credentialsSet: Object.keys(config.credentials).sort(),
    cacheTtlS: config.cacheTtlS,
    ...(usedBy !== undefined ? { usedBy } : {}),
    createdAt: config.createdAt,
    updatedAt: config.updatedAt,
  };
}

export function secretStoreRoutes(ctx: AppContext): Router {
  const router = Router();
  const what = 'managing secret stores';
  const actor = (res: Response) => currentUser(res).id;

  /** Every secret of the workspace whose value lives in each store. */
  const usersByStore = async (workspaceId: string): Promise<Map<string, StoreUser[]>> => {
    const out = new Map<string, StoreUser[]>();
    for (const project of await ctx.store.projects.listByWorkspace(workspaceId)) {
      for (const secret of await ctx.store.secrets.list(project.id)) {
        if (secret.source === undefined) continue;
        const list = out.get(secret.source.store) ?? [];
        list.push({ projectId: project.id, project: project.name, secret: secret.name });
        out.set(secret.source.store, list);
      }
    }
    return out;
  };

  const load = async (workspaceId: string, rawName: unknown): Promise<SecretStoreConfig> => {
    const name = parse(storeNameSchema, rawName);
    const config = await ctx.store.secretStores.get(workspaceId, name);
    if (!config) throw new ServerError('STORE_NOT_FOUND', `secret store ${name} not found in this workspace`);
    return config;
  };

  /** Mask the credentials of a definition everywhere before anything else can print them. */
  const rememberCredentials = (workspaceId: string, def: StoreDefinition) => {
    const { credentials } = splitCredentials(def.type, def.config as Record<string, unknown>);
    const fields = Object.entries(credentials).map(([field, value]) => ({ field, value }));
    if (fields.length > 0) ctx.secrets.rememberFields(workspaceId, `store ${def.name}`, 'text', fields);
  };

  router.get('/api/workspaces/:ws/secret-stores', async (req, res) => {
    const { workspace } = await workspaceAccess(ctx, req, res, 'admin', what);
    const users = await usersByStore(workspace.id);
    const stores = await ctx.store.secretStores.list(workspace.id);
    res.json({ items: stores.map((s) => storeView(s, users.get(s.name) ?? [])) });
  });

  router.post('/api/workspaces/:ws/secret-stores', async (req, res) => {
    const { workspace } = await workspaceAccess(ctx, req, res, 'admin', what);
    const def = parse(storeDefinitionSchema, req.body);
    rememberCredentials(workspace.id, def);
    if (await ctx.store.secretStores.get(workspace.id, def.name))
      throw new ServerError(
        'STORE_EXISTS',
        `a secret store named ${def.name} already exists in this workspace`,
      );
    const wrappedKey = ctx.secrets.newDataKey();
    const sealed = ctx.secrets.external.seal(workspace.id, def, wrappedKey);
    const created = await ctx.store.secretStores.create({
      workspaceId: workspace.id,
      name: def.name,
      type: def.type,
      config: sealed.config,
      wrappedKey,
      credentials: sealed.credentials,
      cacheTtlS: def.cacheTtlS,
    });
    ctx.secrets.external.forget(workspace.id, def.name);
    await audit(ctx, {
      workspaceId: workspace.id,
      actor: actor(res),
      action: 'store.create',
      details: { store: def.name, type: def.type, cacheTtlS: def.cacheTtlS },
    });
    res.status(201).json(storeView(created, []));
  });

  router.get('/api/workspaces/:ws/secret-stores/:name', async (req, res) => {
    const { workspace } = await workspaceAccess(ctx, req, res, 'admin', what);
    const config = await load(workspace.id, req.params.name);
    res.json(storeView(config, (await usersByStore(workspace.id)).get(config.name) ?? []));
  });

  router.patch('/api/workspaces/:ws/secret-stores/:name', async (req, res) => {
    const { workspace } = await workspaceAccess(ctx, req, res, 'admin', what);
    const current = await load(workspace.id, req.params.name);
    const body = parse(storePatchSchema, req.body ?? {});
    const oldCredentials = ctx.secrets.external.openCredentials(current);
    const next: Record<string, unknown> = { ...unflattenConfig(current.config) };
    for (const [key, value] of Object.entries(body.config ?? {})) {
      if (value === null) delete next[key];
      else next[key] = value;
    }
    // Credentials left out of the edit are kept, as long as the auth method still uses them.
    const parent = credentialParent(current.type);
    const holder = next[parent];
    const keep: Record<string, string> = {};
    if (holder !== undefined && typeof holder === 'object') {
      for (const field of credentialFields(current.type, next)) {
        const old = oldCredentials[field];
        if (old !== undefined && (holder as Record<string, unknown>)[field] === undefined) keep[field] = old;
      }
    }
    const def = parse(storeDefinitionSchema, {
      name: current.name,
      type: current.type,
      cacheTtlS: body.cacheTtlS ?? current.cacheTtlS,
      config: mergeCredentials(current.type, next, keep),
    });
    rememberCredentials(workspace.id, def);
    const sealed = ctx.secrets.external.seal(workspace.id, def, current.wrappedKey);
    const updated = await ctx.store.secretStores.update(workspace.id, current.name, {
      config: sealed.config,
      credentials: sealed.credentials,
      cacheTtlS: def.cacheTtlS,
    });
    if (!updated)
      throw new ServerError('STORE_NOT_FOUND', `secret store ${current.name} not found in this workspace`);
    // A new instance (and an empty cache) for the new configuration.
    ctx.secrets.external.forget(workspace.id, current.name);
    const fields = [
      ...Object.keys(body.config ?? {}),
      ...(body.cacheTtlS !== undefined ? ['cacheTtlS'] : []),
    ];
    await audit(ctx, {
      workspaceId: workspace.id,
      actor: actor(res),
      action: 'store.update',
      details: { store: current.name, fields: fields.join(',') },
    });
    res.json(storeView(updated, (await usersByStore(workspace.id)).get(current.name) ?? []));
  });

  router.delete('/api/workspaces/:ws/secret-stores/:name', async (req, res) => {
    const { workspace } = await workspaceAccess(ctx, req, res, 'admin', what);
    const config = await load(workspace.id, req.params.name);
    const users = (await usersByStore(workspace.id)).get(config.name) ?? [];
    if (users.length > 0) {
      const names = users.map((u) => `${u.secret} (${u.project})`).join(', ');
      throw new ServerError(
        'STORE_IN_USE',
        `secret store ${config.name} is used by ${users.length} secret(s): ${names}; move them to another store or delete them first`,
        { secrets: users },
      );
    }
    await ctx.store.secretStores.delete(workspace.id, config.name);
    ctx.secrets.external.forget(workspace.id, config.name);
    await audit(ctx, {
      workspaceId: workspace.id,
      actor: actor(res),
      action: 'store.delete',
      details: { store: config.name, type: config.type },
    });
    res.status(204).end();
  });

  router.post('/api/workspaces/:ws/secret-stores/:name/test', async (req, res) => {
    const { workspace } = await workspaceAccess(ctx, req, res, 'admin', what);
    const config = await load(workspace.id, req.params.name);
    const live = await ctx.secrets.external.live(workspace.id, config.name);
    if (!live)
      throw new ServerError('STORE_NOT_FOUND', `secret store ${config.name} not found in this workspace`);
    const result = await live.test();
    res.json({ ok: result.ok, message: result.message });
  });

  return router;
}
