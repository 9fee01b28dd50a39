// The express application: body parsing with limits, authentication, the routes of SPEC §8,
// the editor's static files, and one error handler that turns anything thrown into
// `{ error: { code, message, details? } }` with the status from errors.ts. Every JSON body
// leaves through the redactor of the request's project (or the global one).
import { existsSync } from 'node:fs';
import path from 'node:path';
import express, { type NextFunction, type Request, type Response } from 'express';
import { redactJsonResponses } from '@flowsafe/redact';
import { authenticate } from './auth';
import { limitBodyDepth } from './body-depth';
import { type AppContext, responseRedactor } from './context';
import { ServerError, toErrorResponse } from './errors';
import { jsonBody } from './json-body';
import { requestLogger } from './logger';
import { openApiDocument } from './openapi';
import { auditRoutes } from './routes/audit';
import { environmentRoutes } from './routes/environments';
import { exportImportRoutes } from './routes/export-import';
import { flowRoutes } from './routes/flows';
import { memberRoutes } from './routes/members';
import { projectRoutes } from './routes/projects';
import { RUN_START_PATH, runRoutes, startRunHandler } from './routes/runs';
import { secretStoreRoutes } from './routes/secret-stores';
import { secretRoutes } from './routes/secrets';
import { settingRoutes } from './routes/settings';
import { workspaceRoutes } from './routes/workspaces';

export const BODY_LIMIT = '1mb';
/** the same limit in bytes (body-parser reads '1mb' as 1 MiB) */
export const BODY_LIMIT_BYTES = 1024 * 1024;

export interface AppOptions {
  /** the built editor (apps/editor/dist); served at / with SPA fallback when it exists */
  editorDir?: string;
  /** log one line per request (default true) */
  logRequests?: boolean;
}

/** A request with a body must say it is JSON (415 otherwise, so bodies are never ignored silently). */
function requireJsonBody(req: Request, _res: Response, next: NextFunction): void {
  const length = req.headers['content-length'];
  const hasBody = req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
  // the exact type (what clients send) needs no parsing of the header
  if (hasBody && req.headers['content-type'] !== 'application/json' && !req.is('application/json')) {
    throw new ServerError(
      'UNSUPPORTED_MEDIA_TYPE',
      'request bodies must be JSON: send Content-Type: application/json',
    );
  }
  next();
}

export function createApp(ctx: AppContext, opts: AppOptions = {}): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  app.set('etag', false);

  // logging, response redaction and the nosniff header in one layer (every request passes it)
  const logRequest = opts.logRequests !== false ? requestLogger(ctx.logger) : undefined;
  const redactResponses = redactJsonResponses((req) =>
    responseRedactor(ctx, (req as Request).res as Response),
  );
  app.use((req, res, next) => {
    res.setHeader('X-Content-Type-Options', 'nosniff');
    logRequest?.(req, res, () => undefined);
    redactResponses(req, res, next);
  });

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/api/openapi.json', (_req, res) => {
    res.json(openApiDocument());
  });

  // every /api request: a JSON body (415 otherwise), parsed within the limit and depth, then the
  // caller's token — one layer, so the router walks one match instead of four
  const parseBody = jsonBody(
    BODY_LIMIT_BYTES,
    express.json({ limit: BODY_LIMIT, strict: true, type: 'application/json' }),
  );
  const auth = authenticate(ctx.store);
  const ignore = (): void => undefined;
  const apiPrelude = (req: Request, res: Response, next: NextFunction): void => {
    requireJsonBody(req, res, ignore); // throws 415
    parseBody(req, res, (err?: unknown) => {
      if (err !== undefined) {
        next(err);
        return;
      }
      try {
        limitBodyDepth(req, res, ignore); // throws 400
      } catch (depthErr) {
        next(depthErr);
        return;
      }
      auth(req, res, next).catch(next);
    });
  };
  // the hot path first, on the app itself (one layer, no router): no other route answers
  // POST …/runs, so the order changes no answer
  app.post(RUN_START_PATH, apiPrelude, startRunHandler(ctx));
  app.use('/api', apiPrelude);
  app.use(runRoutes(ctx));
  app.use(workspaceRoutes(ctx));
  app.use(memberRoutes(ctx));
  app.use(exportImportRoutes(ctx));
  app.use(projectRoutes(ctx));
  app.use(environmentRoutes(ctx));
  app.use(secretRoutes(ctx));
  app.use(secretStoreRoutes(ctx));
  app.use(settingRoutes(ctx));
  app.use(flowRoutes(ctx));
  app.use(auditRoutes(ctx));
  app.use('/api', () => {
    throw new ServerError('NOT_FOUND', 'no such endpoint (see GET /api/openapi.json)');
  });

  const editorDir = opts.editorDir;
  if (editorDir !== undefined && existsSync(path.join(editorDir, 'index.html'))) {
    app.use(express.static(editorDir, { index: 'index.html', fallthrough: true }));
    app.get('/{*splat}', (_req, res) => {
      res.sendFile(path.join(editorDir, 'index.html'));
    });
  }
  app.use(() => {
    throw new ServerError('NOT_FOUND', 'not found');
  });

  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const { status, body } = toErrorResponse(err);
    if (status >= 500) ctx.logger.error({ err }, 'request failed');
    if (res.headersSent) {
      res.end();
      return;
    }
    res.status(status).json(responseRedactor(ctx, res).redactJson(body));
  });

  return app;
}
