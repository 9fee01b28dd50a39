// The `flowsafe` command: a small dispatcher over subcommands (start now; worker, migrate,
// rotate-key, export, import and run join it). Start-up problems print one line and exit:
// 2 for bad configuration, 1 for anything else.
import { Command } from 'commander';
import { BootstrapError } from './bootstrap';
import { ConfigError, loadConfig } from './config';
import { startServer } from './server';
import { parseEgressAllow } from '@flowsafe/api-block';

function fail(line: string, code: number): never {
  process.stderr.write(`${line}\n`);
  process.exit(code);
}

async function start(): Promise<void> {
  let config;
  try {
    config = loadConfig(process.env, { checkEgressAllow: parseEgressAllow });
  } catch (err) {
    if (err instanceof ConfigError) fail(err.message, 2);
    throw err;
  }
  try {
    await startServer(config);
  } catch (err) {
    if (err instanceof BootstrapError) fail(err.message, 1);
    const text = err instanceof Error ? err.message : String(err);
    fail(`flowsafe: start failed: ${text.split('\n')[0]}`, 1);
  }
}

const program = new Command()
  .name('flowsafe')
  .description('A workflow runner whose API blocks use secrets that never leave the dispatch step.');

program
  .command('start')
  .description(
    'serve the HTTP API and the editor (configuration from environment variables: PORT, HOST, FLOWSAFE_DATA_DIR, ...)',
  )
  .action(start);

await program.parseAsync(process.argv);
