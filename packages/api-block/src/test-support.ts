// Shared pieces of the API block's tests: real HTTP servers on 127.0.0.1 that record what they
// receive, an in-memory SecretAccess built on @flowsafe/secrets' environment rule, a
// BlockContext with a real Redactor, and a leak check for canary values.
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Redactor } from '@flowsafe/redact';
import type { BlockContext, RunInfo } from '@flowsafe/runner';
import { pickEnvironment, type SecretType, type SecretValue } from '@flowsafe/secrets';
import type { SecretAccess, SecretMeta, SecretUseEvent } from './types';

export interface Received {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface TestServer {
  /** http://127.0.0.1:PORT */
  url: string;
  port: number;
  received: Received[];
  close(): Promise<void>;
}

export type Handler = (req: Received, res: ServerResponse, raw: IncomingMessage) => void | Promise<void>;

/** A real HTTP server on 127.0.0.1 that records every request it gets. */
export async function startServer(handler: Handler): Promise<TestServer> {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const r: Received = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      received.push(r);
      Promise.resolve(handler(r, res, req)).catch((err: unknown) => {
        res.statusCode = 599;
        res.end(String(err));
      });
    });
  });
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Answers with what it received, as JSON. */
export const echo: Handler = (req, res) => {
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify(req));
};

export interface TestSecret {
  type: SecretType;
  /** keyed by 'default' or an environment name */
  values: Record<string, SecretValue>;
  allowedHosts?: string[];
}

export interface MemorySecrets extends SecretAccess {
  opened: string[];
}

/** SecretAccess over plain values, with the real environment rule of @flowsafe/secrets. */
export function memorySecrets(defs: Record<string, TestSecret>): MemorySecrets {
  const opened: string[] = [];
  return {
    opened,
    describe(_run: RunInfo, name: string): SecretMeta | undefined {
      const d = defs[name];
      if (!d) return undefined;
      return d.allowedHosts ? { name, type: d.type, allowedHosts: d.allowedHosts } : { name, type: d.type };
    },
    open(run: RunInfo, name: string): Promise<SecretValue> {
      const d = defs[name];
      if (!d) return Promise.reject(new Error(`no secret ${name}`));
      opened.push(name);
      try {
        return Promise.resolve(d.values[pickEnvironment(d.values, name, run.environment)]!);
      } catch (err) {
        return Promise.reject(err as Error);
      }
    },
  };
}

/** A redactor that knows every value of these secrets, as the runner's does. */
export function redactorFor(defs: Record<string, TestSecret>): Redactor {
  const r = new Redactor();
  for (const [name, d] of Object.entries(defs)) for (const v of Object.values(d.values)) r.addSecret(name, v);
  return r;
}

export interface TestContext extends BlockContext {
  logs: string[];
}

export function runInfo(environment = 'production'): RunInfo {
  return {
    runId: `run_${randomBytes(4).toString('hex')}`,
    flowId: 'flow_1',
    projectId: 'proj_1',
    workspaceId: 'ws_1',
    environment,
    actor: 'user_1',
  };
}

/** A BlockContext as the runner builds it, with a real Redactor; logs are redacted. */
export function fakeContext(opts: {
  redactor: Redactor;
  variables?: Record<string, unknown>;
  settings?: Record<string, string>;
  environment?: string;
  signal?: AbortSignal;
  deadline?: number;
}): TestContext {
  const logs: string[] = [];
  return {
    run: runInfo(opts.environment),
    block: { id: 'call', type: 'api' },
    variables: opts.variables ?? {},
    settings: opts.settings ?? {},
    redactor: opts.redactor,
    logs,
    log: (...parts: unknown[]) => logs.push(opts.redactor.redact(parts.map(String).join(' '))),
    signal: opts.signal ?? new AbortController().signal,
    deadline: opts.deadline ?? Date.now() + 60_000,
  };
}

/** A random value nobody would type: a canary to search for. */
export function canary(prefix = 'cnry'): string {
  return `${prefix}_${randomBytes(12).toString('hex')}`;
}

/** The forms a leaked value could take in text we inspect. */
export function leakForms(value: string): string[] {
  return [
    value,
    Buffer.from(value).toString('base64'),
    Buffer.from(value).toString('base64url'),
    encodeURIComponent(value),
  ];
}

/** The canaries (raw, base64, base64url, URL-encoded) found anywhere in `things`. */
export function findLeaks(canaries: string[], ...things: unknown[]): string[] {
  const text = things
    .map((t) => {
      if (typeof t === 'string') return t;
      if (t instanceof Error) return `${t.message}\n${t.stack ?? ''}\n${JSON.stringify(t)}`;
      return JSON.stringify(t) ?? '';
    })
    .join('\n');
  return canaries.filter((c) => leakForms(c).some((f) => text.includes(f)));
}

export interface AuditLog {
  events: SecretUseEvent[];
  audit(event: SecretUseEvent): void;
}

export function auditLog(): AuditLog {
  const events: SecretUseEvent[] = [];
  return { events, audit: (e) => events.push(e) };
}
