// The API block inside @flowsafe/runner: validation on save, a run whose record, logs and
// output hold no secret value, and a failing run whose error names secret and environment.
import { builtinPlugins, createRunner, type RunRecord } from '@flowsafe/runner';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiBlockPlugin, createApiBlockPlugin } from './api-block-plugin';
import {
  canary,
  findLeaks,
  memorySecrets,
  redactorFor,
  runInfo,
  startServer,
  type TestSecret,
  type TestServer,
} from './test-support';

let upstream: TestServer;
let plugin: ApiBlockPlugin;
const key = canary();
const user = canary('user');
const pass = canary('pass');
const defs: Record<string, TestSecret> = {
  API_KEY: { type: 'text', values: { default: key } },
  LOGIN: { type: 'basic', values: { production: { username: user, password: pass } } },
};

beforeAll(async () => {
  // echoes everything it gets, credentials included
  upstream = await startServer((req, res) => {
    res.statusCode = 201;
    res.setHeader('content-type', 'application/json');
    res.setHeader('x-echo-auth', String(req.headers.authorization));
    res.end(JSON.stringify({ id: 'T-1', received: req }));
  });
  plugin = createApiBlockPlugin({ secrets: memorySecrets(defs) });
});
afterAll(async () => {
  await plugin.close();
  await upstream.close();
});

const flow = () => ({
  name: 'Create ticket',
  start: 'call',
  variables: { subject: 'Hello' },
  blocks: [
    {
      id: 'call',
      type: 'api',
      next: 'done',
      config: {
        method: 'POST',
        url: `${upstream.url}/tickets?lang={{lang}}`,
        headers: { 'X-Api-Key': '<secret:API_KEY>' },
        body: { type: 'json', content: { subject: '{{subject}}' } },
        auth: { type: 'basic', secret: 'LOGIN' },
        saveAs: 'ticket',
      },
    },
    {
      id: 'done',
      type: 'end',
      config: { output: { id: '{{ticket.body.id}}', status: '{{ticket.status}}' } },
    },
  ],
});

describe('through createRunner', () => {
  it('invariant 5: a run stores the URL template and scrubbed results, never a value', async () => {
    const records: RunRecord[] = [];
    const runner = createRunner({
      plugins: [...builtinPlugins(), plugin],
      sink: { save: async (r) => void records.push(structuredClone(r)) },
    });
    const validation = await runner.validate(flow(), { secretNames: Object.keys(defs) });
    expect(validation).toMatchObject({ ok: true });
    const unknownRef = await runner.validate(flow(), { secretNames: ['API_KEY'] });
    expect(unknownRef).toMatchObject({ ok: false });

    const redactor = redactorFor(defs);
    const record = await runner.run({
      definition: flow(),
      run: runInfo('production'),
      input: { lang: 'de' },
      redactor,
    });
    expect(record.status).toBe('succeeded');
    expect(record.output).toEqual({ id: 'T-1', status: 201 });
    expect(record.steps[0]!.request).toEqual({
      method: 'POST',
      url: `${upstream.url}/tickets?lang={{lang}}`,
      status: 201,
    });
    const basic = Buffer.from(`${user}:${pass}`).toString('base64');
    expect(upstream.received[0]!.headers.authorization).toBe(`Basic ${basic}`);
    expect(findLeaks([key, user, pass, basic], record, records)).toEqual([]);
  });

  it('a missing environment value fails the run naming secret and environment', async () => {
    const runner = createRunner({ plugins: [...builtinPlugins(), plugin] });
    const record = await runner.run({
      definition: flow(),
      run: runInfo('staging'),
      redactor: redactorFor(defs),
    });
    expect(record.status).toBe('failed');
    expect(record.steps[0]!.error).toEqual({
      code: 'SECRET_VALUE_MISSING',
      message: 'secret LOGIN has no value for environment staging',
    });
  });
});
