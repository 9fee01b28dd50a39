// Projects of a workspace and the project itself: create (editor+), list and read (member),
// rename and policy (owner, admin), delete with everything in it (owner, admin).
import { Router } from 'express';
import type { Project } from '@flowsafe/store';
import { type AppContext, projectAccess, workspaceAccess } from '../context';
import { ServerError, parse } from '../errors';
import { projectCreateSchema, projectPatchSchema } from '../schemas';

export const BUILTIN_ENVIRONMENTS = ['development', 'production'] as const;

export function projectView(p: Project) {
  return {
    id: p.id,
    workspaceId: p.workspaceId,
    name: p.name,
    environments: p.environments,
    policy: p.policy,
    createdAt: p.createdAt,
  };
}

export function projectRoutes(ctx: AppContext): Router {
  const router = Router();

  router.get('/api/workspaces/:ws/projects', async (req, res) => {
    const { workspace } = await workspaceAccess(ctx, req, res, 'viewer');
    const projects = await ctx.store.projects.listByWorkspace(workspace.id);
    res.json({ items: projects.map(projectView) });
  });

  router.post('/api/workspaces/:ws/projects', async (req, res) => {
    const { workspace } = await workspaceAccess(ctx, req, res, 'editor', 'creating projects');
    const body = parse(projectCreateSchema, req.body);
    const project = await ctx.store.projects.create({
      workspaceId: workspace.id,
      name: body.name,
      environments: [...BUILTIN_ENVIRONMENTS],
    });
    res.status(201).json(projectView(project));
  });

  router.get('/api/projects/:p', async (req, res) => {
    const { project } = await projectAccess(ctx, req, res, 'viewer');
    res.json(projectView(project));
  });

  router.patch('/api/projects/:p', async (req, res) => {
    const { project } = await projectAccess(ctx, req, res, 'admin', 'changing a project');
    const body = parse(projectPatchSchema, req.body);
    const patch: Partial<Pick<Project, 'name' | 'policy'>> = {};
    if (body.name !== undefined) patch.name = body.name;
    if (body.policy !== undefined) patch.policy = { ...project.policy, ...body.policy };
    const updated = await ctx.store.projects.update(project.id, patch);
    if (!updated) throw new ServerError('PROJECT_NOT_FOUND', 'project not found');
    res.json(projectView(updated));
  });

  router.delete('/api/projects/:p', async (req, res) => {
    const { project } = await projectAccess(ctx, req, res, 'admin', 'deleting a project');
    await ctx.store.projects.delete(project.id);
    ctx.secrets.invalidate(project.id);
    res.status(204).end();
  });

  return router;
}
