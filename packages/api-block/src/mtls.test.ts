// Mutual TLS from binary secrets against a real HTTPS server that requires a client
// certificate. The CA, server and client certificates are made here with the openssl CLI.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiBlockPlugin } from './api-block-plugin';
import { apiBlockConfigSchema } from './config-schema';
import { ApiBlockError } from './errors';
import { fakeContext, findLeaks, memorySecrets, redactorFor, type TestSecret } from './test-support';

let dir: string;
let server: Server;
let url: string;
let pem: Record<'ca' | 'clientCert' | 'clientKey', string>;

function openssl(...args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'flowsafe-mtls-'));
  openssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'ca.key',
    '-out',
    'ca.crt',
    '-days',
    '2',
    '-subj',
    '/CN=flowsafe test CA',
  );
  writeFileSync(join(dir, 'server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  openssl(
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'server.key',
    '-out',
    'server.csr',
    '-subj',
    '/CN=localhost',
  );
  openssl(
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    'ca.crt',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-out',
    'server.crt',
    '-days',
    '2',
    '-extfile',
    'server.ext',
  );
  openssl(
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'client.key',
    '-out',
    'client.csr',
    '-subj',
    '/CN=flowsafe-client',
  );
  openssl(
    'x509',
    '-req',
    '-in',
    'client.csr',
    '-CA',
    'ca.crt',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-out',
    'client.crt',
    '-days',
    '2',
  );
  const read = (f: string): string => readFileSync(join(dir, f), 'utf8');
  pem = { ca: read('ca.crt'), clientCert: read('client.crt'), clientKey: read('client.key') };
  server = createServer(
    {
      key: read('server.key'),
      cert: read('server.crt'),
      ca: pem.ca,
      requestCert: true,
      rejectUnauthorized: true,
    },
    (req, res) => {
      const peer = (req.socket as TLSSocket).getPeerCertificate();
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ client: peer.subject?.CN }));
    },
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
}, 60_000);

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  rmSync(dir, { recursive: true, force: true });
});

const b64 = (s: string): { base64: string } => ({ base64: Buffer.from(s).toString('base64') });

describe('mutual TLS', () => {
  it('connects with a client certificate, key and CA taken from binary secrets', async () => {
    const defs: Record<string, TestSecret> = {
      CLIENT_CERT: { type: 'binary', values: { default: b64(pem.clientCert) } },
      CLIENT_KEY: { type: 'binary', values: { default: b64(pem.clientKey) } },
      TEST_CA: { type: 'binary', values: { default: b64(pem.ca) } },
    };
    const plugin = createApiBlockPlugin({ secrets: memorySecrets(defs) });
    try {
      const ctx = fakeContext({ redactor: redactorFor(defs) });
      const result = await plugin.execute(
        ctx,
        apiBlockConfigSchema.parse({
          method: 'GET',
          url: `${url}/whoami`,
          tls: { cert: 'CLIENT_CERT', key: 'CLIENT_KEY', ca: 'TEST_CA' },
          saveAs: 'res',
        }),
      );
      expect(result.variables!.res).toMatchObject({ status: 200, body: { client: 'flowsafe-client' } });
      const keyLines = pem.clientKey.split('\n').filter((l) => l.length >= 8 && !l.startsWith('-----'));
      expect(findLeaks(keyLines, result, ctx.logs)).toEqual([]);

      // without the client certificate the server refuses the handshake
      const defsNoCert: Record<string, TestSecret> = { TEST_CA: defs.TEST_CA! };
      const bare = createApiBlockPlugin({ secrets: memorySecrets(defsNoCert) });
      try {
        const err = await bare
          .execute(
            fakeContext({ redactor: redactorFor(defsNoCert) }),
            apiBlockConfigSchema.parse({ method: 'GET', url, tls: { ca: 'TEST_CA' } }),
          )
          .catch((e: unknown) => e);
        expect(err).toBeInstanceOf(ApiBlockError);
        expect(['UPSTREAM_TLS_ERROR', 'UPSTREAM_UNREACHABLE']).toContain((err as ApiBlockError).code);
      } finally {
        await bare.close();
      }
    } finally {
      await plugin.close();
    }
  });

  it('tls names must be binary secrets', async () => {
    const defs: Record<string, TestSecret> = {
      NOT_BINARY: { type: 'text', values: { default: 'abcdefgh' } },
    };
    const plugin = createApiBlockPlugin({ secrets: memorySecrets(defs) });
    const err = await plugin
      .execute(
        fakeContext({ redactor: redactorFor(defs) }),
        apiBlockConfigSchema.parse({ method: 'GET', url, tls: { cert: 'NOT_BINARY' } }),
      )
      .catch((e: unknown) => e);
    expect((err as ApiBlockError).code).toBe('SECRET_FIELD_INVALID');
    await plugin.close();
  });
});
