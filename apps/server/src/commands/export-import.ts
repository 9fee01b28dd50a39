// `flowsafe export <project> [-o file]` and `flowsafe import <file> --workspace <ws>`: the
// bundles of SPEC §9 (names, types, settings and flows, never a value), the same code as the
// HTTP endpoints, audited as the system actor.
import { readFile, writeFile } from 'node:fs/promises';
import { Redactor } from '@flowsafe/redact';
import { ServerError } from '../errors';
import { buildBundle, projectFromBundle } from '../export';
import { createServerLogger } from '../logger';
import { createServices } from '../services';
import { CliError, firstLine, openRuntime, progress, readConfig } from './runtime';

export async function exportCommand(projectId: string, opts: { output?: string }): Promise<void> {
  const config = readConfig();
  const runtime = await openRuntime(config, { migrate: 'refuse', owner: false });
  try {
    const project = await runtime.store.projects.get(projectId);
    if (!project) throw new CliError(`flowsafe: no project with id ${projectId}`, 1);
    const bundle = await buildBundle(runtime.store, project);
    await runtime.store.audit.append({
      workspaceId: project.workspaceId,
      projectId: project.id,
      actor: 'system',
      action: 'project.export',
    });
    const text = `${JSON.stringify(bundle, null, 2)}\n`;
    if (opts.output !== undefined) {
      await writeFile(opts.output, text, { mode: 0o600 });
      process.stderr.write(`flowsafe: exported project ${project.name} to ${opts.output}\n`);
    } else process.stdout.write(text);
  } finally {
    await runtime.store.close().catch(() => undefined);
  }
}

export async function importCommand(file: string, opts: { workspace: string; name?: string }): Promise<void> {
  const config = readConfig();
  let input: unknown;
  try {
    input = JSON.parse(await readFile(file, 'utf8'));
  } catch (err) {
    throw new CliError(`flowsafe: cannot read the bundle ${file}: ${firstLine(err)}`, 2);
  }
  const runtime = await openRuntime(config, { migrate: 'refuse', owner: false });
  const global = new Redactor();
  const logger = createServerLogger(global, { level: 'silent' });
  const services = await createServices({ store: runtime.store, keyRing: runtime.keyRing, logger, global });
  try {
    const workspace = await runtime.store.workspaces.get(opts.workspace);
    if (!workspace) throw new CliError(`flowsafe: no workspace with id ${opts.workspace}`, 1);
    const bar = progress();
    bar.update(`importing ${file} into workspace ${workspace.name}…`);
    let project;
    try {
      project = await projectFromBundle(services.ctx, workspace.id, input, opts.name);
    } catch (err) {
      bar.done();
      if (err instanceof ServerError) throw new CliError(`flowsafe: ${firstLine(err)}`, 1);
      throw err;
    }
    bar.done();
    await runtime.store.audit.append({
      workspaceId: workspace.id,
      projectId: project.id,
      actor: 'system',
      action: 'project.import',
    });
    process.stdout.write(
      `${JSON.stringify({ id: project.id, name: project.name, workspaceId: workspace.id })}\n`,
    );
  } finally {
    await services.close(0);
    await runtime.store.close().catch(() => undefined);
  }
}
