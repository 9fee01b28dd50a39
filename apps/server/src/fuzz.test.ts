// Random JSON bodies and path segments against every endpoint that takes input: whatever
// arrives, the answer is never a 5xx and always has the error shape.
import fc from 'fast-check';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OPERATIONS } from './openapi';
import {
  createFlow,
  createHarness,
  createProject,
  createSecret,
  type Harness,
  OWNER_TOKEN,
} from './test-harness';

describe('fuzz: never a 5xx for bad input', () => {
  let h: Harness;
  let vars: Record<string, string>;
  beforeAll(async () => {
    h = await createHarness();
    const p = await createProject(h);
    await createSecret(h, p, { name: 'FUZZ', type: 'text', value: 'fuzz-value-1234' });
    const f = await createFlow(h, p, 'F', {
      start: 'a',
      blocks: [{ id: 'a', type: 'set', config: { values: { x: '1' } } }],
    });
    vars = {
      ws: h.workspaceId,
      p,
      f,
      name: 'FUZZ',
      env: 'production',
      userId: h.userIds.viewer,
      runId: 'nope',
    };
  });
  afterAll(async () => {
    await h.close();
  });

  const withBody = OPERATIONS.filter((o) => o.body !== undefined && !o.path.endsWith('/runs'));

  it.each(withBody.map((o) => [`${o.method.toUpperCase()} ${o.path}`, o] as const))(
    '%s with random JSON bodies',
    async (_label, op) => {
      const url = op.path.replace(/\{(\w+)\}/g, (_m, k: string) => vars[k] ?? k);
      await fc.assert(
        fc.asyncProperty(fc.jsonValue({ maxDepth: 4 }), async (body) => {
          const agent = request(h.app);
          const res = await agent[op.method](url)
            .set('Authorization', `Bearer ${OWNER_TOKEN}`)
            .set('Content-Type', 'application/json')
            .send(JSON.stringify(body));
          expect(res.status).toBeLessThan(500);
          if (res.status >= 400) expect(typeof res.body.error.code).toBe('string');
        }),
        { numRuns: 25 },
      );
    },
  );

  it('random path segments never answer 5xx', async () => {
    const gets = OPERATIONS.filter((o) => o.method === 'get' && o.path.includes('{'));
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...gets), fc.string({ maxLength: 80 }), async (op, segment) => {
        const url = op.path.replace(/\{(\w+)\}/g, () => encodeURIComponent(segment) || '%20');
        const res = await request(h.app).get(url).set('Authorization', `Bearer ${OWNER_TOKEN}`);
        expect(res.status).toBeLessThan(500);
      }),
      { numRuns: 100 },
    );
  });
});
