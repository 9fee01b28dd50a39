import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import request from 'supertest';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { Redactor, createLogger, redactedJson, redactErrorMiddleware, redactJsonResponses } from './index';
import type { ResponseLike } from './index';

const CANARY = 'canary-http-secret';

/** A tiny express-like app on node:http: shims res.status/json/send, runs handlers, then the error handler. */
function app(
  handler: (req: IncomingMessage, res: ServerResponse & ResponseLike) => void,
  r: Redactor | undefined,
  logged?: string[],
) {
  const logger = logged
    ? createLogger(r ?? new Redactor(), {
        destination: new Writable({
          write(c: Buffer, _e, cb) {
            logged.push(c.toString());
            cb();
          },
        }),
      })
    : undefined;
  const onError = redactErrorMiddleware(() => r, logger);
  const hook = redactJsonResponses(() => r);
  return createServer((req, raw) => {
    const res = raw as ServerResponse & ResponseLike;
    res.status = (code: number) => {
      res.statusCode = code;
      return res;
    };
    res.send = (body?: unknown) => {
      if (typeof body === 'object' && body !== null && !Buffer.isBuffer(body)) return res.json!(body);
      if (!res.hasHeader('content-type')) res.setHeader('content-type', 'text/plain; charset=utf-8');
      res.end(body as string | Buffer | undefined);
      return res;
    };
    res.json = (body: unknown) => {
      res.setHeader('content-type', 'application/json; charset=utf-8');
      return res.send!(JSON.stringify(body));
    };
    const next = (err?: unknown) => {
      if (err !== undefined) onError(err, req, res, () => res.end());
    };
    hook(req, res, () => {
      try {
        handler(req, res);
      } catch (err) {
        next(err);
      }
    });
  });
}

function redactor(): Redactor {
  const r = new Redactor();
  r.add('HTTP_TOKEN', CANARY);
  return r;
}

class AppError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status: number,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

describe('redactErrorMiddleware', () => {
  it('invariant 6: known errors keep code and status, message and details redacted, never a stack', async () => {
    const server = app(() => {
      throw new AppError('BAD_TEMPLATE', `template uses ${CANARY}`, 422, {
        field: `x ${encodeURIComponent(CANARY)}`,
      });
    }, redactor());
    const res = await request(server).get('/');
    expect(res.status).toBe(422);
    expect(res.body).toEqual({
      error: {
        code: 'BAD_TEMPLATE',
        message: 'template uses [REDACTED:HTTP_TOKEN]',
        details: { field: 'x [REDACTED:HTTP_TOKEN]' },
      },
    });
    expect(res.text).not.toContain('canary');
    expect(res.text).not.toContain('at ');
  });

  it('invariant 6: unknown errors become INTERNAL with a generic message; the log line is redacted', async () => {
    const logged: string[] = [];
    const server = app(
      () => {
        const err = new Error(`connect ECONNREFUSED https://api.example.com/?key=${CANARY}`);
        (err as Error & { code: string }).code = 'ECONNREFUSED';
        throw err;
      },
      redactor(),
      logged,
    );
    const res = await request(server).get('/');
    expect(res.status).toBe(500);
    expect(res.body).toEqual({ error: { code: 'INTERNAL', message: 'Internal error' } });
    expect(logged.join('')).toContain('ECONNREFUSED');
    expect(logged.join('')).toContain('[REDACTED:HTTP_TOKEN]');
    expect(logged.join('')).not.toContain(CANARY);
  });

  it('uses err.statusCode, rejects odd statuses, handles thrown strings and no redactor', async () => {
    const r = redactor();
    const mw = redactErrorMiddleware(() => r);
    const fake = () => {
      const res = {
        statusCode: 200,
        body: undefined as unknown,
        status(code: number) {
          res.statusCode = code;
          return res;
        },
        json(body: unknown) {
          res.body = body;
        },
      };
      return res;
    };
    const a = fake();
    mw(Object.assign(new Error(`no ${CANARY}`), { statusCode: 404, code: 'NOT_FOUND' }), {}, a, () => {});
    expect(a.statusCode).toBe(404);
    expect(a.body).toEqual({ error: { code: 'NOT_FOUND', message: 'no [REDACTED:HTTP_TOKEN]' } });
    const b = fake();
    mw(`thrown ${CANARY}`, {}, b, () => {});
    expect(b.statusCode).toBe(500);
    expect(JSON.stringify(b.body)).not.toContain('canary');
    const c = fake();
    mw(Object.assign(new Error('x'), { status: 99, code: 'ODD' }), {}, c, () => {});
    expect(c.statusCode).toBe(500);
    expect(c.body).toEqual({ error: { code: 'INTERNAL', message: 'Internal error' } });
    const d = fake();
    redactErrorMiddleware(() => undefined)(
      Object.assign(new Error('gone'), { status: 410, code: 'GONE' }),
      {},
      d,
      () => {},
    );
    expect(d.body).toEqual({ error: { code: 'GONE', message: 'gone' } });
    let passed: unknown;
    const sent = { ...fake(), headersSent: true };
    mw(new Error('late'), {}, sent, (e) => (passed = e));
    expect(passed).toBeInstanceOf(Error);
  });
});

describe('redactJsonResponses', () => {
  it('invariant 6: JSON, string and Buffer bodies pass the redactor', async () => {
    const r = redactor();
    const json = app((_req, res) => void res.json!({ [CANARY]: [`v ${CANARY}`, { n: 1 }] }), r);
    const a = await request(json).get('/');
    expect(a.body).toEqual({ '[REDACTED:HTTP_TOKEN]': ['v [REDACTED:HTTP_TOKEN]', { n: 1 }] });
    const text = app((_req, res) => void res.send!(`plain ${CANARY}`), r);
    expect((await request(text).get('/')).text).toBe('plain [REDACTED:HTTP_TOKEN]');
    const buf = app(
      (_req, res) => void res.send!(Buffer.from(`bytes ${Buffer.from(CANARY).toString('base64')}`)),
      r,
    );
    expect((await request(buf).get('/')).text).toBe('bytes [REDACTED:HTTP_TOKEN]');
    const none = app((_req, res) => void res.json!({ ok: CANARY }), undefined);
    expect((await request(none).get('/')).body).toEqual({ ok: CANARY });
  });

  it('invariant 6: a JSON body is checked in its serialized form; a clean one is sent as serialized', async () => {
    const r = redactor();
    const clean = { id: 'run-1', steps: [{ n: 1, note: 'héllo "quoted" \\ line\nnext' }], ok: true };
    const a = await request(app((_req, res) => void res.json!(clean), r)).get('/');
    expect(a.text).toBe(JSON.stringify(clean));
    // a value needing JSON escapes, in a key and in a leaf
    const quoted = 'quote"d\\secret-value';
    r.add('QUOTED', quoted);
    const b = await request(app((_req, res) => void res.json!({ [quoted]: `x${quoted}y`, n: 7 }), r)).get(
      '/',
    );
    expect(b.body).toEqual({ '[REDACTED:QUOTED]': 'x[REDACTED:QUOTED]y', n: 7 });
    expect(b.text).not.toContain('secret-value');
  });

  it('invariant 6: Buffer leaves and values ending in half a surrogate pair are masked in JSON bodies', async () => {
    const r = redactor();
    const buf = await request(
      app((_req, res) => void res.json!({ file: Buffer.from(`bytes ${CANARY}`) }), r),
    ).get('/');
    expect(Buffer.from((buf.body as { file: { data: number[] } }).file.data).toString()).toBe(
      'bytes [REDACTED:HTTP_TOKEN]',
    );
    // the value ends in a lone high surrogate that pairs with the next char of the leaf
    const half = 'half"pair-secret\ud83d';
    r.add('HALF', half);
    const c = await request(app((_req, res) => void res.json!({ v: `${half}\ude00 tail` }), r)).get('/');
    expect(c.text).not.toContain('pair-secret');
    expect((c.body as { v: string }).v).toContain('[REDACTED:HALF]');
  });

  it('invariant 6: each response uses the redactor of its own request, also when they interleave', async () => {
    // one hook, two projects: the request names its redactor; answers are sent out of order
    const a = new Redactor();
    a.add('A_TOKEN', 'alpha-secret-value');
    const b = new Redactor();
    b.add('B_TOKEN', 'bravo-secret-value');
    const hook = redactJsonResponses((req) => ((req as IncomingMessage).url === '/a' ? a : b));
    const server = createServer((req, raw) => {
      const res = raw as ServerResponse & ResponseLike;
      res.send = (body?: unknown) => {
        res.end(body as string);
        return res;
      };
      res.json = (body: unknown) => res.send!(JSON.stringify(body));
      hook(req, res, () => {
        const body = { both: 'alpha-secret-value bravo-secret-value' };
        // the first request answers last
        setTimeout(() => void res.json!(body), req.url === '/a' ? 30 : 0);
      });
    });
    const [ra, rb] = await Promise.all([request(server).get('/a'), request(server).get('/b')]);
    expect(JSON.parse(ra.text)).toEqual({ both: '[REDACTED:A_TOKEN] bravo-secret-value' });
    expect(JSON.parse(rb.text)).toEqual({ both: 'alpha-secret-value [REDACTED:B_TOKEN]' });
  });

  it('invariant 6: hooks nest, and one hook applied twice to a response wraps it once', async () => {
    const outer = new Redactor();
    outer.add('OUTER', 'outer-secret-value');
    const inner = new Redactor();
    inner.add('INNER', 'inner-secret-value');
    const outerHook = redactJsonResponses(() => outer);
    const innerHook = redactJsonResponses(() => inner);
    let sends = 0;
    const server = createServer((req, raw) => {
      const res = raw as ServerResponse & ResponseLike;
      res.send = (body?: unknown) => {
        sends++;
        res.end(body as string);
        return res;
      };
      res.json = (body: unknown) => res.send!(JSON.stringify(body));
      const body = { v: 'outer-secret-value inner-secret-value', s: 'plain inner-secret-value' };
      outerHook(req, res, () =>
        innerHook(req, res, () =>
          outerHook(req, res, () => {
            if (req.url === '/text') res.send!(body.s);
            else res.json!(body);
          }),
        ),
      );
    });
    const json = await request(server).get('/json');
    expect(JSON.parse(json.text)).toEqual({
      v: '[REDACTED:OUTER] [REDACTED:INNER]',
      s: 'plain [REDACTED:INNER]',
    });
    const text = await request(server).get('/text');
    expect(text.text).toBe('plain [REDACTED:INNER]');
    expect(sends).toBe(2);
  });
});

describe('redactedJson', () => {
  it('invariant 6: the JSON text of a body with every known value masked, clean bodies as serialized', () => {
    const r = redactor();
    const clean = { id: 'run-1', steps: [{ n: 1, note: 'héllo "quoted" \\ line\nnext' }], ok: true };
    expect(redactedJson(r, clean)).toBe(JSON.stringify(clean));
    expect(JSON.parse(redactedJson(r, { [CANARY]: [`v ${CANARY}`, { n: 1 }] }))).toEqual({
      '[REDACTED:HTTP_TOKEN]': ['v [REDACTED:HTTP_TOKEN]', { n: 1 }],
    });
    // bytes that JSON writes as numbers are masked too
    const buf = JSON.parse(redactedJson(r, { file: Buffer.from(`bytes ${CANARY}`) })) as {
      file: { data: number[] };
    };
    expect(Buffer.from(buf.file.data).toString()).toBe('bytes [REDACTED:HTTP_TOKEN]');
    expect(redactedJson(r, undefined)).toBe('null');
    // a value ending in a lone high surrogate that pairs with the next char of the leaf
    const half = 'half"pair-secret\ud83d';
    r.add('HALF', half);
    const text = redactedJson(r, { v: `${half}\ude00 tail` });
    expect(text).not.toContain('pair-secret');
    expect((JSON.parse(text) as { v: string }).v).toContain('[REDACTED:HALF]');
  });
});
