// Secrets of a project (SPEC §4, invariants 9–12). Members read metadata only; owners and
// admins create, change, override, delete and reveal. Visibility only tightens; restricted
// values are never returned; every change and reveal is audited (never with a value).
// A secret may keep its value in an external store (`source`, SPEC §12): it is then always
// restricted, holds no sealed values, and shows `missing` while its store is not configured.
import { randomUUID } from 'node:crypto';
import { type Request, Router, type Response } from 'express';
import { allowedHostSchema, type SecretValue, secretValueSchema } from '@flowsafe/secrets';
import type { AuditEvent, Project, Secret } from '@flowsafe/store';
import { currentUser } from '../auth';
import { type AppContext, audit, projectAccess } from '../context';
import { ServerError, parse } from '../errors';
import {
  deleteSecretQuery,
  environmentKey,
  externalSecretCreateSchema,
  makeSettingQuery,
  overridePutSchema,
  revealSchema,
  secretCreateSchema,
  secretNameSchema,
  secretPatchSchema,
  secretsListQuery,
} from '../schemas';
import { type SecretUsage, secretUsages } from '../secret-usages';
import { assertEnvironments } from './environments';

/**
 * What the API shows of a secret: never a value, never a sealed value. For an external secret
 * `values` says whether its store is configured in the workspace (`stores`, the names of the
 * workspace's stores); when it is not, the secret is `missing` until that store exists.
 */
export function secretView(
  secret: Secret,
  project: Project,
  usages: SecretUsage[] = [],
  stores?: ReadonlySet<string>,
) {
  const values: Record<string, boolean> = { default: secret.values.default !== undefined };
  for (const env of project.environments) values[env] = secret.values[env] !== undefined;
  let missing = secret.missing ?? [];
  if (secret.source !== undefined) {
    const configured = stores === undefined || stores.has(secret.source.store);
    for (const key of Object.keys(values)) values[key] = configured;
    missing = configured ? [] : ['default'];
  }
  const usedBy = new Map<string, { flowId: string; flowName: string; blocks: string[] }>();
  for (const u of usages) {
    if (u.secret !== secret.name) continue;
    const entry = usedBy.get(u.flowId) ?? { flowId: u.flowId, flowName: u.flowName, blocks: [] };
    if (u.blockId !== undefined && !entry.blocks.includes(u.blockId)) entry.blocks.push(u.blockId);
    usedBy.set(u.flowId, entry);
  }
  return {
    name: secret.name,
    type: secret.type,
    visibility: secret.visibility,
    ...(secret.allowedHosts !== undefined ? { allowedHosts: secret.allowedHosts } : {}),
    ...(secret.description !== undefined ? { description: secret.description } : {}),
    ...(secret.source !== undefined ? { source: sourceView(secret.source) } : {}),
    values,
    missing,
    usedBy: [...usedBy.values()],
    createdAt: secret.createdAt,
    updatedAt: secret.updatedAt,
  };
}

/** Validate allowed hosts with the secrets package's rules; a bad entry is a 400 naming it. */
export function parseAllowedHosts(hosts: string[]): string[] {
  return hosts.map((h, i) => {
    const r = allowedHostSchema.safeParse(h);
    if (!r.success) {
      throw new ServerError(
        'VALIDATION_FAILED',
        `allowedHosts.${i}: ${r.error.issues[0]?.message ?? 'invalid host'}`,
        [
          {
            path: ['allowedHosts', i],
            message: r.error.issues[0]?.message ?? 'invalid host',
            code: 'custom',
          },
        ],
      );
    }
    return r.data;
  });
}

/** Parse a value against the secret's type; a failure is a 400 whose message never echoes the value. */
export function parseValue(type: Secret['type'], value: unknown, where: string): SecretValue {
  const r = secretValueSchema(type).safeParse(value);
  if (!r.success) {
    const details = r.error.issues.map((i) => ({
      path: [where, ...i.path.map(String)],
      message: i.message,
      code: i.code,
    }));
    throw new ServerError(
      'VALIDATION_FAILED',
      `${where}: ${r.error.issues[0]?.message ?? `not a valid ${type} value`}`,
      details,
    );
  }
  return r.data;
}

function sourceView(source: NonNullable<Secret['source']>): NonNullable<Secret['source']> {
  return {
    store: source.store,
    ref: source.ref,
    ...(source.environments !== undefined ? { environments: { ...source.environments } } : {}),
  };
}

export function secretRoutes(ctx: AppContext): Router {
  const router = Router();

  const load = async (project: Project, rawName: string): Promise<Secret> => {
    const name = parse(secretNameSchema, rawName);
    const secret = await ctx.store.secrets.get(project.id, name);
    if (!secret) throw new ServerError('SECRET_NOT_FOUND', `secret ${name} not found in this project`);
    return secret;
  };
  const usagesOf = async (project: Project) => secretUsages(await ctx.store.flows.list(project.id));
  const changed = (project: Project) => ctx.secrets.invalidate(project.id);
  const actor = (res: Response) => currentUser(res).id;
  const storesOf = async (project: Project) =>
    new Set((await ctx.store.secretStores.list(project.workspaceId)).map((s) => s.name));
  /** Store a patch to a secret; a secret gone meanwhile is a 404. */
  const save = async (project: Project, secret: Secret, patch: Partial<Secret>): Promise<Secret> => {
    const updated = await ctx.store.secrets.update(project.id, secret.name, patch);
    if (!updated)
      throw new ServerError('SECRET_NOT_FOUND', `secret ${secret.name} not found in this project`);
    return updated;
  };
  /** A change to the project's secrets: drop its cached resolver, then audit who made it. */
  const recordChange = async (
    project: Project,
    res: Response,
    event: Pick<AuditEvent, 'action' | 'secret' | 'environment' | 'details'>,
  ) => {
    changed(project);
    await audit(ctx, {
      workspaceId: project.workspaceId,
      projectId: project.id,
      actor: actor(res),
      ...event,
    });
  };
  /** The project and environment an override route names; only admins change overrides. */
  const overrideTarget = async (req: Request, res: Response) => {
    const { project } = await projectAccess(ctx, req, res, 'admin', 'changing secret overrides');
    const env = parse(environmentKey, req.params.env);
    assertEnvironments(project.environments, [env]);
    return { project, env };
  };
  /** A new secret's name is taken by neither a secret nor a setting of the project. */
  const assertNameFree = async (project: Project, name: string) => {
    if (await ctx.store.secrets.get(project.id, name)) {
      throw new ServerError('SECRET_EXISTS', `secret ${name} already exists in this project`);
    }
    if (await ctx.store.settings.get(project.id, name)) {
      throw new ServerError(
        'SETTING_EXISTS',
        `a setting named ${name} exists; turn it into a secret with POST …/settings/${name}/make-secret`,
      );
    }
  };
  const externalOnly = (secret: Secret): never => {
    throw new ServerError(
      'SECRET_EXTERNAL',
      `secret ${secret.name} keeps its value in secret store ${secret.source?.store ?? ''} (ref ${secret.source?.ref ?? ''}); change the value there, or change its source`,
    );
  };

  router.get('/api/projects/:p/secrets', async (req, res) => {
    const { project } = await projectAccess(ctx, req, res, 'viewer');
    const q = parse(secretsListQuery, req.query);
    const search = q.search?.toLowerCase();
    const secrets = (await ctx.store.secrets.list(project.id)).filter(
      (s) =>
        (q.type === undefined || s.type === q.type) &&
        (search === undefined ||
          s.name.toLowerCase().includes(search) ||
          (s.description ?? '').toLowerCase().includes(search)),
    );
    const usages = await usagesOf(project);
    const stores = await storesOf(project);
    res.json({ items: secrets.map((s) => secretView(s, project, usages, stores)) });
  });

  router.post('/api/projects/:p/secrets', async (req, res, next) => {
    const raw: unknown = req.body;
    if (raw === null || typeof raw !== 'object' || !('source' in raw)) {
      next();
      return;
    }
    const { project } = await projectAccess(ctx, req, res, 'admin', 'creating secrets');
    const body = parse(externalSecretCreateSchema, raw);
    assertEnvironments(project.environments, Object.keys(body.source.environments ?? {}));
    await assertNameFree(project, body.name);
    const allowedHosts = body.allowedHosts === undefined ? undefined : parseAllowedHosts(body.allowedHosts);
    const secret = await ctx.store.secrets.create({
      id: randomUUID(),
      workspaceId: project.workspaceId,
      projectId: project.id,
      name: body.name,
      type: body.type,
      // External values are never revealed (SPEC §12).
      visibility: 'restricted',
      ...(allowedHosts !== undefined ? { allowedHosts } : {}),
      ...(body.description !== undefined ? { description: body.description } : {}),
      wrappedKey: ctx.secrets.newDataKey(),
      values: {},
      source: body.source,
    });
    await recordChange(project, res, {
      action: 'secret.create',
      secret: secret.name,
      details: { type: secret.type, visibility: secret.visibility, store: body.source.store },
    });
    res.status(201).json(secretView(secret, project, [], await storesOf(project)));
  });

  router.post('/api/projects/:p/secrets', async (req, res) => {
    const { project } = await projectAccess(ctx, req, res, 'admin', 'creating secrets');
    const body = parse(secretCreateSchema, req.body);
    const envs = Object.keys(body.environments ?? {});
    assertEnvironments(project.environments, envs);
    await assertNameFree(project, body.name);
    const allowedHosts = body.allowedHosts === undefined ? undefined : parseAllowedHosts(body.allowedHosts);
    const base = {
      id: randomUUID(),
      workspaceId: project.workspaceId,
      projectId: project.id,
      type: body.type,
      wrappedKey: ctx.secrets.newDataKey(),
    };
    const plain: Array<[string, SecretValue]> = [];
    if (body.value !== undefined) plain.push(['default', body.value as SecretValue]);
    for (const [env, v] of Object.entries(body.environments ?? {})) plain.push([env, v as SecretValue]);
    const values = Object.fromEntries(plain.map(([env, v]) => [env, ctx.secrets.seal(base, env, v)]));
    for (const [, v] of plain) ctx.secrets.remember(project.id, body.name, body.type, v);
    const secret = await ctx.store.secrets.create({
      ...base,
      name: body.name,
      visibility: body.visibility,
      ...(allowedHosts !== undefined ? { allowedHosts } : {}),
      ...(body.description !== undefined ? { description: body.description } : {}),
      values,
    });
    await recordChange(project, res, {
      action: 'secret.create',
      secret: secret.name,
      details: {
        type: secret.type,
        visibility: secret.visibility,
        environments: plain.map(([e]) => e).join(','),
      },
    });
    res.status(201).json(secretView(secret, project));
  });

  router.get('/api/projects/:p/secrets/:name', async (req, res) => {
    const { project } = await projectAccess(ctx, req, res, 'viewer');
    const secret = await load(project, req.params.name);
    res.json(secretView(secret, project, await usagesOf(project), await storesOf(project)));
  });

  router.patch('/api/projects/:p/secrets/:name', async (req, res) => {
    const { project } = await projectAccess(ctx, req, res, 'admin', 'changing secrets');
    const body = parse(secretPatchSchema, req.body ?? {});
    const secret = await load(project, req.params.name);
    const patch: Partial<Secret> = {};
    const fields: string[] = [];
    if (body.source !== undefined && body.source !== null) {
      assertEnvironments(project.environments, Object.keys(body.source.environments ?? {}));
      if (body.value !== undefined)
        throw new ServerError('VALIDATION_FAILED', 'send either value or source, not both');
      // Stored values are dropped: the value now lives in the store, and is never revealed.
      patch.source = body.source;
      patch.values = {};
      patch.missing = [];
      patch.visibility = 'restricted';
      fields.push('source');
    } else if (body.source === null && secret.source !== undefined) {
      // Back into flowsafe: no value until one is entered, and still restricted (never loosens).
      patch.source = undefined;
      patch.missing = ['default'];
      fields.push('source');
    }
    const external = patch.source !== undefined || (secret.source !== undefined && body.source !== null);
    if (body.value !== undefined && external) externalOnly(secret);
    if (body.visibility !== undefined && body.visibility !== secret.visibility) {
      if (secret.visibility === 'restricted') {
        throw new ServerError(
          'VISIBILITY_LOOSEN',
          `secret ${secret.name} is restricted; visibility can only tighten (masked → restricted), never loosen. Create a new secret instead.`,
        );
      }
      if (patch.visibility === undefined) {
        patch.visibility = body.visibility;
        fields.push('visibility');
      }
    }
    if (body.allowedHosts !== undefined) {
      patch.allowedHosts = body.allowedHosts === null ? undefined : parseAllowedHosts(body.allowedHosts);
      fields.push('allowedHosts');
    }
    if (body.description !== undefined) {
      patch.description = body.description === null ? undefined : body.description;
      fields.push('description');
    }
    if (body.value !== undefined) {
      const value = parseValue(secret.type, body.value, 'value');
      ctx.secrets.remember(project.id, secret.name, secret.type, value);
      patch.values = { ...secret.values, default: ctx.secrets.seal(secret, 'default', value) };
      patch.missing = (secret.missing ?? []).filter((e) => e !== 'default');
      fields.push('value');
    }
    if (fields.length === 0)
      throw new ServerError(
        'VALIDATION_FAILED',
        'nothing to change: send value, visibility, allowedHosts, description or source',
      );
    const updated = await save(project, secret, patch);
    await recordChange(project, res, {
      action: 'secret.update',
      secret: secret.name,
      ...(fields.includes('value') ? { environment: 'default' } : {}),
      details: {
        fields: fields.join(','),
        ...(updated.source !== undefined ? { store: updated.source.store } : {}),
      },
    });
    res.json(secretView(updated, project, await usagesOf(project), await storesOf(project)));
  });

  router.put('/api/projects/:p/secrets/:name/environments/:env', async (req, res) => {
    const { project, env } = await overrideTarget(req, res);
    const body = parse(overridePutSchema, req.body);
    const secret = await load(project, req.params.name);
    if (secret.source !== undefined) externalOnly(secret);
    const value = parseValue(secret.type, body.value, 'value');
    ctx.secrets.remember(project.id, secret.name, secret.type, value);
    const updated = await save(project, secret, {
      values: { ...secret.values, [env]: ctx.secrets.seal(secret, env, value) },
      missing: (secret.missing ?? []).filter((e) => e !== env),
    });
    await recordChange(project, res, {
      action: 'secret.override.set',
      secret: secret.name,
      environment: env,
    });
    res.json(secretView(updated, project, await usagesOf(project)));
  });

  router.delete('/api/projects/:p/secrets/:name/environments/:env', async (req, res) => {
    const { project, env } = await overrideTarget(req, res);
    const secret = await load(project, req.params.name);
    if (secret.values[env] === undefined) {
      throw new ServerError(
        'SECRET_VALUE_MISSING',
        `secret ${secret.name} has no value of its own for ${env}`,
      );
    }
    const values = { ...secret.values };
    delete values[env];
    const updated = await save(project, secret, { values });
    await recordChange(project, res, {
      action: 'secret.override.delete',
      secret: secret.name,
      environment: env,
    });
    res.json(secretView(updated, project, await usagesOf(project)));
  });

  router.delete('/api/projects/:p/secrets/:name', async (req, res) => {
    const { project } = await projectAccess(ctx, req, res, 'admin', 'deleting secrets');
    const secret = await load(project, req.params.name);
    const q = parse(deleteSecretQuery, req.query);
    if (q.confirm !== secret.name) {
      throw new ServerError(
        'CONFIRM_REQUIRED',
        `repeat the secret's name to delete it: ?confirm=${secret.name}`,
      );
    }
    const usages = (await usagesOf(project)).filter((u) => u.secret === secret.name);
    if (usages.length > 0 && q.force !== 'true') {
      throw new ServerError(
        'SECRET_IN_USE',
        `secret ${secret.name} is used by ${usages.length} place(s) in flows; add &force=true to delete it anyway`,
        { usages },
      );
    }
    await ctx.store.secrets.delete(project.id, secret.name);
    await recordChange(project, res, {
      action: 'secret.delete',
      secret: secret.name,
      details: { forced: usages.length > 0 },
    });
    res.status(204).end();
  });

  router.post('/api/projects/:p/secrets/:name/reveal', async (req, res) => {
    const { project } = await projectAccess(ctx, req, res, 'admin', 'revealing secrets');
    const body = parse(revealSchema, req.body ?? {});
    const secret = await load(project, req.params.name);
    if (secret.visibility !== 'masked' || secret.source !== undefined) {
      throw new ServerError(
        'SECRET_RESTRICTED',
        `secret ${secret.name} is restricted: its value is never returned, to anyone`,
      );
    }
    const environment = body.environment ?? 'default';
    assertEnvironments(project.environments, [environment]);
    if (environment === 'default' && secret.values.default === undefined) {
      throw new ServerError('SECRET_VALUE_MISSING', `secret ${secret.name} has no default value`);
    }
    let opened: { value: SecretValue; from: string };
    try {
      opened = ctx.secrets.openFor(secret, environment);
    } catch (err) {
      if ((err as { code?: unknown }).code === 'SECRET_VALUE_MISSING') {
        throw new ServerError(
          'SECRET_VALUE_MISSING',
          `secret ${secret.name} has no value for environment ${environment}`,
        );
      }
      throw err;
    }
    await audit(ctx, {
      workspaceId: project.workspaceId,
      projectId: project.id,
      actor: actor(res),
      action: 'secret.reveal',
      secret: secret.name,
      environment,
      details: { valueFrom: opened.from },
    });
    // The one authorised way out for a value: written past the response redactor on purpose.
    const text = JSON.stringify({
      name: secret.name,
      type: secret.type,
      environment,
      from: opened.from,
      value: opened.value,
    });
    res.status(200).setHeader('Content-Type', 'application/json; charset=utf-8');
    res.setHeader('Cache-Control', 'no-store');
    res.end(text);
  });

  router.get('/api/projects/:p/secrets/:name/usages', async (req, res) => {
    const { project } = await projectAccess(ctx, req, res, 'viewer');
    const secret = await load(project, req.params.name);
    res.json({ items: (await usagesOf(project)).filter((u) => u.secret === secret.name) });
  });

  router.post('/api/projects/:p/secrets/:name/make-setting', async (req, res) => {
    const { project } = await projectAccess(ctx, req, res, 'admin', 'turning secrets into settings');
    const q = parse(makeSettingQuery, req.query);
    const secret = await load(project, req.params.name);
    if (await ctx.store.settings.get(project.id, secret.name)) {
      throw new ServerError('SETTING_EXISTS', `a setting named ${secret.name} already exists`);
    }
    const usages = (await usagesOf(project)).filter((u) => u.secret === secret.name);
    if (usages.length > 0 && q.force !== 'true') {
      throw new ServerError(
        'SECRET_IN_USE',
        `secret ${secret.name} is used by flows as <secret:${secret.name}>; change them first or add ?force=true`,
        { usages },
      );
    }
    const setting = await ctx.store.transaction(async (tx) => {
      await tx.secrets.delete(project.id, secret.name);
      return tx.settings.put(project.id, secret.name, {});
    });
    await recordChange(project, res, {
      action: 'secret.make-setting',
      secret: secret.name,
    });
    res.status(201).json({
      name: setting.name,
      values: setting.values,
      createdAt: setting.createdAt,
      updatedAt: setting.updatedAt,
    });
  });

  return router;
}
