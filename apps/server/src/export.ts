// Export bundles (SPEC §9), import and duplicate (invariant 11). A bundle keeps names, types,
// visibility, allowed hosts and which environments had values — never a value or a sealed
// value. Import and duplicate both create a new project from a bundle, so every secret of the
// new project shows `missing` for the environments that had values until one is entered.
// A secret kept in an external store keeps its `source` (store name and refs are not
// secrets); in a workspace without that store it shows `missing` until the store exists.
import { randomUUID } from 'node:crypto';
import type { Project, Store } from '@flowsafe/store';
import type { AppContext } from './context';
import { ServerError, parse } from './errors';
import { BUILTIN_ENVIRONMENTS } from './routes/projects';
import { type Bundle, bundleSchema } from './schemas';
import { parseAllowedHosts } from './routes/secrets';

/** The bundle of a project. */
export async function buildBundle(store: Store, project: Project): Promise<Bundle> {
  const [settings, secrets, flows] = await Promise.all([
    store.settings.list(project.id),
    store.secrets.list(project.id),
    store.flows.list(project.id),
  ]);
  return {
    format: 'flowsafe.project',
    version: 1,
    exportedAt: new Date().toISOString(),
    project: { name: project.name, environments: [...project.environments], policy: { ...project.policy } },
    settings: settings.map((s) => ({ name: s.name, values: { ...s.values } })),
    secrets: secrets.map((s) => ({
      name: s.name,
      type: s.type,
      visibility: s.visibility,
      ...(s.allowedHosts !== undefined ? { allowedHosts: [...s.allowedHosts] } : {}),
      ...(s.description !== undefined ? { description: s.description } : {}),
      // environments with a value now, plus those still missing since an earlier import
      hadValues: [...new Set([...Object.keys(s.values), ...(s.missing ?? [])])],
      ...(s.source !== undefined
        ? {
            source: {
              store: s.source.store,
              ref: s.source.ref,
              ...(s.source.environments !== undefined ? { environments: { ...s.source.environments } } : {}),
            },
          }
        : {}),
    })),
    flows: flows.map((f) => ({
      name: f.name,
      definition: structuredClone(f.definition) as Record<string, unknown>,
    })),
  };
}

/** Create a new project in `workspaceId` from a bundle (already parsed or raw input). */
export async function projectFromBundle(
  ctx: AppContext,
  workspaceId: string,
  input: unknown,
  name?: string,
): Promise<Project> {
  const bundle = parse(bundleSchema, input);
  const environments = [...new Set([...BUILTIN_ENVIRONMENTS, ...(bundle.project.environments ?? [])])];
  const known = new Set(['default', ...environments]);
  const names = new Set<string>();
  for (const s of [...bundle.secrets, ...bundle.settings]) {
    if (names.has(s.name))
      throw new ServerError(
        'BUNDLE_INVALID',
        `the bundle holds ${s.name} more than once (secret and setting names are unique)`,
      );
    names.add(s.name);
  }
  for (const s of bundle.settings) {
    for (const env of Object.keys(s.values)) {
      if (!known.has(env))
        throw new ServerError(
          'BUNDLE_INVALID',
          `setting ${s.name} has a value for ${env}, which is not an environment of the bundle`,
        );
    }
  }
  const secretNames = bundle.secrets.map((s) => s.name);
  for (const [i, f] of bundle.flows.entries()) {
    const result = await ctx.runner.validate(f.definition, { secretNames });
    if (!result.ok) {
      throw new ServerError(
        'BUNDLE_INVALID',
        `flow ${f.name} (flows.${i}) is not valid: ${result.issues[0]?.message ?? 'invalid'}`,
        { flow: f.name, issues: result.issues },
      );
    }
  }
  const secrets = bundle.secrets.map((s) => ({
    ...s,
    allowedHosts: s.allowedHosts === undefined ? undefined : parseAllowedHosts(s.allowedHosts),
    missing: s.source !== undefined ? [] : s.hadValues.filter((e) => known.has(e)),
  }));
  for (const s of secrets) {
    for (const env of Object.keys(s.source?.environments ?? {})) {
      if (!known.has(env))
        throw new ServerError(
          'BUNDLE_INVALID',
          `secret ${s.name} has a ref for ${env}, which is not an environment of the bundle`,
        );
    }
  }

  const project = await ctx.store.transaction(async (tx) => {
    const created = await tx.projects.create({
      workspaceId,
      name: name ?? bundle.project.name,
      environments,
    });
    const withPolicy = bundle.project.policy
      ? ((await tx.projects.update(created.id, {
          policy: { ...created.policy, ...bundle.project.policy },
        })) ?? created)
      : created;
    for (const s of bundle.settings) await tx.settings.put(created.id, s.name, { ...s.values });
    for (const s of secrets) {
      await tx.secrets.create({
        id: randomUUID(),
        workspaceId,
        projectId: created.id,
        name: s.name,
        type: s.type,
        visibility: s.source !== undefined ? 'restricted' : s.visibility,
        ...(s.allowedHosts !== undefined ? { allowedHosts: s.allowedHosts } : {}),
        ...(s.description !== undefined ? { description: s.description } : {}),
        wrappedKey: ctx.secrets.newDataKey(),
        values: {},
        missing: s.missing,
        ...(s.source !== undefined ? { source: s.source } : {}),
      });
    }
    for (const f of bundle.flows)
      await tx.flows.create({ projectId: created.id, name: f.name, definition: f.definition });
    return withPolicy;
  });
  ctx.secrets.invalidate(project.id);
  return project;
}
