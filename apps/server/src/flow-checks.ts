// The checks a flow definition passes before it is saved: the runner's validation (shape,
// block configs → 400 FLOW_INVALID with issue paths; only unknown <secret:…> names → 422
// SECRET_REFERENCE_UNKNOWN, SPEC §8's "bad reference"), push
// protection (invariant 8) and the project's requireAllowedHosts policy (SPEC §12).
import type { Project } from '@flowsafe/store';
import type { AppContext } from './context';
import { ServerError } from './errors';
import { assertNoSecretValues } from './push-protection';
import { secretUsesOf } from './secret-usages';

/** Validate and check `definition` for `project`; returns the definition to store. */
export async function checkFlow(
  ctx: AppContext,
  project: Project,
  name: string,
  definition: unknown,
): Promise<unknown> {
  const secrets = await ctx.store.secrets.list(project.id);
  const redactor = await ctx.secrets.redactor(project.id);
  // Push protection first: a validation message must never quote a pasted value back.
  assertNoSecretValues(redactor, 'this flow', [name, JSON.stringify(definition)]);
  const result = await ctx.runner.validate(definition, { secretNames: secrets.map((s) => s.name) });
  if (!result.ok) {
    const first = result.issues[0];
    const where = first && first.path.length > 0 ? `${first.path.join('.')}: ` : '';
    const onlyReferences = result.issues.every((issue) => issue.code === 'UNKNOWN_SECRET');
    throw new ServerError(
      onlyReferences ? 'SECRET_REFERENCE_UNKNOWN' : 'FLOW_INVALID',
      `the flow is not valid: ${where}${first?.message ?? 'invalid definition'}`,
      { issues: result.issues },
    );
  }
  if (project.policy.requireAllowedHosts) {
    const byName = new Map(secrets.map((s) => [s.name, s]));
    for (const use of secretUsesOf(definition)) {
      const secret = byName.get(use.secret);
      if (secret && (secret.allowedHosts === undefined || secret.allowedHosts.length === 0)) {
        throw new ServerError(
          'ALLOWED_HOSTS_REQUIRED',
          `this project requires allowed hosts on every secret a flow uses, and ${secret.name} has none; an owner or admin must set its allowedHosts first`,
          { secret: secret.name, path: use.path },
        );
      }
    }
  }
  return definition;
}
