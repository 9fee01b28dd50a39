// Workspace members: owners and admins add (a new user with a token shown once, or an
// existing user by id), change and remove members; any member lists them. Only an owner can
// grant or take the owner role, and the last owner cannot be removed or demoted.
import { Router } from 'express';
import type { Member, Role } from '@flowsafe/store';
import { currentUser } from '../auth';
import { type AppContext, audit, workspaceAccess } from '../context';
import { ServerError, parse } from '../errors';
import { memberCreateSchema, memberUpdateSchema } from '../schemas';
import { generateToken, hashToken } from '../tokens';

export function memberRoutes(ctx: AppContext): Router {
  const router = Router();

  const view = async (m: Member) => {
    const user = await ctx.store.users.get(m.userId);
    return { user: { id: m.userId, name: user?.name ?? '' }, role: m.role };
  };

  const ownerGate = (actorRole: Role, role: Role | undefined) => {
    if (role === 'owner' && actorRole !== 'owner') {
      throw new ServerError('FORBIDDEN', 'only an owner can grant or take the owner role');
    }
  };

  const lastOwnerGate = async (workspaceId: string, target: Member) => {
    if (target.role !== 'owner') return;
    const owners = (await ctx.store.members.listByWorkspace(workspaceId)).filter((m) => m.role === 'owner');
    if (owners.length <= 1)
      throw new ServerError('LAST_OWNER', 'a workspace needs at least one owner; add another owner first');
  };

  router.get('/api/workspaces/:ws/members', async (req, res) => {
    const { workspace } = await workspaceAccess(ctx, req, res, 'viewer');
    const members = await ctx.store.members.listByWorkspace(workspace.id);
    res.json({ items: await Promise.all(members.map(view)) });
  });

  router.post('/api/workspaces/:ws/members', async (req, res) => {
    const { workspace, member } = await workspaceAccess(ctx, req, res, 'admin', 'adding members');
    const body = parse(memberCreateSchema, req.body);
    ownerGate(member.role, body.role);
    if ('userId' in body) {
      const user = await ctx.store.users.get(body.userId);
      if (!user) throw new ServerError('NOT_FOUND', 'user not found');
      if (await ctx.store.members.get(workspace.id, user.id))
        throw new ServerError('MEMBER_EXISTS', 'this user is already a member; change the role with PATCH');
      await ctx.store.members.add({ workspaceId: workspace.id, userId: user.id, role: body.role });
      await audit(ctx, {
        workspaceId: workspace.id,
        actor: currentUser(res).id,
        action: 'member.add',
        details: { userId: user.id, role: body.role },
      });
      res.status(201).json({ user: { id: user.id, name: user.name }, role: body.role });
      return;
    }
    const token = generateToken();
    const user = await ctx.store.transaction(async (tx) => {
      const u = await tx.users.create({ name: body.name, tokenHash: hashToken(token) });
      await tx.members.add({ workspaceId: workspace.id, userId: u.id, role: body.role });
      return u;
    });
    await audit(ctx, {
      workspaceId: workspace.id,
      actor: currentUser(res).id,
      action: 'member.add',
      details: { userId: user.id, role: body.role },
    });
    res.status(201).json({ user: { id: user.id, name: user.name }, role: body.role, token });
  });

  router.get('/api/workspaces/:ws/members/:userId', async (req, res) => {
    const { workspace } = await workspaceAccess(ctx, req, res, 'viewer');
    const target = await ctx.store.members.get(workspace.id, req.params.userId);
    if (!target) throw new ServerError('MEMBER_NOT_FOUND', 'member not found');
    res.json(await view(target));
  });

  router.patch('/api/workspaces/:ws/members/:userId', async (req, res) => {
    const { workspace, member } = await workspaceAccess(ctx, req, res, 'admin', 'changing members');
    const body = parse(memberUpdateSchema, req.body);
    const target = await ctx.store.members.get(workspace.id, req.params.userId);
    if (!target) throw new ServerError('MEMBER_NOT_FOUND', 'member not found');
    ownerGate(member.role, body.role);
    ownerGate(member.role, target.role);
    if (body.role !== 'owner') await lastOwnerGate(workspace.id, target);
    const updated = await ctx.store.members.update(workspace.id, target.userId, body.role);
    if (!updated) throw new ServerError('MEMBER_NOT_FOUND', 'member not found');
    await audit(ctx, {
      workspaceId: workspace.id,
      actor: currentUser(res).id,
      action: 'member.update',
      details: { userId: target.userId, role: body.role },
    });
    res.json(await view(updated));
  });

  router.delete('/api/workspaces/:ws/members/:userId', async (req, res) => {
    const { workspace, member } = await workspaceAccess(ctx, req, res, 'admin', 'removing members');
    const target = await ctx.store.members.get(workspace.id, req.params.userId);
    if (!target) throw new ServerError('MEMBER_NOT_FOUND', 'member not found');
    ownerGate(member.role, target.role);
    await lastOwnerGate(workspace.id, target);
    await ctx.store.members.remove(workspace.id, target.userId);
    await audit(ctx, {
      workspaceId: workspace.id,
      actor: currentUser(res).id,
      action: 'member.remove',
      details: { userId: target.userId },
    });
    res.status(204).end();
  });

  return router;
}
