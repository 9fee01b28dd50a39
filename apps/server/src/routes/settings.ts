// Settings: plain named values of a project with per-environment overrides, readable by every
// member and written by editors. Push protection applies to their values (invariant 8); a
// setting becomes a secret (owner, admin) by moving its values into sealed storage.
import { randomUUID } from 'node:crypto';
import { Router } from 'express';
import type { SecretValue } from '@flowsafe/secrets';
import type { Project, Setting } from '@flowsafe/store';
import { currentUser } from '../auth';
import { type AppContext, audit, projectAccess } from '../context';
import { ServerError, parse } from '../errors';
import { assertNoSecretValues } from '../push-protection';
import { makeSecretSchema, settingNameSchema, settingPutSchema } from '../schemas';
import { assertEnvironments } from './environments';
import { parseAllowedHosts, parseValue, secretView } from './secrets';

export function settingView(s: Setting) {
  return { name: s.name, values: s.values, createdAt: s.createdAt, updatedAt: s.updatedAt };
}

export function settingRoutes(ctx: AppContext): Router {
  const router = Router();

  const load = async (project: Project, rawName: string): Promise<Setting> => {
    const name = parse(settingNameSchema, rawName);
    const setting = await ctx.store.settings.get(project.id, name);
    if (!setting) throw new ServerError('SETTING_NOT_FOUND', `setting ${name} not found in this project`);
    return setting;
  };

  router.get('/api/projects/:p/settings', async (req, res) => {
    const { project } = await projectAccess(ctx, req, res, 'viewer');
    res.json({ items: (await ctx.store.settings.list(project.id)).map(settingView) });
  });

  router.get('/api/projects/:p/settings/:name', async (req, res) => {
    const { project } = await projectAccess(ctx, req, res, 'viewer');
    res.json(settingView(await load(project, req.params.name)));
  });

  router.put('/api/projects/:p/settings/:name', async (req, res) => {
    const { project } = await projectAccess(ctx, req, res, 'editor', 'changing settings');
    const name = parse(settingNameSchema, req.params.name);
    const body = parse(settingPutSchema, req.body);
    const values: Record<string, string> = {};
    if (body.value !== undefined) values.default = body.value;
    for (const [env, v] of Object.entries(body.environments ?? {})) values[env] = v;
    assertEnvironments(project.environments, Object.keys(values));
    if (await ctx.store.secrets.get(project.id, name)) {
      throw new ServerError(
        'SECRET_EXISTS',
        `a secret named ${name} exists; settings and secrets share names`,
      );
    }
    const redactor = await ctx.secrets.redactor(project.id);
    assertNoSecretValues(redactor, `setting ${name}`, Object.values(values));
    const existed = (await ctx.store.settings.get(project.id, name)) !== undefined;
    const setting = await ctx.store.settings.put(project.id, name, values);
    res.status(existed ? 200 : 201).json(settingView(setting));
  });

  router.delete('/api/projects/:p/settings/:name', async (req, res) => {
    const { project } = await projectAccess(ctx, req, res, 'editor', 'deleting settings');
    const setting = await load(project, req.params.name);
    await ctx.store.settings.delete(project.id, setting.name);
    res.status(204).end();
  });

  router.post('/api/projects/:p/settings/:name/make-secret', async (req, res) => {
    const { project } = await projectAccess(ctx, req, res, 'admin', 'turning settings into secrets');
    const body = parse(makeSecretSchema, req.body ?? {});
    const setting = await load(project, req.params.name);
    if (await ctx.store.secrets.get(project.id, setting.name)) {
      throw new ServerError('SECRET_EXISTS', `secret ${setting.name} already exists in this project`);
    }
    const allowedHosts = body.allowedHosts === undefined ? undefined : parseAllowedHosts(body.allowedHosts);
    const plain: Array<[string, SecretValue]> = Object.entries(setting.values)
      .filter(([env]) => env === 'default' || project.environments.includes(env))
      .map(([env, v]) => [env, parseValue('text', v, env === 'default' ? 'value' : `environments.${env}`)]);
    const base = {
      id: randomUUID(),
      workspaceId: project.workspaceId,
      projectId: project.id,
      type: 'text' as const,
      wrappedKey: ctx.secrets.newDataKey(),
    };
    const values = Object.fromEntries(plain.map(([env, v]) => [env, ctx.secrets.seal(base, env, v)]));
    for (const [, v] of plain) ctx.secrets.remember(project.id, setting.name, 'text', v);
    const secret = await ctx.store.transaction(async (tx) => {
      const created = await tx.secrets.create({
        ...base,
        name: setting.name,
        visibility: body.visibility,
        ...(allowedHosts !== undefined ? { allowedHosts } : {}),
        ...(body.description !== undefined ? { description: body.description } : {}),
        values,
      });
      await tx.settings.delete(project.id, setting.name);
      return created;
    });
    ctx.secrets.invalidate(project.id);
    await audit(ctx, {
      workspaceId: project.workspaceId,
      projectId: project.id,
      actor: currentUser(res).id,
      action: 'setting.make-secret',
      secret: secret.name,
      details: { environments: plain.map(([e]) => e).join(',') },
    });
    res.status(201).json(secretView(secret, project));
  });

  return router;
}
