// Environments of a project: `development` and `production` always exist; owners and admins
// add more (`staging`). Values for an environment the project does not have are a 400.
import { Router } from 'express';
import { type AppContext, projectAccess } from '../context';
import { ServerError, parse } from '../errors';
import { environmentCreateSchema } from '../schemas';

export function environmentRoutes(ctx: AppContext): Router {
  const router = Router();

  router.get('/api/projects/:p/environments', async (req, res) => {
    const { project } = await projectAccess(ctx, req, res, 'viewer');
    res.json({
      items: project.environments.map((name) => ({
        name,
        builtin: name === 'development' || name === 'production',
      })),
    });
  });

  router.post('/api/projects/:p/environments', async (req, res) => {
    const { project } = await projectAccess(ctx, req, res, 'admin', 'adding environments');
    const body = parse(environmentCreateSchema, req.body);
    if (project.environments.includes(body.name)) {
      throw new ServerError('ENVIRONMENT_EXISTS', `environment ${body.name} already exists`);
    }
    if (project.environments.length >= 50)
      throw new ServerError('VALIDATION_FAILED', 'a project has at most 50 environments');
    await ctx.store.projects.update(project.id, { environments: [...project.environments, body.name] });
    res.status(201).json({ name: body.name, builtin: false });
  });

  return router;
}

/** Throw ENVIRONMENT_UNKNOWN unless every name is `default` or an environment of the project. */
export function assertEnvironments(environments: readonly string[], names: Iterable<string>): void {
  for (const name of names) {
    if (name !== 'default' && !environments.includes(name)) {
      throw new ServerError(
        'ENVIRONMENT_UNKNOWN',
        `environment ${name} does not exist in this project (known: ${environments.join(', ')}); add it first with POST /api/projects/:p/environments`,
        { environment: name },
      );
    }
  }
}
