// OAuth2 client credentials against a real local token endpoint that counts its fetches.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type ApiBlockPlugin, createApiBlockPlugin } from './api-block-plugin';
import { type ApiBlockConfig, apiBlockConfigSchema } from './config-schema';
import { ApiBlockError } from './errors';
import {
  canary,
  fakeContext,
  findLeaks,
  memorySecrets,
  redactorFor,
  startServer,
  type TestSecret,
  type TestServer,
} from './test-support';

let tokenServer: TestServer;
let api: TestServer;
let issued: string[];
let refuse: Set<string>;
let refuseAll: boolean;
let tokenDelayMs: number;
let plugin: ApiBlockPlugin;
let defs: Record<string, TestSecret>;
let clientSecret: string;

const config: ApiBlockConfig = apiBlockConfigSchema.parse({
  method: 'GET',
  url: 'http://127.0.0.1:1/placeholder',
  auth: { type: 'oauth2', secret: 'CRM' },
  saveAs: 'res',
});

beforeEach(async () => {
  issued = [];
  refuse = new Set();
  refuseAll = false;
  tokenDelayMs = 0;
  clientSecret = canary('client');
  tokenServer = await startServer(async (req, res) => {
    await new Promise((r) => setTimeout(r, tokenDelayMs));
    const expected = `Basic ${Buffer.from(`crm-client:${clientSecret}`).toString('base64')}`;
    if (req.headers.authorization !== expected || !req.body.includes('grant_type=client_credentials')) {
      res.statusCode = 401;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ error: 'invalid_client' }));
      return;
    }
    const token = canary('tok');
    issued.push(token);
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ access_token: token, token_type: 'Bearer', expires_in: 3600 }));
  });
  // the API echoes the token it received, and refuses tokens in `refuse`
  api = await startServer((req, res) => {
    const token = String(req.headers.authorization).replace('Bearer ', '');
    res.statusCode = refuseAll || refuse.has(token) ? 401 : 200;
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ youSent: token }));
  });
  defs = {
    CRM: {
      type: 'oauth2',
      values: {
        default: {
          clientId: 'crm-client',
          clientSecret,
          tokenUrl: `${tokenServer.url}/token`,
          scope: 'tickets',
        },
      },
    },
  };
  plugin = createApiBlockPlugin({ secrets: memorySecrets(defs) });
});

afterEach(async () => {
  await plugin.close();
  await Promise.all([tokenServer.close(), api.close()]);
});

const call = (cfg: ApiBlockConfig = { ...config, url: `${api.url}/tickets` }) => {
  const ctx = fakeContext({ redactor: redactorFor(defs) });
  return { ctx, result: plugin.execute(ctx, cfg) };
};

describe('OAuth2 client credentials', () => {
  it('fetches a token once, caches it, and registers it with the redactor', async () => {
    const first = call();
    const r1 = await first.result;
    const second = call();
    const r2 = await second.result;
    expect(issued).toHaveLength(1);
    expect(tokenServer.received[0]!.body).toContain('scope=tickets');
    expect(api.received.map((r) => r.headers.authorization)).toEqual([
      `Bearer ${issued[0]}`,
      `Bearer ${issued[0]}`,
    ]);
    // the API echoes the token: the flow sees it masked, in both runs (each its own redactor)
    expect((r1.variables!.res as { body: unknown }).body).toEqual({ youSent: '[REDACTED:CRM]' });
    expect(first.ctx.redactor.has(issued[0]!)).toBe(true);
    expect(second.ctx.redactor.has(issued[0]!)).toBe(true);
    expect(findLeaks([issued[0]!, clientSecret], r1, r2, first.ctx.logs, second.ctx.logs)).toEqual([]);
  });

  it('on a 401 fetches a new token once and retries', async () => {
    await call().result;
    refuse.add(issued[0]!);
    const { ctx, result } = call();
    const r = await result;
    expect(issued).toHaveLength(2);
    expect((r.variables!.res as { status: number }).status).toBe(200);
    expect(api.received.at(-1)!.headers.authorization).toBe(`Bearer ${issued[1]}`);
    expect(ctx.logs.join('\n')).toContain('401');
    expect(findLeaks([...issued], r, ctx.logs)).toEqual([]);

    // when the new token is refused too, the 401 is the API's answer: one refetch, no more
    refuseAll = true;
    const refused = await call().result;
    expect((refused.variables!.res as { status: number }).status).toBe(401);
    expect(issued).toHaveLength(3);
  });

  it('concurrent runs share one in-flight token request', async () => {
    tokenDelayMs = 100;
    const runs = Array.from({ length: 8 }, () => call());
    const results = await Promise.all(runs.map((r) => r.result));
    expect(issued).toHaveLength(1);
    expect(tokenServer.received).toHaveLength(1);
    for (const [i, r] of results.entries()) {
      expect((r.variables!.res as { status: number }).status).toBe(200);
      expect(runs[i]!.ctx.redactor.has(issued[0]!)).toBe(true);
    }
  });

  it('a refused token request fails the step without the client secret', async () => {
    const wrong = {
      CRM: {
        type: 'oauth2' as const,
        values: {
          default: { clientId: 'crm-client', clientSecret: canary(), tokenUrl: `${tokenServer.url}/token` },
        },
      },
    };
    const p = createApiBlockPlugin({ secrets: memorySecrets(wrong) });
    try {
      const err = await p
        .execute(fakeContext({ redactor: redactorFor(wrong) }), { ...config, url: `${api.url}/x` })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ApiBlockError);
      expect((err as ApiBlockError).code).toBe('OAUTH2_TOKEN_FAILED');
      expect((err as ApiBlockError).message).toContain('401: invalid_client');
      expect(api.received).toHaveLength(0);
    } finally {
      await p.close();
    }
  });

  it('<secret:CRM> alone is the access token; <secret:CRM.clientId> the client id', async () => {
    const { result } = call({
      method: 'GET',
      url: `${api.url}/x?client=<secret:CRM.clientId>`,
      headers: { Authorization: 'Bearer <secret:CRM>' },
    } as ApiBlockConfig);
    await result;
    expect(api.received[0]!.url).toBe('/x?client=crm-client');
    expect(api.received[0]!.headers.authorization).toBe(`Bearer ${issued[0]}`);
  });
});
