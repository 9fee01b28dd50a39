// `flowsafe run <project> <flow> --env <env> [--input json]`: runs one flow in this process
// (whatever the mode: the store may be PostgreSQL, the run does not go through the queue) and
// prints its record as JSON. Exit code 0 when it succeeded, 1 otherwise.
import { bufferedDestination, Redactor } from '@flowsafe/redact';
import { createServerLogger } from '../logger';
import { createServices } from '../services';
import { CliError, firstLine, openRuntime, readConfig } from './runtime';

export interface RunCommandOptions {
  env: string;
  input?: string;
  timeoutMs?: number;
}

export async function runCommand(
  projectId: string,
  flowRef: string,
  opts: RunCommandOptions,
): Promise<number> {
  const config = readConfig();
  let input: Record<string, unknown> | undefined;
  if (opts.input !== undefined) {
    try {
      input = JSON.parse(opts.input) as Record<string, unknown>;
    } catch (err) {
      throw new CliError(`flowsafe: --input is not JSON: ${firstLine(err)}`, 2);
    }
    if (typeof input !== 'object' || input === null || Array.isArray(input)) {
      throw new CliError('flowsafe: --input must be a JSON object of flow variables', 2);
    }
  }
  const runtime = await openRuntime(config, { migrate: 'refuse', owner: false });
  const global = new Redactor();
  // stdout carries the run record (scripts parse it); log lines go to stderr
  const logger = createServerLogger(global, {
    level: config.logLevel === 'info' ? 'warn' : config.logLevel,
    destination: bufferedDestination(2),
  });
  const services = await createServices({
    store: runtime.store,
    keyRing: runtime.keyRing,
    logger,
    global,
    egressAllow: config.egressAllow,
    concurrency: 1,
  });
  try {
    const project = await runtime.store.projects.get(projectId);
    if (!project) throw new CliError(`flowsafe: no project with id ${projectId}`, 1);
    const flow =
      (await runtime.store.flows.get(project.id, flowRef)) ??
      (await runtime.store.flows.list(project.id)).find((f) => f.name === flowRef);
    if (!flow) throw new CliError(`flowsafe: no flow ${flowRef} in project ${project.name}`, 1);
    if (!project.environments.includes(opts.env)) {
      throw new CliError(
        `flowsafe: project ${project.name} has no environment ${opts.env} (it has ${project.environments.join(', ')})`,
        2,
      );
    }
    const { record } = await services.ctx.runs!.start({
      project,
      flowId: flow.id,
      environment: opts.env,
      ...(input !== undefined ? { input } : {}),
      waitMs: opts.timeoutMs ?? 300_000,
      actor: 'system',
    });
    const redactor = await services.ctx.secrets.redactor(project.id);
    process.stdout.write(`${JSON.stringify(redactor.redactJson(record), null, 2)}\n`);
    return record.status === 'succeeded' ? 0 : 1;
  } finally {
    await services.close(1000);
    await runtime.store.close().catch(() => undefined);
  }
}
