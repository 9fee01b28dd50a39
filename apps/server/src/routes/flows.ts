// Flows of a project: members read them, editors create, change and delete them. Every save
// passes checkFlow (validation, push protection, allowed-hosts policy).
import { Router } from 'express';
import type { Flow, Project } from '@flowsafe/store';
import { type AppContext, projectAccess } from '../context';
import { ServerError, parse } from '../errors';
import { checkFlow } from '../flow-checks';
import { flowCreateSchema, flowPutSchema } from '../schemas';

export function flowView(f: Flow) {
  return {
    id: f.id,
    projectId: f.projectId,
    name: f.name,
    definition: f.definition,
    createdAt: f.createdAt,
    updatedAt: f.updatedAt,
  };
}

/** A flow id from a path that is worth looking up (no flow has a longer one). */
export function flowLookupId(id: string): string | undefined {
  return id.length <= 100 ? id : undefined;
}

/** The flow that was found, or FLOW_NOT_FOUND. */
export function requireFlow(flow: Flow | undefined): Flow {
  if (!flow) throw new ServerError('FLOW_NOT_FOUND', 'flow not found in this project');
  return flow;
}

export async function loadFlow(ctx: AppContext, project: Project, id: string): Promise<Flow> {
  const lookup = flowLookupId(id);
  return requireFlow(lookup === undefined ? undefined : await ctx.store.flows.get(project.id, lookup));
}

export function flowRoutes(ctx: AppContext): Router {
  const router = Router();

  router.get('/api/projects/:p/flows', async (req, res) => {
    const { project } = await projectAccess(ctx, req, res, 'viewer');
    const flows = await ctx.store.flows.list(project.id);
    res.json({
      items: flows.map((f) => ({ id: f.id, name: f.name, createdAt: f.createdAt, updatedAt: f.updatedAt })),
    });
  });

  router.post('/api/projects/:p/flows', async (req, res) => {
    const { project } = await projectAccess(ctx, req, res, 'editor', 'creating flows');
    const body = parse(flowCreateSchema, req.body);
    const definition = await checkFlow(ctx, project, body.name, body.definition);
    const flow = await ctx.store.flows.create({ projectId: project.id, name: body.name, definition });
    res.status(201).json(flowView(flow));
  });

  router.get('/api/projects/:p/flows/:f', async (req, res) => {
    const { project } = await projectAccess(ctx, req, res, 'viewer');
    res.json(flowView(await loadFlow(ctx, project, req.params.f)));
  });

  router.put('/api/projects/:p/flows/:f', async (req, res) => {
    const { project } = await projectAccess(ctx, req, res, 'editor', 'changing flows');
    const body = parse(flowPutSchema, req.body);
    const flow = await loadFlow(ctx, project, req.params.f);
    const name = body.name ?? flow.name;
    const definition = await checkFlow(ctx, project, name, body.definition ?? flow.definition);
    const updated = await ctx.store.flows.update(project.id, flow.id, { name, definition });
    if (!updated) throw new ServerError('FLOW_NOT_FOUND', 'flow not found in this project');
    res.json(flowView(updated));
  });

  router.delete('/api/projects/:p/flows/:f', async (req, res) => {
    const { project } = await projectAccess(ctx, req, res, 'editor', 'deleting flows');
    const flow = await loadFlow(ctx, project, req.params.f);
    await ctx.store.flows.delete(project.id, flow.id);
    res.status(204).end();
  });

  return router;
}
