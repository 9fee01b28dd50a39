// Export, import and duplicate (SPEC §9, invariant 11): editor+ in the workspace concerned.
import { Router } from 'express';
import { currentUser } from '../auth';
import { type AppContext, audit, projectAccess, workspaceAccess } from '../context';
import { parse } from '../errors';
import { buildBundle, projectFromBundle } from '../export';
import { duplicateSchema, importQuery } from '../schemas';
import { projectView } from './projects';

export function exportImportRoutes(ctx: AppContext): Router {
  const router = Router();

  router.get('/api/projects/:p/export', async (req, res) => {
    const { project } = await projectAccess(ctx, req, res, 'editor', 'exporting a project');
    const bundle = await buildBundle(ctx.store, project);
    await audit(ctx, {
      workspaceId: project.workspaceId,
      projectId: project.id,
      actor: currentUser(res).id,
      action: 'project.export',
    });
    res.setHeader('Content-Disposition', `attachment; filename="flowsafe-project-${project.id}.json"`);
    res.json(bundle);
  });

  router.post('/api/workspaces/:ws/projects/import', async (req, res) => {
    const { workspace } = await workspaceAccess(ctx, req, res, 'editor', 'importing projects');
    const q = parse(importQuery, req.query);
    const project = await projectFromBundle(ctx, workspace.id, req.body, q.name);
    await audit(ctx, {
      workspaceId: workspace.id,
      projectId: project.id,
      actor: currentUser(res).id,
      action: 'project.import',
    });
    res.status(201).json(projectView(project));
  });

  router.post('/api/projects/:p/duplicate', async (req, res) => {
    const { project } = await projectAccess(ctx, req, res, 'editor', 'duplicating a project');
    const body = parse(duplicateSchema, req.body);
    const bundle = await buildBundle(ctx.store, project);
    const copy = await projectFromBundle(ctx, project.workspaceId, bundle, body.name);
    await audit(ctx, {
      workspaceId: project.workspaceId,
      projectId: copy.id,
      actor: currentUser(res).id,
      action: 'project.duplicate',
      details: { from: project.id },
    });
    res.status(201).json(projectView(copy));
  });

  return router;
}
