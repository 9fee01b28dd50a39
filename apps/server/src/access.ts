// Role checks (SPEC invariant 10). Whoever is not a member of a workspace learns nothing about
// it: every workspace, project or object inside answers 404 as if it did not exist. A member
// whose role is too low gets 403, which tells it nothing it could not already see.
import type { Flow, Member, Project, Role, Store, User, Workspace } from '@flowsafe/store';
import { ServerError } from './errors';

const RANK: Record<Role, number> = { viewer: 1, editor: 2, admin: 3, owner: 4 };

/** `viewer` = any member; `editor` = editor+; `admin` = owner or admin; `owner` = owner only. */
export type Need = Role;

export function hasRole(role: Role, need: Need): boolean {
  return RANK[role] >= RANK[need];
}

const NEED_TEXT: Record<Need, string> = {
  viewer: 'a member',
  editor: 'an editor, admin or owner',
  admin: 'an admin or owner',
  owner: 'an owner',
};

function forbid(member: Member, need: Need, what: string): never {
  throw new ServerError(
    'FORBIDDEN',
    `${what} needs ${NEED_TEXT[need]} of the workspace (your role: ${member.role})`,
  );
}

export interface WorkspaceAccess {
  workspace: Workspace;
  member: Member;
}

export interface ProjectAccess {
  project: Project;
  member: Member;
  /** the flow asked for with the access check (absent when the project has no such flow) */
  flow?: Flow;
}

/** The workspace if `user` is a member with at least `need`; 404 for non-members. */
export async function requireWorkspace(
  store: Store,
  user: User,
  workspaceId: string,
  need: Need,
  what = 'this',
): Promise<WorkspaceAccess> {
  const member = await store.members.get(workspaceId, user.id);
  const workspace = member ? await store.workspaces.get(workspaceId) : undefined;
  if (!member || !workspace) throw new ServerError('WORKSPACE_NOT_FOUND', 'workspace not found');
  if (!hasRole(member.role, need)) forbid(member, need, what);
  return { workspace, member };
}

/** The project if `user` is a member of its workspace with at least `need`; 404 otherwise. */
export async function requireProject(
  store: Store,
  user: User,
  projectId: string,
  need: Need,
  what = 'this',
  /** also read this flow of the project, in the same read (no flow is ever shown to a non-member) */
  flowId?: string,
): Promise<ProjectAccess> {
  // The project and the caller's role (and the flow) in one read: one statement on PostgreSQL.
  const found = await store.projects.getWithAccess(projectId, user.id, flowId);
  // A membership implies the workspace exists (deleting a workspace removes its members).
  if (!found?.role) throw new ServerError('PROJECT_NOT_FOUND', 'project not found');
  const { project, role, flow } = found;
  const member: Member = { workspaceId: project.workspaceId, userId: user.id, role };
  if (!hasRole(member.role, need)) forbid(member, need, what);
  return flow ? { project, member, flow } : { project, member };
}
