// Run endpoints: start a run of a flow (editor+), list and read runs (member), cancel (editor+).
import { type Request, type Response, Router } from 'express';
import { currentUser } from '../auth';
import { redactedJson } from '@flowsafe/redact';
import { type AppContext, projectAccess, responseRedactor } from '../context';
import { ServerError, parse } from '../errors';
import { DEFAULT_WAIT_MS, type RunService } from '../runs';
import { pageQuery, runCreateSchema } from '../schemas';
import { assertEnvironments } from './environments';
import { flowLookupId, loadFlow, requireFlow } from './flows';

/** The hot path: starting a run. createApp mounts it on the app itself, not in the router
 *  below, so that a run request is matched by one layer instead of going through a router. */
export const RUN_START_PATH = '/api/projects/:p/flows/:f/runs';

function runService(ctx: AppContext): RunService {
  if (!ctx.runs) throw new ServerError('SERVICE_UNAVAILABLE', 'runs are not available on this server');
  return ctx.runs;
}

export function startRunHandler(ctx: AppContext) {
  return async (req: Request<{ p: string; f: string }>, res: Response): Promise<void> => {
    // the project, the caller's role and the flow in one read (one statement on PostgreSQL)
    const access = await projectAccess(ctx, req, res, 'editor', 'running flows', flowLookupId(req.params.f));
    const { project } = access;
    const body = parse(runCreateSchema, req.body);
    const flow = requireFlow(access.flow);
    assertEnvironments(project.environments, [body.environment]);
    const { finished, record } = await runService(ctx).start({
      project,
      flowId: flow.id,
      environment: body.environment,
      ...(body.input !== undefined ? { input: body.input } : {}),
      waitMs: body.waitMs ?? DEFAULT_WAIT_MS,
      actor: currentUser(res).id,
    });
    // the hot path writes its JSON itself: the same redaction rule as every res.json
    // (redactedJson), without express's content-type and charset handling per response
    const text = redactedJson(responseRedactor(ctx, res), record);
    res.statusCode = finished ? 200 : 202;
    res.setHeader('Content-Type', 'application/json; charset=utf-8');
    res.setHeader('Content-Length', Buffer.byteLength(text));
    res.end(text);
  };
}

/** Listing, reading and cancelling runs (starting one: startRunHandler). */
export function runRoutes(ctx: AppContext): Router {
  const router = Router();
  const service = (): RunService => runService(ctx);

  router.get('/api/projects/:p/flows/:f/runs', async (req, res) => {
    const { project } = await projectAccess(ctx, req, res, 'viewer');
    const q = parse(pageQuery, req.query);
    const flow = await loadFlow(ctx, project, req.params.f);
    const page = await service().list(project.id, {
      flowId: flow.id,
      limit: q.limit,
      ...(q.cursor !== undefined ? { cursor: q.cursor } : {}),
    });
    res.json(page);
  });

  router.get('/api/projects/:p/runs', async (req, res) => {
    const { project } = await projectAccess(ctx, req, res, 'viewer');
    const q = parse(pageQuery, req.query);
    const page = await service().list(project.id, {
      limit: q.limit,
      ...(q.cursor !== undefined ? { cursor: q.cursor } : {}),
    });
    res.json(page);
  });

  router.get('/api/projects/:p/runs/:runId', async (req, res) => {
    const { project } = await projectAccess(ctx, req, res, 'viewer');
    const run =
      req.params.runId.length <= 100 ? await service().get(project.id, req.params.runId) : undefined;
    if (!run) throw new ServerError('RUN_NOT_FOUND', 'run not found in this project');
    res.json(run);
  });

  router.post('/api/projects/:p/runs/:runId/cancel', async (req, res) => {
    const { project } = await projectAccess(ctx, req, res, 'editor', 'cancelling runs');
    res.json(await service().cancel(project, req.params.runId));
  });

  return router;
}
