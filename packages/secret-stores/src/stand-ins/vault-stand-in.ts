// A local stand-in for HashiCorp Vault / OpenBao on 127.0.0.1, implementing only what the
// vault store calls: POST /v1/auth/approle/login, GET /v1/<mount>/data/<path> (KV v2) and
// GET /v1/auth/token/lookup-self. It checks X-Vault-Token and counts requests, so tests
// (and the dispatch benchmark) exercise the real HTTP client without a real Vault.
import { randomBytes } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { closeServer, listenLocal, readBody, sendJson } from './read-request';

/** Requests kept in `requests` (the oldest go first), so a long benchmark stays small. */
const MAX_RECORDED = 1000;

export interface VaultStandInOptions {
  /** KV v2 mount (default 'secret'). */
  mount?: string;
  /** Tokens accepted as they are. */
  tokens?: string[];
  /** AppRole credentials accepted by the login endpoint. */
  approle?: { roleId: string; secretId: string };
  /** lease_duration of AppRole client tokens, seconds (default 3600). */
  leaseSeconds?: number;
}

export interface VaultStandInRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface VaultStandIn {
  /** http://127.0.0.1:PORT */
  url: string;
  counts: { login: number; read: number; lookup: number };
  requests: VaultStandInRequest[];
  /** Sets the KV data at a path (a new version). */
  setSecret(path: string, data: Record<string, unknown>): void;
  deleteSecret(path: string): void;
  addToken(token: string): void;
  /** Revokes a token (e.g. an AppRole client token) so Vault answers 403 for it. */
  revokeToken(token: string): void;
  /** Client tokens handed out by AppRole logins, oldest first. */
  issuedTokens(): string[];
  /** Delay every answer by this many ms (to overlap concurrent requests). */
  setDelay(ms: number): void;
  /** When on, 403 answers echo the token they refused (a misbehaving proxy). */
  setEchoTokens(on: boolean): void;
  close(): Promise<void>;
}

export async function startVaultStandIn(options: VaultStandInOptions = {}): Promise<VaultStandIn> {
  const mount = options.mount ?? 'secret';
  const tokens = new Set(options.tokens ?? []);
  const issued: string[] = [];
  const secrets = new Map<string, { data: Record<string, unknown>; version: number }>();
  const counts = { login: 0, read: 0, lookup: 0 };
  const requests: VaultStandInRequest[] = [];
  let delay = 0;
  let echo = false;
  const dataPrefix = `/v1/${mount}/data/`;

  const { server, url } = await listenLocal((req, res) => {
    void (async () => {
      const body = await readBody(req);
      requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      if (requests.length > MAX_RECORDED) requests.shift();
      if (delay > 0) await new Promise((r) => setTimeout(r, delay));
      const path = (req.url ?? '').split('?')[0] ?? '';
      const token = req.headers['x-vault-token'];
      const denied = () =>
        sendJson(res, 403, {
          errors: [echo ? `permission denied for ${String(token)}` : 'permission denied'],
        });
      if (req.method === 'POST' && path === '/v1/auth/approle/login') {
        counts.login += 1;
        let input: { role_id?: unknown; secret_id?: unknown } = {};
        try {
          input = JSON.parse(body) as typeof input;
        } catch {
          return sendJson(res, 400, { errors: ['failed to parse JSON input'] });
        }
        const ok =
          options.approle &&
          input.role_id === options.approle.roleId &&
          input.secret_id === options.approle.secretId;
        if (!ok) return sendJson(res, 400, { errors: ['invalid role or secret ID'] });
        const clientToken = `hvs.${randomBytes(12).toString('hex')}`;
        tokens.add(clientToken);
        issued.push(clientToken);
        return sendJson(res, 200, {
          auth: {
            client_token: clientToken,
            lease_duration: options.leaseSeconds ?? 3600,
            renewable: true,
            policies: ['default'],
          },
        });
      }
      if (req.method === 'GET' && path === '/v1/auth/token/lookup-self') {
        counts.lookup += 1;
        if (typeof token !== 'string' || !tokens.has(token)) return denied();
        return sendJson(res, 200, { data: { policies: ['default'], ttl: 0 } });
      }
      if (req.method === 'GET' && path.startsWith(dataPrefix)) {
        counts.read += 1;
        if (typeof token !== 'string' || !tokens.has(token)) return denied();
        const secret = secrets.get(decodeURIComponent(path.slice(dataPrefix.length)));
        if (!secret) return sendJson(res, 404, { errors: [] });
        return sendJson(res, 200, {
          data: {
            data: secret.data,
            metadata: { version: secret.version, deletion_time: '', destroyed: false },
          },
        });
      }
      return sendJson(res, 404, { errors: ['no handler for route'] });
    })().catch(() => {
      res.destroy();
    });
  });

  return {
    url,
    counts,
    requests,
    setSecret(path, data) {
      secrets.set(path, { data, version: (secrets.get(path)?.version ?? 0) + 1 });
    },
    deleteSecret(path) {
      secrets.delete(path);
    },
    addToken: (token) => void tokens.add(token),
    revokeToken: (token) => void tokens.delete(token),
    issuedTokens: () => [...issued],
    setDelay(ms) {
      delay = ms;
    },
    setEchoTokens(on) {
      echo = on;
    },
    close: () => closeServer(server),
  };
}
