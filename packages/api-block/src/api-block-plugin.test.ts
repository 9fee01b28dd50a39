// The API block against real local servers: templates and encodings, invariants 3, 4 and 5
// with canary values, redirects, limits, timeouts and audit.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Agent } from 'undici';
import { type ApiBlockPlugin, createApiBlockPlugin } from './api-block-plugin';
import { type ApiBlockConfig, apiBlockConfigSchema } from './config-schema';
import { ApiBlockError } from './errors';
import {
  auditLog,
  canary,
  echo,
  fakeContext,
  findLeaks,
  memorySecrets,
  redactorFor,
  startServer,
  type Received,
  type TestSecret,
  type TestServer,
} from './test-support';

const cfg = (c: unknown): ApiBlockConfig => apiBlockConfigSchema.parse(c);

let echoServer: TestServer;
let other: TestServer;
const plugins: ApiBlockPlugin[] = [];

beforeAll(async () => {
  echoServer = await startServer(echo);
  other = await startServer(echo);
});
afterAll(async () => {
  await Promise.all([echoServer.close(), other.close()]);
});
afterEach(async () => {
  await Promise.all(plugins.splice(0).map((p) => p.close()));
  echoServer.received.length = 0;
  other.received.length = 0;
});

function setup(
  defs: Record<string, TestSecret>,
  extra: Partial<Parameters<typeof createApiBlockPlugin>[0]> = {},
) {
  const secrets = memorySecrets(defs);
  const audit = auditLog();
  const plugin = createApiBlockPlugin({ secrets, audit: audit.audit, ...extra });
  plugins.push(plugin);
  const redactor = redactorFor(defs);
  return { plugin, secrets, audit, redactor };
}

async function failure(p: Promise<unknown>): Promise<ApiBlockError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(ApiBlockError);
    return err as ApiBlockError;
  }
  throw new Error('expected the block to fail');
}

function echoed(result: { variables?: Record<string, unknown> }, name = 'res'): Received {
  return (result.variables![name] as { body: Received }).body;
}

describe('templates', () => {
  it('encodes variables per position and saves { status, headers, body }', async () => {
    const { plugin, redactor } = setup({});
    const ctx = fakeContext({
      redactor,
      variables: { id: 'a/b c', q: 'x&y=z#', user: { name: 'Zoë' } },
      settings: { REGION: 'eu west' },
    });
    const config = cfg({
      method: 'POST',
      url: `${echoServer.url}/users/{{id}}/items?lang={{q}}`,
      query: { region: '{{settings.REGION}}', who: '{{user.name}}' },
      headers: { 'X-User': '{{user.name}}', 'X-Missing': '[{{nope}}]' },
      body: { type: 'form', content: { a: '{{q}}', b: 'lit eral' } },
      saveAs: 'res',
    });
    const result = await plugin.execute(ctx, config);
    const got = echoed(result);
    expect(got.url).toBe('/users/a%2Fb%20c/items?lang=x%26y%3Dz%23&region=eu%20west&who=Zo%C3%AB');
    expect(got.headers['x-user']).toBe('Zoë');
    expect(got.headers['x-missing']).toBe('[]');
    expect(got.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(new URLSearchParams(got.body).get('a')).toBe('x&y=z#');
    expect(new URLSearchParams(got.body).get('b')).toBe('lit eral');
    const saved = result.variables!.res as { status: number; headers: Record<string, string> };
    expect(saved.status).toBe(200);
    expect(saved.headers['content-type']).toBe('application/json');
    // hop-by-hop headers describe the connection, not the answer: a flow does not get them
    expect(Object.keys(saved.headers)).not.toContain('connection');
    expect(Object.keys(saved.headers)).not.toContain('keep-alive');
    expect(result.request).toEqual({
      method: 'POST',
      url: `${echoServer.url}/users/{{id}}/items?lang={{q}}&region={{settings.REGION}}&who={{user.name}}`,
      status: 200,
    });
  });

  it('templates JSON bodies leaf by leaf: a variable cannot change the structure', async () => {
    const { plugin, redactor } = setup({});
    const evil = '", "admin": true, "x": "';
    const ctx = fakeContext({ redactor, variables: { subject: evil, n: 3, obj: { a: [1] } } });
    const config = cfg({
      method: 'POST',
      url: `${echoServer.url}/tickets`,
      body: {
        type: 'json',
        content: {
          subject: '{{subject}}',
          count: 5,
          tags: ['{{n}}', 'x{{n}}', '{{missing}}'],
          nested: { ok: true, obj: '{{obj}}' },
        },
      },
      saveAs: 'res',
    });
    const got = echoed(await plugin.execute(ctx, config));
    expect(JSON.parse(got.body)).toEqual({
      subject: evil,
      count: 5,
      tags: [3, 'x3', null],
      nested: { ok: true, obj: { a: [1] } },
    });
    expect(got.headers['content-type']).toBe('application/json');
  });

  it('one config sent again and again follows its variables each time (parsed URLs are reused only for equal text)', async () => {
    const { plugin, redactor } = setup({});
    const config = cfg({ method: 'GET', url: `${echoServer.url}/items/{{id}}`, saveAs: 'res' });
    const paths: string[] = [];
    for (const id of ['1', '2', '1', 'x y']) {
      const ctx = fakeContext({ redactor, variables: { id } });
      paths.push(echoed(await plugin.execute(ctx, config)).url);
    }
    expect(paths).toEqual(['/items/1', '/items/2', '/items/1', '/items/x%20y']);
  });

  it('sends raw text bodies with their content type', async () => {
    const { plugin, redactor } = setup({});
    const ctx = fakeContext({ redactor, variables: { name: 'world' } });
    const config = cfg({
      method: 'PUT',
      url: `${echoServer.url}/raw`,
      body: { type: 'raw', content: '<hello>{{name}}</hello>', contentType: 'application/xml' },
      saveAs: 'res',
    });
    const got = echoed(await plugin.execute(ctx, config));
    expect(got.body).toBe('<hello>world</hello>');
    expect(got.headers['content-type']).toBe('application/xml');
  });

  it('refuses a path variable that would be "." or ".."', async () => {
    const { plugin, redactor } = setup({});
    const ctx = fakeContext({ redactor, variables: { id: '..' } });
    const err = await failure(
      plugin.execute(ctx, cfg({ method: 'GET', url: `${echoServer.url}/a/{{id}}/admin` })),
    );
    expect(err.code).toBe('URL_INVALID');
    expect(echoServer.received).toHaveLength(0);
  });

  it('a non-2xx answer is a result, not an error', async () => {
    const server = await startServer((_req, res) => {
      res.statusCode = 404;
      res.end('not here');
    });
    try {
      const { plugin, redactor } = setup({});
      const result = await plugin.execute(
        fakeContext({ redactor }),
        cfg({ method: 'GET', url: `${server.url}/x`, saveAs: 'res' }),
      );
      expect(result.variables!.res).toMatchObject({ status: 404, body: 'not here' });
      expect(result.request?.status).toBe(404);
    } finally {
      await server.close();
    }
  });

  it('validate() reports template problems at their config path', () => {
    const { plugin } = setup({});
    const issues = plugin.validate!(
      cfg({
        method: 'GET',
        url: 'ftp://x/{{a}}',
        headers: { 'X-A': '{{#list}}x{{/list}}', Authorization: 'Bearer x' },
        body: { type: 'json', content: { a: ['{{unclosed'] } },
        auth: { type: 'bearer', secret: 'TOKEN' },
      }),
    ) as { path: (string | number)[]; code: string }[];
    expect(issues.map((i) => i.path.join('.'))).toEqual([
      'url',
      'headers.X-A',
      'headers.Authorization',
      'body.content.a.0',
    ]);
    expect(
      plugin.secretRefs!(
        cfg({
          method: 'GET',
          url: 'https://x',
          auth: { type: 'basic', secret: 'B' },
          tls: { cert: 'C', key: 'K' },
        }),
      ),
    ).toEqual(['B', 'C', 'K']);
  });
});

describe('invariant 3: resolution only at dispatch', () => {
  it('invariant 3: no second-order resolution — a variable holding <secret:X> is sent literally', async () => {
    const token = canary();
    const defs: Record<string, TestSecret> = { TOKEN: { type: 'text', values: { default: token } } };
    const { plugin, secrets, redactor } = setup(defs);
    const ctx = fakeContext({ redactor, variables: { v: '<secret:TOKEN>', w: '<secret:TOKEN.password>' } });
    const config = cfg({
      method: 'POST',
      url: `${echoServer.url}/p/{{v}}?q={{v}}`,
      headers: { 'X-V': '{{v}}', 'X-W': 'a{{w}}' },
      body: { type: 'json', content: { v: '{{v}}' } },
      saveAs: 'res',
    });
    const result = await plugin.execute(ctx, config);
    const got = echoed(result);
    expect(got.headers['x-v']).toBe('<secret:TOKEN>');
    expect(got.headers['x-w']).toBe('a<secret:TOKEN.password>');
    expect(JSON.parse(got.body)).toEqual({ v: '<secret:TOKEN>' });
    expect(decodeURIComponent(got.url)).toBe('/p/<secret:TOKEN>?q=<secret:TOKEN>');
    expect(secrets.opened).toEqual([]);
    expect(findLeaks([token], result, ctx.logs, echoServer.received)).toEqual([]);
  });

  it('invariant 3: values from the definition are put in place at dispatch and nowhere else', async () => {
    const key = canary();
    const user = canary('user');
    const pass = canary('pass');
    const basic = Buffer.from(`${user}:${pass}`).toString('base64');
    const defs: Record<string, TestSecret> = {
      API_KEY: { type: 'text', values: { default: key } },
      LOGIN: { type: 'basic', values: { default: { username: user, password: pass } } },
    };
    const { plugin, secrets, redactor } = setup(defs);
    const ctx = fakeContext({ redactor, variables: { id: '42' } });
    const config = cfg({
      method: 'POST',
      url: `${echoServer.url}/items/{{id}}?key=<secret:API_KEY>`,
      headers: { 'X-Api-Key': 'k-<secret:API_KEY>', 'X-User': '<secret:LOGIN.username>' },
      body: { type: 'json', content: { password: '<secret:LOGIN.password>', id: '{{id}}' } },
      auth: { type: 'basic', secret: 'LOGIN' },
      saveAs: 'res',
    });
    const result = await plugin.execute(ctx, config);
    const got = echoServer.received[0]!;
    expect(got.url).toBe(`/items/42?key=${key}`);
    expect(got.headers['x-api-key']).toBe(`k-${key}`);
    expect(got.headers['x-user']).toBe(user);
    expect(got.headers.authorization).toBe(`Basic ${basic}`);
    expect(JSON.parse(got.body)).toEqual({ password: pass, id: '42' });
    expect(secrets.opened.sort()).toEqual(['API_KEY', 'LOGIN']);
    // the echo hands everything back: the flow, logs and the request record see none of it
    expect(result.request).toEqual({
      method: 'POST',
      url: `${echoServer.url}/items/{{id}}?key=<secret:API_KEY>`,
      status: 200,
    });
    expect(findLeaks([key, user, pass, basic], result, ctx.logs)).toEqual([]);
    expect(JSON.stringify(result.variables)).toContain('[REDACTED:API_KEY]');
  });

  it('invariant 3: header injection through a variable is refused before anything is sent', async () => {
    const { plugin, redactor } = setup({});
    const ctx = fakeContext({ redactor, variables: { v: 'ok\r\nX-Injected: 1' } });
    const err = await failure(
      plugin.execute(ctx, cfg({ method: 'GET', url: `${echoServer.url}/`, headers: { 'X-A': '{{v}}' } })),
    );
    expect(err.code).toBe('HEADER_INJECTION');
    expect(echoServer.received).toHaveLength(0);
  });

  it('a secret value with a line break is refused in a header, without showing it', async () => {
    const value = `${canary()}\nX-Evil: 1`;
    const defs: Record<string, TestSecret> = { T: { type: 'text', values: { default: value } } };
    const { plugin, redactor } = setup(defs);
    const err = await failure(
      plugin.execute(
        fakeContext({ redactor }),
        cfg({ method: 'GET', url: `${echoServer.url}/`, headers: { 'X-A': '<secret:T>' } }),
      ),
    );
    expect(err.code).toBe('HEADER_INJECTION');
    expect(err.message).not.toContain(value.split('\n')[0]);
    expect(echoServer.received).toHaveLength(0);
  });
});

describe('invariant 4: egress binding', () => {
  it('invariant 4: a host switched by a variable is refused before connecting', async () => {
    const key = canary();
    const defs: Record<string, TestSecret> = {
      KEY: { type: 'text', values: { default: key }, allowedHosts: ['localhost'] },
    };
    const { plugin, secrets, redactor } = setup(defs);
    const ctx = fakeContext({ redactor, variables: { host: `127.0.0.1:${other.port}` } });
    const config = cfg({ method: 'GET', url: 'http://{{host}}/x', headers: { 'X-Key': '<secret:KEY>' } });
    const err = await failure(plugin.execute(ctx, config));
    expect(err.code).toBe('EGRESS_HOST_NOT_ALLOWED');
    expect(err.message).toContain('KEY');
    expect(other.received).toHaveLength(0);
    expect(secrets.opened).toEqual([]);
    expect(findLeaks([key], err, ctx.logs)).toEqual([]);

    // the same flow with an allowed host goes through
    const ok = await plugin.execute(
      fakeContext({ redactor, variables: { host: `localhost:${other.port}` } }),
      config,
    );
    expect(ok.request?.status).toBe(200);
    expect(other.received[0]!.headers['x-key']).toBe(key);
  });

  it('invariant 4: a host produced by a settings variable is checked too', async () => {
    const defs: Record<string, TestSecret> = {
      KEY: { type: 'text', values: { default: canary() }, allowedHosts: ['*.example.com'] },
    };
    const { plugin, redactor } = setup(defs);
    const ctx = fakeContext({ redactor, settings: { BASE: echoServer.url } });
    const err = await failure(
      plugin.execute(
        ctx,
        cfg({ method: 'GET', url: '{{settings.BASE}}/x', headers: { 'X-Key': '<secret:KEY>' } }),
      ),
    );
    expect(err.code).toBe('EGRESS_HOST_NOT_ALLOWED');
    expect(echoServer.received).toHaveLength(0);
  });

  it('invariant 4: a secret in the host part is refused unless its allowedHosts covers the result', async () => {
    const defs: Record<string, TestSecret> = {
      HOST: { type: 'text', values: { default: `127.0.0.1:${echoServer.port}` } },
      BOUND_HOST: {
        type: 'text',
        values: { default: `127.0.0.1:${echoServer.port}` },
        allowedHosts: ['127.0.0.1'],
      },
      WRONG_HOST: {
        type: 'text',
        values: { default: `localhost:${echoServer.port}` },
        allowedHosts: ['127.0.0.1'],
      },
    };
    const { plugin, redactor } = setup(defs);
    const unbound = await failure(
      plugin.execute(fakeContext({ redactor }), cfg({ method: 'GET', url: 'http://<secret:HOST>/x' })),
    );
    expect(unbound.code).toBe('EGRESS_HOST_NOT_ALLOWED');
    expect(unbound.message).toContain('no allowedHosts');
    const wrong = await failure(
      plugin.execute(fakeContext({ redactor }), cfg({ method: 'GET', url: 'http://<secret:WRONG_HOST>/x' })),
    );
    expect(wrong.code).toBe('EGRESS_HOST_NOT_ALLOWED');
    expect(echoServer.received).toHaveLength(0);
    const ok = await plugin.execute(
      fakeContext({ redactor }),
      cfg({ method: 'GET', url: 'http://<secret:BOUND_HOST>/x' }),
    );
    expect(ok.request).toEqual({ method: 'GET', url: 'http://<secret:BOUND_HOST>/x', status: 200 });
  });

  it('invariant 4: allowedHosts wildcards match subdomains only, through a real request', async () => {
    // every host name connects to 127.0.0.1: no name is looked up, no packet leaves the machine
    const lookups: string[] = [];
    const loopback = new Agent({
      connect: {
        lookup: (hostname: string, opts: { all?: boolean }, cb: (...args: unknown[]) => void) => {
          lookups.push(hostname);
          if (opts.all) cb(null, [{ address: '127.0.0.1', family: 4 }]);
          else cb(null, '127.0.0.1', 4);
        },
      } as never,
    });
    const defs: Record<string, TestSecret> = {
      KEY: { type: 'text', values: { default: canary() }, allowedHosts: ['*.example.com'] },
    };
    const { plugin, redactor } = setup(defs, { dispatcher: loopback });
    try {
      const config = cfg({
        method: 'GET',
        url: `http://{{host}}:${echoServer.port}/x`,
        headers: { 'X-Key': '<secret:KEY>' },
      });
      const ok = await plugin.execute(
        fakeContext({ redactor, variables: { host: 'api.example.com' } }),
        config,
      );
      expect(ok.request?.status).toBe(200);
      expect(lookups).toEqual(['api.example.com']);
      for (const host of ['example.com', 'api.example.com.evil.net', 'evilexample.com']) {
        const err = await failure(plugin.execute(fakeContext({ redactor, variables: { host } }), config));
        expect(err.code).toBe('EGRESS_HOST_NOT_ALLOWED');
      }
      expect(echoServer.received).toHaveLength(1);
    } finally {
      await loopback.close();
    }
  });

  it('invariant 4: a redirect to another origin drops every header that carried a secret', async () => {
    const key = canary();
    const token = canary();
    const defs: Record<string, TestSecret> = {
      KEY: { type: 'text', values: { default: key } },
      TOKEN: { type: 'text', values: { default: token }, allowedHosts: ['127.0.0.1'] },
    };
    const redirector = await startServer((req, res) => {
      res.statusCode = 302;
      res.setHeader('location', req.url === '/same' ? '/landed' : `http://localhost:${other.port}/landed`);
      res.end();
    });
    try {
      const { plugin, redactor } = setup(defs);
      const ctx = fakeContext({ redactor });
      const config = cfg({
        method: 'POST',
        url: `${redirector.url}/cross`,
        headers: { 'X-Key': '<secret:KEY>', 'X-Plain': 'visible', Cookie: 'a=b' },
        auth: { type: 'bearer', secret: 'TOKEN' },
        body: { type: 'json', content: { a: 1 } },
        saveAs: 'res',
      });
      const result = await plugin.execute(ctx, config);
      expect(redirector.received[0]!.headers['x-key']).toBe(key);
      const landed = other.received[0]!;
      expect(landed.method).toBe('GET');
      expect(landed.url).toBe('/landed');
      expect(landed.headers['x-plain']).toBe('visible');
      expect(landed.headers['x-key']).toBeUndefined();
      expect(landed.headers.authorization).toBeUndefined();
      expect(landed.headers.cookie).toBeUndefined();
      expect(landed.body).toBe('');
      expect(findLeaks([key, token], other.received, result, ctx.logs)).toEqual([]);

      // same origin: the headers stay
      await plugin.execute(fakeContext({ redactor }), { ...config, url: `${redirector.url}/same` });
      const same = redirector.received.at(-1)!;
      expect(same.url).toBe('/landed');
      expect(same.headers['x-key']).toBe(key);
      expect(same.headers.authorization).toBe(`Bearer ${token}`);
    } finally {
      await redirector.close();
    }
  });

  it('invariant 4: a cross-origin 307 that would resend a body holding a secret is refused', async () => {
    const defs: Record<string, TestSecret> = { KEY: { type: 'text', values: { default: canary() } } };
    const redirector = await startServer((_req, res) => {
      res.statusCode = 307;
      res.setHeader('location', `${other.url}/steal`);
      res.end();
    });
    try {
      const { plugin, redactor } = setup(defs);
      const config = cfg({
        method: 'POST',
        url: `${redirector.url}/`,
        body: { type: 'json', content: { k: '<secret:KEY>' } },
      });
      const err = await failure(plugin.execute(fakeContext({ redactor }), config));
      expect(err.code).toBe('REDIRECT_REFUSED');
      expect(other.received).toHaveLength(0);
    } finally {
      await redirector.close();
    }
  });

  it('follows at most maxRedirects hops; 307 keeps method and body', async () => {
    let hops = 0;
    const loop = await startServer((req, res) => {
      hops++;
      if (req.url === '/keep') {
        res.statusCode = 307;
        res.setHeader('location', '/kept');
        res.end();
        return;
      }
      if (req.url === '/kept') return echo(req, res, undefined as never);
      res.statusCode = 301;
      res.setHeader('location', '/again');
      res.end();
    });
    try {
      const { plugin, redactor } = setup({}, { maxRedirects: 3 });
      const err = await failure(
        plugin.execute(fakeContext({ redactor }), cfg({ method: 'GET', url: `${loop.url}/start` })),
      );
      expect(err.code).toBe('TOO_MANY_REDIRECTS');
      expect(hops).toBe(4);
      const kept = await plugin.execute(
        fakeContext({ redactor }),
        cfg({
          method: 'PUT',
          url: `${loop.url}/keep`,
          body: { type: 'raw', content: 'payload' },
          saveAs: 'res',
        }),
      );
      expect(echoed(kept)).toMatchObject({ method: 'PUT', url: '/kept', body: 'payload' });
    } finally {
      await loop.close();
    }
  });
});

describe('invariant 5: nothing flows back', () => {
  it('invariant 5: a server that echoes the credential in its error body and headers hands the flow nothing', async () => {
    const token = canary();
    const user = canary('user');
    const pass = canary('pass');
    const basic = Buffer.from(`${user}:${pass}`).toString('base64');
    const defs: Record<string, TestSecret> = {
      TOKEN: { type: 'text', values: { default: token } },
      LOGIN: { type: 'basic', values: { default: { username: user, password: pass } } },
    };
    const failing = await startServer((req, res) => {
      res.statusCode = 500;
      res.setHeader('content-type', 'application/json');
      res.setHeader('x-echo', String(req.headers['x-token']));
      res.setHeader('set-cookie', [`s=${req.headers['x-token']}`, 'other=1']);
      res.end(
        JSON.stringify({
          error: `bad credentials: ${req.headers.authorization}`,
          [String(req.headers['x-token'])]: 'as a key',
          decoded: Buffer.from(basic, 'base64').toString(),
        }),
      );
    });
    try {
      const { plugin, redactor } = setup(defs);
      const ctx = fakeContext({ redactor });
      const result = await plugin.execute(
        ctx,
        cfg({
          method: 'GET',
          url: `${failing.url}/`,
          headers: { 'X-Token': '<secret:TOKEN>' },
          auth: { type: 'basic', secret: 'LOGIN' },
          saveAs: 'res',
        }),
      );
      expect(failing.received[0]!.headers.authorization).toBe(`Basic ${basic}`);
      const res = result.variables!.res as {
        status: number;
        headers: Record<string, unknown>;
        body: Record<string, unknown>;
      };
      expect(res.status).toBe(500);
      expect(res.headers['x-echo']).toBe('[REDACTED:TOKEN]');
      expect(res.body.error).toBe('bad credentials: Basic [REDACTED:LOGIN]');
      expect(res.body['[REDACTED:TOKEN]']).toBe('as a key');
      expect(findLeaks([token, user, pass, basic], result, ctx.logs)).toEqual([]);
    } finally {
      await failing.close();
    }
  });

  it('invariant 5: error messages and stacks are scrubbed', async () => {
    const key = canary();
    const defs: Record<string, TestSecret> = { KEY: { type: 'text', values: { default: key } } };
    const { plugin, redactor } = setup(defs, {
      // a dispatcher whose errors carry the URL (as undici errors can)
      dispatcher: {
        dispatch(opts: { origin?: unknown; path: string }) {
          throw Object.assign(new Error(`connect failed for ${String(opts.origin)}${opts.path}`), {
            code: 'ECONNREFUSED',
          });
        },
      } as never,
    });
    const ctx = fakeContext({ redactor });
    const err = await failure(
      plugin.execute(ctx, cfg({ method: 'GET', url: 'http://127.0.0.1:9/x?key=<secret:KEY>' })),
    );
    expect(err.code).toBe('UPSTREAM_UNREACHABLE');
    expect(err.message).toContain('[REDACTED:KEY]');
    expect(err.request).toEqual({ method: 'GET', url: 'http://127.0.0.1:9/x?key=<secret:KEY>' });
    expect(findLeaks([key], err, err.stack, ctx.logs)).toEqual([]);
  });
});

describe('resolution, audit and limits', () => {
  it('a missing environment value fails the step naming the secret and environment', async () => {
    const defs: Record<string, TestSecret> = {
      ZENDESK_TOKEN: { type: 'text', values: { staging: canary() } },
    };
    const { plugin, redactor } = setup(defs);
    const err = await failure(
      plugin.execute(
        fakeContext({ redactor, environment: 'production' }),
        cfg({ method: 'GET', url: `${echoServer.url}/`, auth: { type: 'bearer', secret: 'ZENDESK_TOKEN' } }),
      ),
    );
    expect(err.code).toBe('SECRET_VALUE_MISSING');
    expect(err.message).toBe('secret ZENDESK_TOKEN has no value for environment production');
    expect(echoServer.received).toHaveLength(0);
  });

  it('environment overrides win over the default', async () => {
    const prod = canary();
    const defs: Record<string, TestSecret> = {
      T: { type: 'text', values: { default: canary(), production: prod } },
    };
    const { plugin, redactor } = setup(defs);
    await plugin.execute(
      fakeContext({ redactor }),
      cfg({ method: 'GET', url: `${echoServer.url}/`, headers: { 'X-T': '<secret:T>' } }),
    );
    expect(echoServer.received[0]!.headers['x-t']).toBe(prod);
  });

  it('unknown secrets and wrong fields are refused', async () => {
    const defs: Record<string, TestSecret> = { T: { type: 'text', values: { default: canary() } } };
    const { plugin, redactor } = setup(defs);
    const unknown = await failure(
      plugin.execute(
        fakeContext({ redactor }),
        cfg({ method: 'GET', url: `${echoServer.url}/<secret:NOPE>` }),
      ),
    );
    expect(unknown.code).toBe('SECRET_UNKNOWN');
    const field = await failure(
      plugin.execute(
        fakeContext({ redactor }),
        cfg({ method: 'GET', url: `${echoServer.url}/<secret:T.username>` }),
      ),
    );
    expect(field.code).toBe('SECRET_FIELD_INVALID');
    const auth = await failure(
      plugin.execute(
        fakeContext({ redactor }),
        cfg({ method: 'GET', url: echoServer.url, auth: { type: 'basic', secret: 'T' } }),
      ),
    );
    expect(auth.code).toBe('SECRET_FIELD_INVALID');
    expect(echoServer.received).toHaveLength(0);
  });

  it('audit is called once per secret used, with names and never values', async () => {
    const a = canary();
    const b = canary();
    const defs: Record<string, TestSecret> = {
      A: { type: 'text', values: { default: a } },
      B: { type: 'text', values: { default: b } },
    };
    const { plugin, audit, redactor } = setup(defs);
    const ctx = fakeContext({ redactor });
    await plugin.execute(
      ctx,
      cfg({
        method: 'GET',
        url: `${echoServer.url}/<secret:A>?x=<secret:A>`,
        headers: { 'X-B': '<secret:B>' },
        auth: { type: 'bearer', secret: 'B' },
      }),
    );
    expect(audit.events.map((e) => e.secret).sort()).toEqual(['A', 'B']);
    for (const e of audit.events) {
      expect(e).toEqual({ run: ctx.run, secret: e.secret, environment: 'production', blockId: 'call' });
    }
    expect(findLeaks([a, b], audit.events)).toEqual([]);
  });

  it('a response over the size limit fails with RESPONSE_TOO_LARGE (with and without content-length)', async () => {
    const big = await startServer((req, res) => {
      const chunk = Buffer.alloc(64 * 1024, 'a');
      if (req.url === '/length') res.setHeader('content-length', String(chunk.length * 4));
      for (let i = 0; i < 4; i++) res.write(chunk);
      res.end();
    });
    try {
      const { plugin, redactor } = setup({}, { maxResponseBytes: 100_000 });
      for (const path of ['/length', '/chunked']) {
        const err = await failure(
          plugin.execute(fakeContext({ redactor }), cfg({ method: 'GET', url: `${big.url}${path}` })),
        );
        expect(err.code).toBe('RESPONSE_TOO_LARGE');
        expect(err.message).toContain('100000 bytes');
      }
      const small = await plugin
        .execute(fakeContext({ redactor }), cfg({ method: 'GET', url: `${big.url}/length`, saveAs: 'r' }))
        .catch((e: ApiBlockError) => e);
      expect((small as ApiBlockError).code).toBe('RESPONSE_TOO_LARGE');
    } finally {
      await big.close();
    }
  });

  it('a slow upstream fails with UPSTREAM_TIMEOUT after timeoutMs', async () => {
    const slow = await startServer(async (_req, res) => {
      await new Promise((r) => setTimeout(r, 1500));
      res.end('late');
    });
    try {
      const { plugin, redactor } = setup({});
      const t0 = Date.now();
      const err = await failure(
        plugin.execute(
          fakeContext({ redactor }),
          cfg({ method: 'GET', url: `${slow.url}/`, timeoutMs: 200 }),
        ),
      );
      expect(err.code).toBe('UPSTREAM_TIMEOUT');
      expect(Date.now() - t0).toBeLessThan(1400);
    } finally {
      await slow.close();
    }
  });

  it('a closed port fails with UPSTREAM_UNREACHABLE; a cancelled run with CANCELLED', async () => {
    const closed = await startServer(echo);
    await closed.close();
    const { plugin, redactor } = setup({});
    const err = await failure(
      plugin.execute(fakeContext({ redactor }), cfg({ method: 'GET', url: `${closed.url}/` })),
    );
    expect(err.code).toBe('UPSTREAM_UNREACHABLE');

    const slow = await startServer(async (_req, res) => {
      await new Promise((r) => setTimeout(r, 1000));
      res.end('late');
    });
    try {
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 100);
      const cancelled = await failure(
        plugin.execute(
          fakeContext({ redactor, signal: controller.signal }),
          cfg({ method: 'GET', url: `${slow.url}/` }),
        ),
      );
      expect(cancelled.code).toBe('CANCELLED');
    } finally {
      await slow.close();
    }
  });
});
