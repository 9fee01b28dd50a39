// Environment configuration, read once at start-up through one zod schema (SPEC §10). A bad
// value stops start-up with one line that names the variable and what to do instead.
import path from 'node:path';
import { z } from 'zod';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const port = z
  .string()
  .trim()
  .regex(/^\d{1,5}$/, 'must be a port number (0-65535)')
  .transform(Number)
  .refine((n) => n <= 65535, 'must be a port number (0-65535)');

const masterKey = z
  .string()
  .trim()
  .refine(
    (v) => /^[A-Za-z0-9+/]+={0,2}$/.test(v) && Buffer.from(v, 'base64').length === 32,
    'must be 32 bytes in base64 (generate one with: openssl rand -base64 32)',
  );

const bootstrapToken = z
  .string()
  .min(16, 'must be at least 16 characters')
  .max(512, 'must be at most 512 characters')
  .regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces');

const millis = z
  .string()
  .trim()
  .regex(/^\d{1,9}$/, 'must be a number of milliseconds')
  .transform(Number);

const databaseUrl = z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL');

export const configSchema = z.object({
  PORT: port.default(8080),
  HOST: z.string().trim().min(1, 'must not be empty').default('127.0.0.1'),
  FLOWSAFE_DATA_DIR: z.string().trim().min(1, 'must not be empty').default('./data'),
  FLOWSAFE_MASTER_KEY: masterKey.optional(),
  FLOWSAFE_BOOTSTRAP_TOKEN: bootstrapToken.optional(),
  LOG_LEVEL: z.enum(LOG_LEVELS, { error: `must be one of ${LOG_LEVELS.join(', ')}` }).default('info'),
  FLOWSAFE_EGRESS_ALLOW: z.string().default(''),
  FLOWSAFE_DATABASE_URL: databaseUrl.optional(),
  FLOWSAFE_SHUTDOWN_GRACE_MS: millis.default(30_000),
  FLOWSAFE_WORKER_LOST_MS: millis.refine((n) => n >= 300, 'must be at least 300').default(60_000),
  FLOWSAFE_PG_PREPARED_STATEMENTS: z
    .enum(['true', 'false'], { error: 'must be true or false' })
    .default('true')
    .transform((v) => v === 'true'),
});

export interface Config {
  port: number;
  host: string;
  /** absolute */
  dataDir: string;
  masterKey: string | undefined;
  bootstrapToken: string | undefined;
  logLevel: (typeof LOG_LEVELS)[number];
  egressAllow: string;
  databaseUrl: string | undefined;
  /** how long SIGTERM waits for in-flight runs before aborting them */
  shutdownGraceMs: number;
  /** PostgreSQL mode: a run whose worker stopped heartbeating this long is lost */
  workerLostMs: number;
  /** PostgreSQL mode: name repeated statements so each connection plans them once (off behind
   *  a pooler that does not keep prepared statements, such as PgBouncer in transaction mode) */
  pgPreparedStatements: boolean;
}

/** A configuration problem: `message` is the one line printed before exiting with code 2. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly code = 'CONFIG_INVALID';
}

/** Optional extra check of FLOWSAFE_EGRESS_ALLOW (the api-block's parser); throws on a bad entry. */
export type EgressAllowCheck = (value: string) => unknown;

/** Read and validate the configuration from `env` (process.env by default). */
export function loadConfig(
  env: Record<string, string | undefined> = process.env,
  opts: { checkEgressAllow?: EgressAllowCheck } = {},
): Config {
  // Empty strings count as unset, like most twelve-factor apps.
  const input: Record<string, string> = {};
  for (const key of Object.keys(configSchema.shape)) {
    const value = env[key];
    if (value !== undefined && value !== '') input[key] = value;
  }
  const result = configSchema.safeParse(input);
  if (!result.success) {
    const issue = result.error.issues[0];
    const name = issue?.path[0] !== undefined ? String(issue.path[0]) : 'configuration';
    throw new ConfigError(`flowsafe: invalid ${name}: ${issue?.message ?? 'invalid value'}`);
  }
  const c = result.data;
  if (c.FLOWSAFE_EGRESS_ALLOW !== '' && opts.checkEgressAllow) {
    try {
      opts.checkEgressAllow(c.FLOWSAFE_EGRESS_ALLOW);
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      throw new ConfigError(`flowsafe: invalid FLOWSAFE_EGRESS_ALLOW: ${why.split('\n')[0]}`);
    }
  }
  return {
    port: c.PORT,
    host: c.HOST,
    dataDir: path.resolve(c.FLOWSAFE_DATA_DIR),
    masterKey: c.FLOWSAFE_MASTER_KEY,
    bootstrapToken: c.FLOWSAFE_BOOTSTRAP_TOKEN,
    logLevel: c.LOG_LEVEL,
    egressAllow: c.FLOWSAFE_EGRESS_ALLOW,
    databaseUrl: c.FLOWSAFE_DATABASE_URL,
    shutdownGraceMs: c.FLOWSAFE_SHUTDOWN_GRACE_MS,
    workerLostMs: c.FLOWSAFE_WORKER_LOST_MS,
    pgPreparedStatements: c.FLOWSAFE_PG_PREPARED_STATEMENTS,
  };
}
