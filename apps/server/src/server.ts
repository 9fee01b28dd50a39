// `flowsafe start`: bootstrap, wire the services, listen, and shut down gracefully on SIGINT
// and SIGTERM (stop accepting, let in-flight runs finish within a grace period, flush the store).
import type { Server } from 'node:http';
import { fileURLToPath } from 'node:url';
import { Redactor } from '@flowsafe/redact';
import { createApp } from './app';
import { bootstrap } from './bootstrap';
import type { Config } from './config';
import { createServerLogger } from './logger';
import { createServices } from './services';

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
  opts: { out?: (line: string) => void; handleSignals?: boolean; editorDir?: string } = {},
): Promise<RunningServer> {
  const out = opts.out ?? ((line: string) => process.stdout.write(`${line}\n`));
  const global = new Redactor();
  const logger = createServerLogger(global, { level: config.logLevel });
  const { store, keyRing, owner } = await bootstrap(config, { logger });
  if (owner?.tokenFile)
    out(
      `flowsafe: first start — the owner token is in ${owner.tokenFile} (mode 0600); use it as Authorization: Bearer <token>`,
    );
  if (owner?.fromEnv) out('flowsafe: first start — the owner uses the token from FLOWSAFE_BOOTSTRAP_TOKEN');
  const services = await createServices({ store, keyRing, logger, global, egressAllow: config.egressAllow });
  const app = createApp(services.ctx, { editorDir: opts.editorDir ?? defaultEditorDir() });

  const server = await new Promise<Server>((resolve, reject) => {
    const s = app.listen(config.port, config.host, () => resolve(s));
    s.once('error', reject);
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  const url = `http://${host}:${port}`;
  out(`flowsafe: listening on ${url} (data in ${config.dataDir})`);

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      await services.close(SHUTDOWN_GRACE_MS);
      server.closeAllConnections();
      await stopped;
      await store.close();
    })());

  if (opts.handleSignals !== false) {
    const onSignal = (signal: NodeJS.Signals) => {
      logger.info({ signal }, 'shutting down');
      close().then(
        () => process.exit(0),
        (err: unknown) => {
          logger.error({ err }, 'shutdown failed');
          process.exit(1);
        },
      );
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  }
  return { server, url, close };
}
