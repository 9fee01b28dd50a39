// /api/me and /api/workspaces: who am I, which workspaces do I belong to, create one.
import { Router } from 'express';
import { currentUser } from '../auth';
import { type AppContext, workspaceAccess } from '../context';
import { parse } from '../errors';
import { workspaceCreateSchema } from '../schemas';

export function workspaceRoutes(ctx: AppContext): Router {
  const router = Router();

  router.get('/api/me', async (_req, res) => {
    const user = currentUser(res);
    const members = await ctx.store.members.listByUser(user.id);
    const workspaces = await ctx.store.workspaces.list(members.map((m) => m.workspaceId));
    const byId = new Map(workspaces.map((w) => [w.id, w]));
    res.json({
      user: { id: user.id, name: user.name, createdAt: user.createdAt },
      workspaces: members.flatMap((m) => {
        const w = byId.get(m.workspaceId);
        return w ? [{ id: w.id, name: w.name, role: m.role }] : [];
      }),
    });
  });

  router.get('/api/workspaces', async (_req, res) => {
    const user = currentUser(res);
    const members = await ctx.store.members.listByUser(user.id);
    const workspaces = await ctx.store.workspaces.list(members.map((m) => m.workspaceId));
    const roles = new Map(members.map((m) => [m.workspaceId, m.role]));
    res.json({ items: workspaces.map((w) => ({ ...w, role: roles.get(w.id) })) });
  });

  router.post('/api/workspaces', async (req, res) => {
    const user = currentUser(res);
    const body = parse(workspaceCreateSchema, req.body);
    const workspace = await ctx.store.transaction(async (tx) => {
      const w = await tx.workspaces.create({ name: body.name });
      await tx.members.add({ workspaceId: w.id, userId: user.id, role: 'owner' });
      return w;
    });
    res.status(201).json({ ...workspace, role: 'owner' });
  });

  router.get('/api/workspaces/:ws', async (req, res) => {
    const { workspace, member } = await workspaceAccess(ctx, req, res, 'viewer');
    res.json({ ...workspace, role: member.role });
  });

  return router;
}
