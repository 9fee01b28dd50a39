// The `flowsafe` command (SPEC §10), on commander: start (the default), worker, migrate,
// rotate-key, export, import and run, each with --help. Exit codes scripts can trust: 0 ok,
// 1 failure, 2 usage or configuration error; every error is one line on stderr, never a stack.
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { exportCommand, importCommand } from './commands/export-import';
import { migrateCommand } from './commands/migrate';
import { rotateKeyCommand } from './commands/rotate-key';
import { runCommand } from './commands/run';
import { toCliError } from './commands/runtime';
import { startCommand } from './commands/start';
import { workerCommand } from './commands/worker';

function count(name: string, min: number) {
  return (value: string): number => {
    if (!/^\d{1,6}$/.test(value) || Number(value) < min) {
      throw new InvalidArgumentError(`${name} must be a whole number of at least ${min}`);
    }
    return Number(value);
  };
}

function exitWith(code: number): never {
  process.exit(code);
}

let serving = false;

/** `flowsafe <unknown>`: exit 2 with one line naming it (and the closest command, if any). */
function unknownCommand(name: string): never {
  const known = program.commands.map((c) => c.name());
  const close = known.find((k) => editDistance(k, name) <= Math.max(1, Math.floor(k.length * 0.4)));
  return program.error(
    `unknown command '${name}'${close ? ` (did you mean '${close}'?)` : ''}; see flowsafe --help`,
    { code: 'commander.unknownCommand', exitCode: 2 },
  );
}

function editDistance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) {
      next[j] = Math.min(
        (row[j] ?? 0) + 1,
        (next[j - 1] ?? 0) + 1,
        (row[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    row = next;
  }
  return row[b.length] ?? 0;
}

const program = new Command()
  .name('flowsafe')
  .description('A workflow runner whose API blocks use secrets that never leave the dispatch step.')
  .showSuggestionAfterError(true)
  .exitOverride()
  .configureOutput({
    outputError: (text, write) =>
      write(
        `flowsafe: ${
          text
            .replace(/^error: /, '')
            .trim()
            .split('\n')[0]
        }\n`,
      ),
  });

program
  .command('start', { isDefault: true })
  .description(
    'serve the HTTP API and the editor (configuration from environment variables: PORT, HOST, FLOWSAFE_DATA_DIR, FLOWSAFE_DATABASE_URL, ...)',
  )
  .option(
    '--no-migrate',
    'PostgreSQL mode: do not apply pending migrations; refuse to start if any are pending',
  )
  .addOption(
    new Option(
      '--workers <n>',
      'PostgreSQL mode: also execute up to n runs at once in this process (default 0: only `flowsafe worker` processes run flows); embedded mode: runs at once (default 8)',
    ).argParser(count('--workers', 0)),
  )
  // start is the default command, so `flowsafe bogus` lands here as an argument of start:
  // answer it as the unknown command it is, with the closest one
  .allowExcessArguments(true)
  .action(async (opts: { migrate: boolean; workers?: number }, command: Command) => {
    const [extra] = command.args;
    if (extra !== undefined) {
      if (process.argv.slice(2).includes('start'))
        program.error(`start takes no arguments, got '${extra}'; see flowsafe start --help`, {
          code: 'commander.excessArguments',
          exitCode: 2,
        });
      unknownCommand(extra);
    }
    await startCommand({
      migrate: opts.migrate,
      ...(opts.workers !== undefined ? { workers: opts.workers } : {}),
    });
    serving = true; // the server exits on SIGINT or SIGTERM
  });

program
  .command('worker')
  .description('PostgreSQL mode: take runs from the queue and execute them; SIGTERM drains')
  .addOption(
    new Option('--concurrency <n>', 'runs executed at once').argParser(count('--concurrency', 1)).default(8),
  )
  .addOption(
    new Option(
      '--grace-ms <ms>',
      'on SIGTERM, how long in-flight runs may take before they are cancelled (default FLOWSAFE_SHUTDOWN_GRACE_MS or 30000)',
    ).argParser(count('--grace-ms', 0)),
  )
  .option('--no-migrate', 'do not apply pending migrations; refuse to start if any are pending')
  .action(async (opts: { concurrency: number; graceMs?: number; migrate: boolean }) => {
    await workerCommand({
      concurrency: opts.concurrency,
      migrate: opts.migrate,
      ...(opts.graceMs !== undefined ? { graceMs: opts.graceMs } : {}),
    });
  });

program
  .command('migrate')
  .description('PostgreSQL mode: apply pending database migrations (progress on a terminal)')
  .action(migrateCommand);

program
  .command('rotate-key')
  .description(
    're-wrap every data key under a new master key (values unchanged; re-runnable after an interruption). Stop flowsafe first.',
  )
  .option(
    '--new-key-file <file>',
    'the new master key (32 bytes base64); else FLOWSAFE_NEW_MASTER_KEY; else one is generated into <dataDir>/master.key.new',
  )
  .action(async (opts: { newKeyFile?: string }) => {
    await rotateKeyCommand(opts);
  });

program
  .command('export')
  .description('write the bundle of a project (names, types, settings, flows; never a secret value)')
  .argument('<project>', 'project id')
  .option('-o, --output <file>', 'write to this file (mode 0600) instead of stdout')
  .action(async (project: string, opts: { output?: string }) => {
    await exportCommand(project, opts);
  });

program
  .command('import')
  .description('create a project from a bundle; its secrets show as missing until values are entered')
  .argument('<file>', 'a bundle written by `flowsafe export`')
  .requiredOption('--workspace <ws>', 'workspace id')
  .option('--name <name>', 'name of the new project (default: the bundle’s)')
  .action(async (file: string, opts: { workspace: string; name?: string }) => {
    await importCommand(file, opts);
  });

program
  .command('run')
  .description(
    'run a flow in this process and print its run record as JSON (exit 0 if it succeeded, 1 if not)',
  )
  .argument('<project>', 'project id')
  .argument('<flow>', 'flow id or name')
  .requiredOption('--env <env>', 'environment')
  .option('--input <json>', 'flow variables as a JSON object')
  .action(async (project: string, flow: string, opts: { env: string; input?: string }) => {
    process.exitCode = await runCommand(project, flow, opts);
  });

try {
  await program.parseAsync(process.argv);
  // one-shot commands end here, whatever timers or pooled connections are left
  if (!serving) exitWith(typeof process.exitCode === 'number' ? process.exitCode : 0);
} catch (err) {
  if (err instanceof CommanderError) {
    exitWith(
      err.code === 'commander.helpDisplayed' ||
        err.code === 'commander.help' ||
        err.code === 'commander.version'
        ? 0
        : err.exitCode === 0
          ? 0
          : 2,
    );
  }
  const failure = toCliError(err);
  process.stderr.write(`${failure.message}\n`);
  exitWith(failure.exitCode);
}
