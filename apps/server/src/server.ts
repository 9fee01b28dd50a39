// `flowsafe start`: bootstrap, wire the services, listen, and shut down gracefully on SIGINT
// and SIGTERM (stop accepting, let in-flight runs finish within a grace period, flush the store).
import { createServer, type Server } from 'node:http';
import type { Store } from '@flowsafe/store';
import { fileURLToPath } from 'node:url';
import { Redactor } from '@flowsafe/redact';
import { createApp } from './app';
import { bootstrap } from './bootstrap';
import type { Config } from './config';
import { createServerLogger, flushLogger } from './logger';
import { createServices, type ServicesOptions } from './services';

export const SHUTDOWN_GRACE_MS = 10_000;

export interface RunningServer {
  server: Server;
  url: string;
  close(): Promise<void>;
}

/** Where the built editor lives relative to this file (src/ or dist/ of apps/server). */
export function defaultEditorDir(): string {
  return fileURLToPath(new URL('../../editor/dist', import.meta.url));
}

export async function startServer(
  config: Config,
  opts: {
    out?: (line: string) => void;
    handleSignals?: boolean;
    editorDir?: string;
    /** PostgreSQL mode: opens the (migrated) PostgreSQL store instead of the embedded one */
    openStore?: () => Promise<Store>;
    /** PostgreSQL mode: the queue's pool and this process's role */
    postgres?: ServicesOptions['postgres'];
    /** runs this process executes at once */
    concurrency?: number;
    /** where the data is, for the "listening" line */
    dataLabel?: string;
  } = {},
): Promise<RunningServer> {
  const out = opts.out ?? ((line: string) => process.stdout.write(`${line}\n`));
  const global = new Redactor();
  const logger = createServerLogger(global, { level: config.logLevel });
  const { store, keyRing, owner } = await bootstrap(config, {
    logger,
    ...(opts.openStore ? { openStore: opts.openStore } : {}),
  });
  if (owner?.tokenFile)
    out(
      `flowsafe: first start — the owner token is in ${owner.tokenFile} (mode 0600); use it as Authorization: Bearer <token>`,
    );
  if (owner?.fromEnv) out('flowsafe: first start — the owner uses the token from FLOWSAFE_BOOTSTRAP_TOKEN');
  let services;
  try {
    services = await createServices({
      store,
      keyRing,
      logger,
      global,
      egressAllow: config.egressAllow,
      ...(opts.postgres ? { postgres: opts.postgres } : {}),
      ...(opts.concurrency !== undefined ? { concurrency: opts.concurrency } : {}),
    });
  } catch (err) {
    await store.close().catch(() => undefined);
    throw err;
  }
  const app = createApp(services.ctx, { editorDir: opts.editorDir ?? defaultEditorDir() });
  const health = services.health;
  // /healthz answers here: "degraded" while the database (PostgreSQL mode) is out of reach
  const handler = createServer((req, res) => {
    if (req.method === 'GET' && (req.url === '/healthz' || req.url?.startsWith('/healthz?'))) {
      void health().then((status) => {
        res.writeHead(status === 'ok' ? 200 : 503, { 'Content-Type': 'application/json; charset=utf-8' });
        res.end(JSON.stringify({ status }));
      });
      return;
    }
    app(req, res);
  });

  const server = await new Promise<Server>((resolve, reject) => {
    handler.once('error', reject);
    handler.listen(config.port, config.host, () => resolve(handler));
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  const url = `http://${host}:${port}`;
  out(`flowsafe: listening on ${url} (data in ${opts.dataLabel ?? config.dataDir})`);

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      await services.close(config.shutdownGraceMs ?? SHUTDOWN_GRACE_MS);
      server.closeAllConnections();
      await stopped;
      await store.close();
    })());

  if (opts.handleSignals !== false) {
    // every log line out before the process ends (after the request lines queued in this turn)
    const exit = (code: number): void => {
      process.exitCode = code;
      setImmediate(() => void flushLogger(logger).then(() => process.exit(code)));
    };
    const onSignal = (signal: NodeJS.Signals) => {
      logger.info({ signal }, 'shutting down');
      close().then(
        () => exit(0),
        (err: unknown) => {
          logger.error({ err }, 'shutdown failed');
          exit(1);
        },
      );
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  }
  return { server, url, close };
}
