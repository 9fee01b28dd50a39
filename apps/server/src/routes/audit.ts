// The audit log of a project (owners and admins): who did what to which secret, when, in
// which environment and run — never a value.
import { Router } from 'express';
import { type AppContext, projectAccess } from '../context';
import { parse } from '../errors';
import { pageQuery } from '../schemas';

export function auditRoutes(ctx: AppContext): Router {
  const router = Router();
  router.get('/api/projects/:p/audit', async (req, res) => {
    const { project } = await projectAccess(ctx, req, res, 'admin', 'reading the audit log');
    const q = parse(pageQuery, req.query);
    const page = await ctx.store.audit.list(project.workspaceId, {
      projectId: project.id,
      limit: q.limit,
      ...(q.cursor !== undefined ? { cursor: q.cursor } : {}),
    });
    res.json(page);
  });
  return router;
}
