// What every `flowsafe` subcommand shares: the configuration, the store of the chosen mode
// (the embedded one, or PostgreSQL when FLOWSAFE_DATABASE_URL is set, migrated or checked),
// the master key check, progress lines on a terminal, and errors that end the command with
// one line and an exit code scripts can trust (0 ok, 1 failure, 2 usage or configuration).
import { mkdir } from 'node:fs/promises';
import { parseEgressAllow } from '@flowsafe/api-block';
import { KeyRing, loadMasterKey } from '@flowsafe/secrets';
import { openLowdbStore, type Store } from '@flowsafe/store';
import {
  checkDatabaseUrl,
  migrate,
  openPostgresStore,
  pendingMigrations,
  PostgresStoreError,
  type PostgresStore,
} from '@flowsafe/store-postgres';
import { bootstrap, BootstrapError, KEY_CHECK_META, type Bootstrapped } from '../bootstrap';
import { ConfigError, loadConfig, type Config } from '../config';

/** Ends a command: `message` is the one line printed, `exitCode` 1 (failure) or 2 (usage/config). */
export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(
    message: string,
    readonly exitCode: 1 | 2 = 1,
  ) {
    super(message);
  }
}

export function firstLine(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return (text.split('\n')[0] ?? text).trim() || 'unknown error';
}

/** Any error as the one line to print and its exit code. */
export function toCliError(err: unknown): CliError {
  if (err instanceof CliError) return err;
  if (err instanceof ConfigError) return new CliError(err.message, 2);
  if (err instanceof BootstrapError) return new CliError(err.message, 1);
  if (err instanceof PostgresStoreError) {
    return new CliError(`flowsafe: ${firstLine(err)}`, err.code === 'DATABASE_URL_INVALID' ? 2 : 1);
  }
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && /^(ECONNREFUSED|ENOTFOUND|ETIMEDOUT|EHOSTUNREACH|ECONNRESET)$/.test(code)) {
    return new CliError(`flowsafe: cannot reach PostgreSQL: ${firstLine(err)}`, 1);
  }
  return new CliError(`flowsafe: ${firstLine(err)}`, 1);
}

export function readConfig(env: NodeJS.ProcessEnv = process.env): Config {
  return loadConfig(env, { checkEgressAllow: parseEgressAllow });
}

/** One updating line on a terminal (stderr); nothing when piped. */
export function progress(stream: NodeJS.WriteStream = process.stderr) {
  const tty = stream.isTTY === true;
  return {
    tty,
    update(text: string): void {
      if (tty) stream.write(`\r\x1b[2K${text}`);
    },
    done(text?: string): void {
      if (!tty) return;
      stream.write('\r\x1b[2K');
      if (text !== undefined) stream.write(`${text}\n`);
    },
  };
}

function where(url: string): string {
  const u = checkDatabaseUrl(url);
  return `${u.hostname}:${u.port || 5432}${u.pathname}`;
}

/** Opens the PostgreSQL store and proves the database answers (one line when it does not). */
export async function openPostgres(config: Config, max?: number): Promise<PostgresStore> {
  const url = config.databaseUrl!;
  checkDatabaseUrl(url);
  const store = openPostgresStore({
    connectionString: url,
    preparedStatements: config.pgPreparedStatements,
    ...(max !== undefined ? { max } : {}),
  });
  try {
    await store.pool.query('SELECT 1');
  } catch (err) {
    await store.close().catch(() => undefined);
    throw new CliError(`flowsafe: cannot reach PostgreSQL at ${where(url)}: ${firstLine(err)}`, 1);
  }
  return store;
}

export type MigrationPolicy = 'apply' | 'refuse';

/** Applies pending migrations, or with 'refuse' stops with one line naming them. */
export async function prepareSchema(
  store: PostgresStore,
  policy: MigrationPolicy,
  onProgress?: (e: { id: string; index: number; total: number }) => void,
): Promise<string[]> {
  if (policy === 'refuse') {
    const pending = await pendingMigrations(store.pool);
    if (pending.length > 0) {
      throw new CliError(
        `flowsafe: the database needs migrations ${pending.join(', ')}; run \`flowsafe migrate\` or start without --no-migrate`,
        1,
      );
    }
    return [];
  }
  return migrate(store.pool, onProgress ? { onProgress } : {});
}

/** PostgreSQL mode needs the same master key in every process, so it must come from the environment. */
export function requireSharedKey(config: Config): void {
  if (config.databaseUrl !== undefined && config.masterKey === undefined) {
    throw new CliError(
      'flowsafe: set FLOWSAFE_MASTER_KEY in PostgreSQL mode: every process sharing the database needs the same master key',
      2,
    );
  }
}

export interface Runtime extends Bootstrapped {
  config: Config;
  /** set in PostgreSQL mode */
  postgres?: PostgresStore;
  /** where the data is, for messages */
  label: string;
}

/**
 * The store (migrated or checked in PostgreSQL mode), the key ring checked against the stored
 * key check value, and on an empty store the owner of workspace `default` (unless `owner: false`).
 */
export async function openRuntime(
  config: Config,
  opts: { migrate?: MigrationPolicy; owner?: boolean; poolSize?: number; keyCheck?: boolean } = {},
): Promise<Runtime> {
  requireSharedKey(config);
  if (config.databaseUrl === undefined) {
    if (opts.owner === false) {
      const store = await openLowdbStore({ dataDir: config.dataDir });
      try {
        const keyRing = await checkedKeyRing(config, store, opts.keyCheck !== false);
        return { store, keyRing, config, label: config.dataDir };
      } catch (err) {
        await store.close().catch(() => undefined);
        throw err;
      }
    }
    const done = await bootstrap(config);
    return { ...done, config, label: config.dataDir };
  }
  const label = `PostgreSQL ${where(config.databaseUrl)}`;
  const pgStore = await openPostgres(config, opts.poolSize);
  try {
    await prepareSchema(pgStore, opts.migrate ?? 'apply');
    if (opts.owner === false) {
      const keyRing = await checkedKeyRing(config, pgStore, opts.keyCheck !== false);
      return { store: pgStore, keyRing, config, postgres: pgStore, label };
    }
    const done = await bootstrap(config, { openStore: async () => pgStore });
    return { ...done, config, postgres: pgStore, label };
  } catch (err) {
    await pgStore.close().catch(() => undefined);
    throw err;
  }
}

/** The key ring, refused when it cannot open what the store holds (no owner is created). */
export async function checkedKeyRing(config: Config, store: Store, check = true): Promise<KeyRing> {
  await mkdir(config.dataDir, { recursive: true, mode: 0o700 });
  let keyRing: KeyRing;
  try {
    keyRing = new KeyRing(await loadMasterKey({ envValue: config.masterKey, dataDir: config.dataDir }));
  } catch (err) {
    throw new CliError(`flowsafe: cannot load the master key: ${firstLine(err)}`, 1);
  }
  if (!check) return keyRing;
  const recorded = await store.meta.get(KEY_CHECK_META);
  if (recorded === undefined) await store.meta.set(KEY_CHECK_META, keyRing.checkValue());
  else {
    try {
      keyRing.verify(recorded);
    } catch (err) {
      throw new CliError(`flowsafe: ${firstLine(err)}`, 1);
    }
  }
  return keyRing;
}

/** Resolves on the first SIGINT or SIGTERM. */
export function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
}
