// Invariant 13 end to end through undici. No packet leaves 127.0.0.0/8 or ::1: refusals are proven
// by loopback servers that are not on the allow-list (their connection count must stay 0) or by a
// connector spy that records the address it was handed and fails before any socket opens.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { Client, fetch, request } from 'undici';
import type { Dispatcher, buildConnector } from 'undici';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { EgressConfigError, EgressError } from './errors';
import { createEgressGuard } from './guard';
import type { EgressLookup, ResolvedAddress } from './guard';

interface TestServer {
  readonly port: number;
  /** TCP connections accepted: a refused request must not even open one. */
  connections: number;
  requests: number;
  close(): Promise<void>;
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

type Handler = (req: IncomingMessage, res: ServerResponse) => void;
const okHandler: Handler = (_req, res) => res.end('ok');

async function serve(server: Server, host: string, port: number): Promise<TestServer> {
  const state: TestServer = {
    port: 0,
    connections: 0,
    requests: 0,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  // 'connection' is the TCP accept, for TLS servers too: a refused request must not even get that far.
  server.on('connection', () => {
    state.connections += 1;
  });
  server.on('request', () => {
    state.requests += 1;
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  Object.assign(state, { port: (server.address() as AddressInfo).port });
  cleanups.push(() => state.close());
  return state;
}

function listen(host: string, handler: Handler = okHandler, port = 0): Promise<TestServer> {
  return serve(createServer(handler), host, port);
}

function track<T extends Dispatcher>(dispatcher: T): T {
  cleanups.push(() => dispatcher.close());
  return dispatcher;
}

/** A lookup from a table; each host's answers are used in turn (the last one repeats). */
function fakeDns(table: Record<string, readonly (readonly string[])[]>): EgressLookup & { calls: string[] } {
  const calls: string[] = [];
  const lookup = (hostname: string): Promise<readonly ResolvedAddress[]> => {
    const answers = table[hostname];
    const count = calls.filter((name) => name === hostname).length;
    calls.push(hostname);
    const answer = answers?.[Math.min(count, answers.length - 1)];
    if (!answer) return Promise.reject(new Error(`fake DNS: no entry for ${hostname}`));
    return Promise.resolve(answer.map((address) => ({ address, family: address.includes(':') ? 6 : 4 })));
  };
  return Object.assign(lookup, { calls });
}

/** A connector that records what it was asked to connect to and fails before opening any socket. */
function connectSpy(): buildConnector.connector & { calls: buildConnector.Options[] } {
  const calls: buildConnector.Options[] = [];
  const connector: buildConnector.connector = (options, callback) => {
    calls.push(options);
    callback(new Error('connect spy: no socket is opened in this test'), null);
  };
  return Object.assign(connector, { calls });
}

async function refusal(promise: Promise<unknown>): Promise<EgressError> {
  const error: unknown = await promise.then(
    () => new Error('expected the request to be refused'),
    (caught: unknown) => caught,
  );
  const egress = error instanceof TypeError && error.cause instanceof EgressError ? error.cause : error;
  expect(egress).toBeInstanceOf(EgressError);
  expect((egress as EgressError).code).toBe('EGRESS_PRIVATE_ADDRESS');
  return egress as EgressError;
}

async function get(
  url: string,
  dispatcher: Dispatcher,
): Promise<{ status: number; body: string; location?: string }> {
  const response = await request(url, { dispatcher });
  const body = await response.body.text();
  const location = response.headers.location;
  return { status: response.statusCode, body, ...(typeof location === 'string' ? { location } : {}) };
}

describe('egress guard', () => {
  it('invariant 13: a loopback address that is not allowed is refused before any connection (127.0.0.2)', async () => {
    const refused = await listen('127.0.0.2');
    const dispatcher = track(createEgressGuard({ allow: '127.0.0.1' }).agent());
    const error = await refusal(get(`http://127.0.0.2:${refused.port}/`, dispatcher));
    expect(error.message).toBe(
      'refused to connect to 127.0.0.2: 127.0.0.2 is loopback (127.0.0.0/8); add "127.0.0.2" to FLOWSAFE_EGRESS_ALLOW to allow it',
    );
    expect(error).toMatchObject({ host: '127.0.0.2', address: '127.0.0.2', range: '127.0.0.0/8' });
    expect(refused.connections).toBe(0);
  });

  it.each([
    '169.254.169.254',
    '10.0.0.1',
    '[fd00::1]',
    '[::ffff:169.254.169.254]',
    '[64:ff9b::a9fe:a9fe]',
    '[ff02::1]',
  ])('invariant 13: the literal %s is refused without calling the connector', async (host) => {
    const spy = connectSpy();
    const dispatcher = track(createEgressGuard().agent({ connect: spy }));
    const error = await refusal(get(`http://${host}/latest/meta-data/`, dispatcher));
    expect(error.message).toContain('FLOWSAFE_EGRESS_ALLOW');
    expect(spy.calls).toEqual([]);
  });

  it.each(['2130706433', '0x7f.1', '0177.0.0.1', '127.1', '[::ffff:7f00:1]', '[::ffff:127.0.0.1]'])(
    'invariant 13: the odd host form http://%s/ is judged after URL parsing and refused',
    async (form) => {
      const server = await listen('127.0.0.1');
      const guard = createEgressGuard();
      const url = new URL(`http://${form}:${server.port}/`);
      expect(() => guard.checkUrl(url)).toThrow(EgressError);
      const spy = connectSpy();
      await refusal(get(url.href, track(guard.agent({ connect: spy }))));
      await refusal(get(url.href, track(guard.agent())));
      expect(spy.calls).toEqual([]);
      expect(server.connections).toBe(0);
    },
  );

  it.each(['2130706433', '0x7f.1', '0177.0.0.1', '[::ffff:7f00:1]'])(
    'invariant 13: the odd host form http://%s/ reaches 127.0.0.1 when 127.0.0.1 is allowed',
    async (form) => {
      const server = await listen('127.0.0.1');
      const guard = createEgressGuard({ allow: '127.0.0.1' });
      const url = new URL(`http://${form}:${server.port}/`);
      expect(() => guard.checkUrl(url)).not.toThrow();
      expect(await get(url.href, track(guard.agent()))).toMatchObject({ status: 200, body: 'ok' });
      expect(server.requests).toBe(1);
    },
  );

  it('invariant 13: a host name that resolves to a private address is refused, naming host and address', async () => {
    const lookup = fakeDns({ 'metadata.test': [['169.254.169.254']] });
    const spy = connectSpy();
    const guard = createEgressGuard({ lookup });
    expect(() => guard.checkUrl(new URL('http://metadata.test/'))).not.toThrow();
    const error = await refusal(
      get('http://metadata.test/latest/meta-data/', track(guard.agent({ connect: spy }))),
    );
    expect(error.message).toBe(
      'refused to connect to metadata.test: 169.254.169.254 is link-local, where cloud metadata lives (169.254.0.0/16); ' +
        'add "metadata.test" (or its address 169.254.169.254) to FLOWSAFE_EGRESS_ALLOW to allow it',
    );
    expect(spy.calls).toEqual([]);
    expect(lookup.calls).toEqual(['metadata.test']);
  });

  it('invariant 13: a name whose answer mixes public and private addresses is refused', async () => {
    const lookup = fakeDns({ 'mixed.test': [['93.184.216.34', '::ffff:10.0.0.5', '2606:4700::1']] });
    const spy = connectSpy();
    const guard = createEgressGuard({ lookup });
    const error = await refusal(get('http://mixed.test/', track(guard.agent({ connect: spy }))));
    expect(error.address).toBe('::ffff:10.0.0.5');
    expect(error.message).toContain('::ffff:10.0.0.5 is IPv4-mapped 10.0.0.5, private (10.0.0.0/8)');
    expect(spy.calls).toEqual([]);
  });

  it('invariant 13: rebinding — the name is resolved once and the connector gets the checked address', async () => {
    // First answer public, second private: a guard that checked one lookup and let the socket do
    // another would connect to 127.0.0.1. The spy fails the connect, so nothing public is reached.
    const lookup = fakeDns({ 'rebind.test': [['93.184.216.34'], ['127.0.0.1']] });
    const spy = connectSpy();
    const guard = createEgressGuard({ lookup });
    const error: unknown = await get('http://rebind.test:8080/', track(guard.agent({ connect: spy }))).catch(
      (caught: unknown) => caught,
    );
    expect((error as Error).message).toBe('connect spy: no socket is opened in this test');
    expect(lookup.calls).toEqual(['rebind.test']);
    expect(spy.calls).toHaveLength(1);
    expect(spy.calls[0]).toMatchObject({ hostname: '93.184.216.34', port: '8080', protocol: 'http:' });
  });

  it('invariant 13: rebinding — a real socket goes to the checked address, never to the second answer', async () => {
    const allowed = await listen('127.0.0.1', (_req, res) => res.end('checked'));
    const rebound = await listen('127.0.0.2', okHandler, allowed.port);
    const lookup = fakeDns({ 'rebind.test': [['127.0.0.1'], ['127.0.0.2']] });
    const guard = createEgressGuard({ allow: '127.0.0.1', lookup });
    const dispatcher = track(guard.agent());
    expect(await get(`http://rebind.test:${allowed.port}/`, dispatcher)).toMatchObject({
      status: 200,
      body: 'checked',
    });
    expect(lookup.calls).toEqual(['rebind.test']);
    expect(rebound.connections).toBe(0);
    // A new connection (another agent) resolves again: this time the answer is checked and refused.
    const next = track(guard.agent());
    await refusal(get(`http://rebind.test:${allowed.port}/`, next));
    expect(rebound.connections).toBe(0);
  });

  it('invariant 13: the allow-list opens an address, a range and a name — and nothing else', async () => {
    const server = await listen('127.0.0.1');
    const other = await listen('127.0.0.2', okHandler, server.port);
    const lookup = fakeDns({
      'api.internal': [['127.0.0.1']],
      'svc.corp.test': [['127.0.0.1']],
      'other.internal': [['127.0.0.2']],
    });
    const cases: [allow: string, url: string][] = [
      ['127.0.0.1', `http://127.0.0.1:${server.port}/`],
      ['127.0.0.0/30', `http://127.0.0.1:${server.port}/`],
      ['api.internal', `http://api.internal:${server.port}/`],
      ['*.corp.test', `http://svc.corp.test:${server.port}/`],
    ];
    for (const [allow, url] of cases) {
      const guard = createEgressGuard({ allow, lookup });
      expect(await get(url, track(guard.agent())), `${allow} → ${url}`).toMatchObject({ status: 200 });
    }
    expect(server.requests).toBe(cases.length);

    const refusedCases: [allow: string, url: string][] = [
      ['', `http://127.0.0.1:${server.port}/`],
      ['127.0.0.1', `http://127.0.0.2:${other.port}/`],
      ['127.0.0.0/31', `http://127.0.0.2:${other.port}/`],
      ['api.internal', `http://other.internal:${other.port}/`],
      ['*.corp.test', `http://api.internal:${server.port}/`],
    ];
    for (const [allow, url] of refusedCases) {
      const guard = createEgressGuard({ allow, lookup });
      await refusal(get(url, track(guard.agent())));
    }
    expect(server.requests).toBe(cases.length);
    expect(other.connections).toBe(0);
  });

  it('invariant 13: ::1 is refused unless allowed', async () => {
    const server = await listen('::1');
    const url = `http://[::1]:${server.port}/`;
    await refusal(get(url, track(createEgressGuard({ allow: '127.0.0.1' }).agent())));
    expect(server.connections).toBe(0);
    expect(await get(url, track(createEgressGuard({ allow: '::1' }).agent()))).toMatchObject({ status: 200 });
  });

  it('invariant 13: a redirect from an allowed host to a refused one is refused at the next hop', async () => {
    const target = await listen('127.0.0.2', (_req, res) => res.end('internal data'));
    const lookup = fakeDns({ 'internal.test': [['127.0.0.2']] });
    const locations = [`http://127.0.0.2:${target.port}/admin`, `http://internal.test:${target.port}/admin`];
    const start = await listen('127.0.0.1', (req, res) => {
      res.writeHead(302, { location: locations[Number(req.url?.slice(1))] ?? '/' }).end();
    });
    const dispatcher = track(createEgressGuard({ allow: '127.0.0.1', lookup }).agent());
    for (const index of [0, 1]) {
      const first = await get(`http://127.0.0.1:${start.port}/${index}`, dispatcher);
      expect(first.status).toBe(302);
      expect(first.location).toBe(locations[index]);
      const next = new URL(first.location ?? '', `http://127.0.0.1:${start.port}/`);
      await refusal(get(next.href, dispatcher));
    }
    expect(target.connections).toBe(0);
  });

  it('invariant 13: an OAuth2 token fetch through the same agent is refused for a private token URL', async () => {
    const tokenServer = await listen('127.0.0.2', (_req, res) => res.end('{"access_token":"t0ken-value"}'));
    const allowedToken = await listen('127.0.0.1', (_req, res) => res.end('{"access_token":"t0ken-value"}'));
    const dispatcher = track(createEgressGuard({ allow: '127.0.0.1' }).agent());
    const body = 'grant_type=client_credentials';
    const headers = { 'content-type': 'application/x-www-form-urlencoded' };
    await refusal(
      fetch(`http://127.0.0.2:${tokenServer.port}/token`, { method: 'POST', body, headers, dispatcher }),
    );
    expect(tokenServer.connections).toBe(0);
    const ok = await fetch(`http://127.0.0.1:${allowedToken.port}/token`, {
      method: 'POST',
      body,
      headers,
      dispatcher,
    });
    expect(await ok.json()).toEqual({ access_token: 't0ken-value' });
  });

  it('invariant 13: guard.connect guards a Client built elsewhere', async () => {
    const server = await listen('127.0.0.2');
    const guard = createEgressGuard({ allow: '127.0.0.1' });
    const client = track(new Client(`http://127.0.0.2:${server.port}`, { connect: guard.connect }));
    await refusal(client.request({ path: '/', method: 'GET' }));
    expect(server.connections).toBe(0);
  });

  it('check() resolves once, returns the checked address, and refuses an empty answer', async () => {
    const lookup = fakeDns({ 'two.test': [['127.0.0.1', '::1']], 'none.test': [[]] });
    const guard = createEgressGuard({ allow: '127.0.0.0/8,::1', lookup });
    await expect(guard.check('two.test')).resolves.toBe('127.0.0.1');
    await expect(guard.check('[::1]')).resolves.toBe('::1');
    await expect(guard.check('none.test')).rejects.toThrow(EgressError);
    expect(lookup.calls).toEqual(['two.test', 'none.test']);
  });

  it('refuses a unix socketPath, which the guard cannot judge', () => {
    const guard = createEgressGuard();
    expect(() => guard.agent({ socketPath: '/tmp/flowsafe.sock' })).toThrow(EgressConfigError);
    expect(() => guard.agent({ connect: { socketPath: '/tmp/flowsafe.sock' } })).toThrow(EgressConfigError);
  });

  it('accepts the allow-list as text and reports a bad entry', () => {
    expect(createEgressGuard({ allow: '10.0.0.0/8' }).allow.entries).toEqual(['10.0.0.0/8']);
    expect(() => createEgressGuard({ allow: '10.0.0.0/8,http://x' })).toThrow(
      'FLOWSAFE_EGRESS_ALLOW: "http://x"',
    );
  });
});

function hasOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe.skipIf(!hasOpenssl())('egress guard with mTLS', () => {
  const pem: Record<string, string> = {};

  beforeAll(() => {
    const dir = mkdtempSync(join(tmpdir(), 'flowsafe-guard-tls-'));
    const run = (...args: string[]): void => {
      execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
    };
    const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
    run(
      'req',
      '-x509',
      ...ec,
      '-keyout',
      'ca.key',
      '-out',
      'ca.crt',
      '-days',
      '1',
      '-subj',
      '/CN=flowsafe test CA',
    );
    // The server certificate names only api.internal: if the guard lost the host name when it swapped
    // in the checked address, certificate verification would fail.
    writeFileSync(join(dir, 'server.ext'), 'subjectAltName=DNS:api.internal\n');
    writeFileSync(join(dir, 'client.ext'), 'extendedKeyUsage=clientAuth\n');
    for (const name of ['server', 'client']) {
      const subject = `/CN=${name === 'server' ? 'api.internal' : 'flowsafe'}`;
      run('req', ...ec, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', subject);
      const signing = ['-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '1'];
      run('x509', '-req', '-in', `${name}.csr`, ...signing, '-extfile', `${name}.ext`, '-out', `${name}.crt`);
    }
    for (const file of ['ca.crt', 'server.key', 'server.crt', 'client.key', 'client.crt']) {
      pem[file] = readFileSync(join(dir, file), 'utf8');
    }
    rmSync(dir, { recursive: true, force: true });
  });

  function tlsServer(host: string, port = 0): Promise<TestServer> {
    const server = createTlsServer(
      {
        key: pem['server.key'],
        cert: pem['server.crt'],
        ca: pem['ca.crt'],
        requestCert: true,
        rejectUnauthorized: true,
      },
      (req, res) => {
        const socket = req.socket as TLSSocket;
        res.end(`${String(socket.servername)} ${String(socket.getPeerCertificate().subject?.CN)}`);
      },
    );
    return serve(server, host, port);
  }

  it('invariant 13: agent({ connect: { cert, key, ca } }) keeps the guard and the TLS name', async () => {
    const server = await tlsServer('127.0.0.1');
    const internal = await tlsServer('127.0.0.2', server.port);
    const lookup = fakeDns({ 'api.internal': [['127.0.0.1']], 'rebound.internal': [['127.0.0.2']] });
    const guard = createEgressGuard({ allow: 'api.internal', lookup });
    const dispatcher = track(
      guard.agent({ connect: { cert: pem['client.crt'], key: pem['client.key'], ca: pem['ca.crt'] } }),
    );

    expect(await get(`https://api.internal:${server.port}/`, dispatcher)).toMatchObject({
      status: 200,
      body: 'api.internal flowsafe',
    });
    await refusal(get(`https://127.0.0.2:${internal.port}/`, dispatcher));
    await refusal(get(`https://rebound.internal:${internal.port}/`, dispatcher));
    expect(internal.connections).toBe(0);
  });
});
