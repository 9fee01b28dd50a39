// What every route module receives: the store, the secrets service, the runner (validation),
// the run service and the logger. Route modules take it as an argument instead of importing
// singletons, so tests build an app per temp dir.
import type { Request, Response } from 'express';
import type { Logger } from 'pino';
import type { Redactor } from '@flowsafe/redact';
import type { Runner } from '@flowsafe/runner';
import type { AuditEvent, Store } from '@flowsafe/store';
import {
  requireProject,
  requireWorkspace,
  type Need,
  type ProjectAccess,
  type WorkspaceAccess,
} from './access';
import { currentUser } from './auth';
import type { ProjectSecrets } from './project-secrets';
import type { RunService } from './runs';

export interface AppContext {
  store: Store;
  secrets: ProjectSecrets;
  /** validates flow definitions against the registered block plugins */
  runner: Pick<Runner, 'validate' | 'plugins'>;
  /** absent until a queue is wired: run endpoints answer 503 */
  runs?: RunService;
  logger: Logger;
}

/** The project of `req.params.p` if the caller may do `what` (needs `need`); sets the response's redactor. */
export async function projectAccess(
  ctx: AppContext,
  req: Request,
  res: Response,
  need: Need,
  what?: string,
  /** also read this flow of the project with the access check (see requireProject) */
  flowId?: string,
): Promise<ProjectAccess> {
  const access = await requireProject(ctx.store, currentUser(res), String(req.params.p), need, what, flowId);
  res.locals.redactor = await ctx.secrets.redactor(access.project.id);
  return access;
}

/** The workspace of `req.params.ws` if the caller may do `what`. */
export async function workspaceAccess(
  ctx: AppContext,
  req: Request,
  res: Response,
  need: Need,
  what?: string,
): Promise<WorkspaceAccess> {
  return requireWorkspace(ctx.store, currentUser(res), String(req.params.ws), need, what);
}

/** The redactor that applies to a response: the project's once known, else the global one. */
export function responseRedactor(ctx: AppContext, res: Response): Redactor {
  return (res.locals.redactor as Redactor | undefined) ?? ctx.secrets.global;
}

/** Append an audit event (never a value: callers pass names, environments and ids). */
export async function audit(ctx: AppContext, event: Omit<AuditEvent, 'id' | 'at'>): Promise<void> {
  await ctx.store.audit.append(event);
}
