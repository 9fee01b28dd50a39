// A local upstream on 127.0.0.1 that echoes each request (method, URL, headers, body) back as
// JSON — including the Authorization and API-key headers, so the tests can see the server
// scrub a secret that an API hands back.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Upstream {
  url: string;
  requests: { method: string; url: string; headers: Record<string, unknown>; body: string }[];
  close(): Promise<void>;
}

export async function startUpstream(): Promise<Upstream> {
  const requests: Upstream['requests'] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => {
      if (body.length < 1_000_000) body += c;
    });
    req.on('end', () => {
      const echo = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers as Record<string, unknown>,
        body,
      };
      requests.push(echo);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ ok: true, echo }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
