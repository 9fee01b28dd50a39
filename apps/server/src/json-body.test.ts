// The direct JSON body path answers exactly as express.json does: each body below is sent once
// the common way (taken by jsonBody itself) and once with a content type only express.json
// reads (a harmless extra parameter), and both answers must be the same.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type NextFunction, type Request, type Response } from 'express';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BODY_LIMIT, BODY_LIMIT_BYTES } from './app';
import { toErrorResponse } from './errors';
import { jsonBody } from './json-body';

function app(): express.Express {
  const a = express();
  let fallbackCalls = 0;
  const fallback = express.json({ limit: BODY_LIMIT, strict: true, type: 'application/json' });
  a.use(
    jsonBody(BODY_LIMIT_BYTES, (req, res, next) => {
      fallbackCalls++;
      return fallback(req, res, next);
    }),
  );
  a.post('/echo', (req, res) => {
    res.json({ body: req.body ?? null, fallbackCalls });
  });
  a.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const { status, body } = toErrorResponse(err);
    res.status(status).json(body);
  });
  return a;
}

const FAST = 'application/json';
const SLOW = 'application/json; profile=x';

const bodies: Array<[string, string]> = [
  ['an object', '{"environment":"production","input":{"a":[1,2,{"b":null}]}}'],
  ['an array', '[1,"two",{"three":3}]'],
  ['leading whitespace', ' \n\t{"a":1}'],
  ['a UTF-8 byte order mark', '\ufeff{"a":"b"}'],
  ['non-ASCII text', '{"name":"Zoë ✓ 😀"}'],
  ['a number at the top (not strict JSON for the API)', '42'],
  ['a string at the top', '"text"'],
  ['broken JSON', '{"a":'],
  ['trailing garbage', '{"a":1} x'],
  ['nothing but whitespace', '   '],
];

describe('jsonBody', () => {
  const a = app();

  it.each(bodies)('answers %s as express.json does', async (_label, text) => {
    const fast = await request(a).post('/echo').set('Content-Type', FAST).send(text);
    const slow = await request(a).post('/echo').set('Content-Type', SLOW).send(text);
    expect(fast.status).toBe(slow.status);
    if (fast.status === 200) {
      expect(fast.body.body).toEqual(slow.body.body);
      // the first went the direct way, the second through express.json
      expect(slow.body.fallbackCalls).toBe(fast.body.fallbackCalls + 1);
    } else {
      expect(fast.body).toEqual(slow.body);
      expect(fast.status).toBeLessThan(500);
    }
  });

  it('leaves compressed, oversized and other-charset bodies to express.json', async () => {
    const big = `{"a":"${'x'.repeat(BODY_LIMIT_BYTES)}"}`;
    const tooLarge = await request(a).post('/echo').set('Content-Type', FAST).send(big);
    expect(tooLarge.status).toBe(413);
    expect(tooLarge.body.error.code).toBe('PAYLOAD_TOO_LARGE');

    const latin1 = await request(a)
      .post('/echo')
      .set('Content-Type', 'application/json; charset=latin1')
      .send('{"a":1}');
    expect(latin1.status).toBe(415);

    const gzip = await request(a)
      .post('/echo')
      .set('Content-Type', FAST)
      .set('Content-Encoding', 'identity')
      .send('{"a":1}');
    expect(gzip.status).toBe(200);
    expect(gzip.body.body).toEqual({ a: 1 });
  });

  describe('a body shorter or longer than its Content-Length', () => {
    let base: string;
    const server = createServer(app());
    beforeAll(async () => {
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      base = `127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    afterAll(async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });

    /** A raw HTTP/1.1 request whose Content-Length says `declared` (the connection then ends). */
    const raw = async (declared: number, body: string, type = FAST): Promise<string> => {
      const { connect } = await import('node:net');
      const [host, port] = base.split(':') as [string, string];
      return new Promise((resolve, reject) => {
        const socket = connect(Number(port), host, () => {
          socket.end(
            `POST /echo HTTP/1.1\r\nHost: ${base}\r\nContent-Type: ${type}\r\nContent-Length: ${declared}\r\nConnection: close\r\n\r\n${body}`,
          );
        });
        let answer = '';
        socket.on('data', (d: Buffer) => (answer += d.toString('utf8')));
        socket.on('end', () => resolve(answer));
        socket.on('close', () => resolve(answer));
        socket.on('error', reject);
      });
    };

    it('a body that ends early is refused with 400 as express.json refuses it, never 5xx', async () => {
      const fast = await raw(20, '{"a":1}');
      const slow = await raw(20, '{"a":1}', SLOW);
      expect(fast).toMatch(/^HTTP\/1\.1 400 /);
      expect(slow.split('\r\n')[0]).toBe(fast.split('\r\n')[0]);
    });
  });
});
