// Bad input never becomes a 5xx: each malformed request below answers its documented status
// and error code (errors.ts), with the `{ error: { code, message } }` shape.
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createFlow,
  createHarness,
  createProject,
  createSecret,
  type Harness,
  OWNER_TOKEN,
} from './test-harness';

interface Case {
  label: string;
  method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  url: string;
  /** raw string bodies are sent as is with `type` */
  body?: unknown;
  type?: string;
  headers?: Record<string, string>;
  status: number;
  code: string;
}

describe('bad input: none answers 5xx, each answers its documented code', () => {
  let h: Harness;
  let p: string;
  let f: string;
  const cases: Case[] = [];

  beforeAll(async () => {
    h = await createHarness();
    p = await createProject(h);
    await createSecret(h, p, { name: 'TOKEN', type: 'text', value: 'bad-input-canary-1' });
    await createSecret(h, p, {
      name: 'LOCKED',
      type: 'text',
      visibility: 'restricted',
      value: 'bad-input-canary-2',
    });
    f = await createFlow(h, p, 'F', {
      start: 'a',
      blocks: [{ id: 'a', type: 'set', config: { values: { x: '1' } } }],
    });
    const ws = h.workspaceId;
    const S = `/api/projects/${p}/secrets`;
    const add = (c: Case) => cases.push(c);
    const V = (
      label: string,
      method: Case['method'],
      url: string,
      body: unknown,
      status = 400,
      code = 'VALIDATION_FAILED',
    ) => add({ label, method, url, body, status, code });

    // Body parsing
    add({
      label: 'malformed JSON',
      method: 'post',
      url: S,
      body: '{"name": "A",',
      type: 'application/json',
      status: 400,
      code: 'BAD_JSON',
    });
    add({
      label: 'JSON with trailing garbage',
      method: 'post',
      url: S,
      body: '{"name":"A"} x',
      type: 'application/json',
      status: 400,
      code: 'BAD_JSON',
    });
    add({
      label: 'JSON primitive body',
      method: 'post',
      url: S,
      body: '"just a string"',
      type: 'application/json',
      status: 400,
      code: 'BAD_JSON',
    });
    add({
      label: 'JSON null body',
      method: 'post',
      url: S,
      body: 'null',
      type: 'application/json',
      status: 400,
      code: 'BAD_JSON',
    });
    add({
      label: 'JSON array body',
      method: 'post',
      url: S,
      body: '[1,2]',
      type: 'application/json',
      status: 400,
      code: 'VALIDATION_FAILED',
    });
    add({
      label: 'text/plain body',
      method: 'post',
      url: S,
      body: 'name=A',
      type: 'text/plain',
      status: 415,
      code: 'UNSUPPORTED_MEDIA_TYPE',
    });
    add({
      label: 'form-encoded body',
      method: 'post',
      url: S,
      body: 'name=A&type=text',
      type: 'application/x-www-form-urlencoded',
      status: 415,
      code: 'UNSUPPORTED_MEDIA_TYPE',
    });
    add({
      label: 'xml body',
      method: 'put',
      url: `/api/projects/${p}/settings/X`,
      body: '<a/>',
      type: 'application/xml',
      status: 415,
      code: 'UNSUPPORTED_MEDIA_TYPE',
    });
    add({
      label: 'unsupported charset',
      method: 'post',
      url: S,
      body: '{}',
      type: 'application/json; charset=koi8-r',
      status: 415,
      code: 'UNSUPPORTED_MEDIA_TYPE',
    });
    add({
      label: 'body over 1 MiB',
      method: 'post',
      url: `/api/projects/${p}/flows`,
      body: JSON.stringify({ name: 'big', definition: { pad: 'x'.repeat(1_100_000) } }),
      type: 'application/json',
      status: 413,
      code: 'PAYLOAD_TOO_LARGE',
    });
    add({
      label: 'huge setting value under 1 MiB',
      method: 'put',
      url: `/api/projects/${p}/settings/BIG`,
      body: { value: 'x'.repeat(70_000) },
      status: 400,
      code: 'VALIDATION_FAILED',
    });
    add({ label: 'missing body on POST', method: 'post', url: S, status: 400, code: 'VALIDATION_FAILED' });

    // Authentication
    add({
      label: 'Basic instead of Bearer',
      method: 'get',
      url: '/api/me',
      headers: { Authorization: 'Basic YTpi' },
      status: 401,
      code: 'UNAUTHORIZED',
    });
    add({
      label: 'Bearer without token',
      method: 'get',
      url: '/api/me',
      headers: { Authorization: 'Bearer ' },
      status: 401,
      code: 'UNAUTHORIZED',
    });
    add({
      label: 'wrong token',
      method: 'get',
      url: '/api/me',
      headers: { Authorization: 'Bearer fs_wrong' },
      status: 401,
      code: 'UNAUTHORIZED',
    });
    add({
      label: 'token with a space',
      method: 'get',
      url: '/api/me',
      headers: { Authorization: 'Bearer a b' },
      status: 401,
      code: 'UNAUTHORIZED',
    });
    add({
      label: 'very long token',
      method: 'get',
      url: '/api/me',
      headers: { Authorization: `Bearer ${'a'.repeat(5000)}` },
      status: 401,
      code: 'UNAUTHORIZED',
    });

    // Workspaces, members, projects
    V('workspace without name', 'post', '/api/workspaces', {});
    V('workspace name wrong type', 'post', '/api/workspaces', { name: 42 });
    V('workspace name empty', 'post', '/api/workspaces', { name: '   ' });
    V('workspace name with control chars', 'post', '/api/workspaces', { name: 'a\u0000b' });
    V('workspace unknown field', 'post', '/api/workspaces', { name: 'x', admin: true });
    V('member with unknown role', 'post', `/api/workspaces/${ws}/members`, { name: 'x', role: 'root' });
    V('member role patch wrong type', 'patch', `/api/workspaces/${ws}/members/${h.userIds.viewer}`, {
      role: 1,
    });
    add({
      label: 'unknown workspace',
      method: 'get',
      url: '/api/workspaces/..%2F..%2Fetc',
      status: 404,
      code: 'WORKSPACE_NOT_FOUND',
    });
    add({
      label: 'unknown project',
      method: 'get',
      url: '/api/projects/..%2F..',
      status: 404,
      code: 'PROJECT_NOT_FOUND',
    });
    V('project name too long', 'post', `/api/workspaces/${ws}/projects`, { name: 'x'.repeat(101) });
    V('project patch unknown field', 'patch', `/api/projects/${p}`, { owner: 'me' });
    V('project policy wrong type', 'patch', `/api/projects/${p}`, { policy: { requireAllowedHosts: 'yes' } });
    V('environment named default', 'post', `/api/projects/${p}/environments`, { name: 'default' });
    V('environment with a slash', 'post', `/api/projects/${p}/environments`, { name: 'a/b' });
    V('environment upper case', 'post', `/api/projects/${p}/environments`, { name: 'Prod' });

    // Secrets
    V('secret bad name', 'post', S, { name: '1BAD', type: 'text', value: 'abcdefgh' });
    V('secret path traversal name', 'post', S, { name: '../../etc/passwd', type: 'text', value: 'abcdefgh' });
    V('secret unknown type', 'post', S, { name: 'A', type: 'ssh', value: 'abcdefgh' });
    V('secret value too short', 'post', S, { name: 'A', type: 'text', value: 'abc' });
    V('secret value wrong type', 'post', S, { name: 'A', type: 'text', value: 1234 });
    V('basic secret missing password', 'post', S, {
      name: 'A',
      type: 'basic',
      value: { username: 'someone' },
    });
    V('binary secret not base64', 'post', S, {
      name: 'A',
      type: 'binary',
      value: { base64: '!!!not base64!!!' },
    });
    V('oauth2 tokenUrl not a URL', 'post', S, {
      name: 'A',
      type: 'oauth2',
      value: { clientId: 'client-1', clientSecret: 'secret-1', tokenUrl: 'nope' },
    });
    V('secret unknown field', 'post', S, { name: 'A', type: 'text', value: 'abcdefgh', owner: 'x' });
    V('secret bad visibility', 'post', S, {
      name: 'A',
      type: 'text',
      value: 'abcdefgh',
      visibility: 'public',
    });
    V('secret bad allowed host', 'post', S, {
      name: 'A',
      type: 'text',
      value: 'abcdefgh',
      allowedHosts: ['https://x.com/path'],
    });
    V('secret environments bad key', 'post', S, {
      name: 'A',
      type: 'text',
      environments: { 'no/slash': 'abcdefgh' },
    });
    add({
      label: 'secret value for unknown environment',
      method: 'post',
      url: S,
      body: { name: 'A', type: 'text', environments: { qa: 'abcdefgh' } },
      status: 400,
      code: 'ENVIRONMENT_UNKNOWN',
    });
    add({
      label: 'secret name conflict',
      method: 'post',
      url: S,
      body: { name: 'TOKEN', type: 'text', value: 'abcdefgh' },
      status: 409,
      code: 'SECRET_EXISTS',
    });
    V('secret path name traversal', 'get', `${S}/..%2F..%2Fetc%2Fpasswd`, undefined);
    V('secret path name too long', 'get', `${S}/${'A'.repeat(80)}`, undefined);
    add({
      label: 'secret not found',
      method: 'get',
      url: `${S}/NOPE`,
      status: 404,
      code: 'SECRET_NOT_FOUND',
    });
    V('patch empty', 'patch', `${S}/TOKEN`, {});
    V('patch unknown field', 'patch', `${S}/TOKEN`, { name: 'OTHER' });
    V('patch short value', 'patch', `${S}/TOKEN`, { value: 'ab' });
    add({
      label: 'loosen visibility',
      method: 'patch',
      url: `${S}/LOCKED`,
      body: { visibility: 'masked' },
      status: 409,
      code: 'VISIBILITY_LOOSEN',
    });
    add({
      label: 'override for unknown environment',
      method: 'put',
      url: `${S}/TOKEN/environments/qa`,
      body: { value: 'abcdefgh' },
      status: 400,
      code: 'ENVIRONMENT_UNKNOWN',
    });
    V('override bad environment name', 'put', `${S}/TOKEN/environments/..%2F..`, { value: 'abcdefgh' });
    V('override without value', 'put', `${S}/TOKEN/environments/production`, {});
    add({
      label: 'delete without confirm',
      method: 'delete',
      url: `${S}/TOKEN`,
      status: 400,
      code: 'CONFIRM_REQUIRED',
    });
    V('delete with repeated confirm', 'delete', `${S}/TOKEN?confirm=TOKEN&confirm=TOKEN`, undefined);
    add({
      label: 'reveal restricted',
      method: 'post',
      url: `${S}/LOCKED/reveal`,
      body: {},
      status: 403,
      code: 'SECRET_RESTRICTED',
    });
    add({
      label: 'reveal unknown environment',
      method: 'post',
      url: `${S}/TOKEN/reveal`,
      body: { environment: 'qa' },
      status: 400,
      code: 'ENVIRONMENT_UNKNOWN',
    });
    V('reveal environment wrong type', 'post', `${S}/TOKEN/reveal`, { environment: 7 });
    V('list with unknown type filter', 'get', `${S}?type=ssh`, undefined);
    V('list with search too long', 'get', `${S}?search=${'a'.repeat(200)}`, undefined);

    // Settings
    V('setting bad name', 'put', `/api/projects/${p}/settings/bad-name`, { value: 'x' });
    V('setting value wrong type', 'put', `/api/projects/${p}/settings/X`, { value: 1 });
    V('setting unknown field', 'put', `/api/projects/${p}/settings/X`, { value: 'x', secret: true });
    add({
      label: 'setting unknown environment',
      method: 'put',
      url: `/api/projects/${p}/settings/X`,
      body: { environments: { qa: 'x' } },
      status: 400,
      code: 'ENVIRONMENT_UNKNOWN',
    });
    add({
      label: 'setting named like a secret',
      method: 'put',
      url: `/api/projects/${p}/settings/TOKEN`,
      body: { value: 'x' },
      status: 409,
      code: 'SECRET_EXISTS',
    });
    add({
      label: 'make-secret of unknown setting',
      method: 'post',
      url: `/api/projects/${p}/settings/NOPE/make-secret`,
      body: {},
      status: 404,
      code: 'SETTING_NOT_FOUND',
    });

    // Flows and runs
    V('flow without definition', 'post', `/api/projects/${p}/flows`, { name: 'x' });
    V('flow definition is an array', 'post', `/api/projects/${p}/flows`, { name: 'x', definition: [] });
    add({
      label: 'flow definition without blocks',
      method: 'post',
      url: `/api/projects/${p}/flows`,
      body: { name: 'x', definition: { start: 'a' } },
      status: 400,
      code: 'FLOW_INVALID',
    });
    add({
      label: 'flow with unknown block type',
      method: 'post',
      url: `/api/projects/${p}/flows`,
      body: { name: 'x', definition: { start: 'a', blocks: [{ id: 'a', type: 'shell', config: {} }] } },
      status: 400,
      code: 'FLOW_INVALID',
    });
    const deep = (n: number) => `${'{"a":'.repeat(n)}1${'}'.repeat(n)}`;
    add({
      label: 'flow nested 5,000 levels deep',
      method: 'post',
      url: `/api/projects/${p}/flows`,
      body: `{"name":"x","definition":${deep(5000)}}`,
      type: 'application/json',
      status: 400,
      code: 'VALIDATION_FAILED',
    });
    add({
      label: 'blocks nested 100,000 arrays deep',
      method: 'post',
      url: `/api/projects/${p}/flows`,
      body: `{"name":"x","definition":{"start":"a","blocks":${'['.repeat(100_000)}${']'.repeat(100_000)}}}`,
      type: 'application/json',
      status: 400,
      code: 'VALIDATION_FAILED',
    });
    add({
      label: 'run input nested 1,000 levels deep',
      method: 'post',
      url: `/api/projects/${p}/flows/${f}/runs`,
      body: `{"environment":"production","input":${deep(1000)}}`,
      type: 'application/json',
      status: 400,
      code: 'VALIDATION_FAILED',
    });
    add({
      label: 'flow at the depth limit is judged by the runner',
      method: 'post',
      url: `/api/projects/${p}/flows`,
      body: { name: 'x', definition: JSON.parse(deep(60)) },
      status: 400,
      code: 'FLOW_INVALID',
    });
    add({
      label: 'flow nested 500 levels deep',
      method: 'post',
      url: `/api/projects/${p}/flows`,
      body: { name: 'x', definition: JSON.parse('{"a":'.repeat(500) + '1' + '}'.repeat(500)) },
      status: 400,
      code: 'VALIDATION_FAILED',
    });
    V('flow put with nothing', 'put', `/api/projects/${p}/flows/${f}`, {});
    add({
      label: 'flow not found',
      method: 'get',
      url: `/api/projects/${p}/flows/${'x'.repeat(300)}`,
      status: 404,
      code: 'FLOW_NOT_FOUND',
    });
    V('run without environment', 'post', `/api/projects/${p}/flows/${f}/runs`, {});
    V('run waitMs negative', 'post', `/api/projects/${p}/flows/${f}/runs`, {
      environment: 'production',
      waitMs: -1,
    });
    V('run waitMs as string', 'post', `/api/projects/${p}/flows/${f}/runs`, {
      environment: 'production',
      waitMs: '100',
    });
    V('run input not an object', 'post', `/api/projects/${p}/flows/${f}/runs`, {
      environment: 'production',
      input: 'x',
    });
    add({
      label: 'run in unknown environment',
      method: 'post',
      url: `/api/projects/${p}/flows/${f}/runs`,
      body: { environment: 'qa' },
      status: 400,
      code: 'ENVIRONMENT_UNKNOWN',
    });
    add({
      label: 'run not found',
      method: 'get',
      url: `/api/projects/${p}/runs/nope`,
      status: 404,
      code: 'RUN_NOT_FOUND',
    });
    V('runs with a bad cursor', 'get', `/api/projects/${p}/runs?cursor=%00%01garbage`, undefined);
    V('audit limit too high', 'get', `/api/projects/${p}/audit?limit=100000`, undefined);
    add({
      label: 'unknown endpoint',
      method: 'get',
      url: '/api/nothing-here',
      status: 404,
      code: 'NOT_FOUND',
    });
    add({
      label: 'wrong method',
      method: 'patch',
      url: `/api/projects/${p}/flows`,
      body: {},
      status: 404,
      code: 'NOT_FOUND',
    });
  });
  afterAll(async () => {
    await h.close();
  });

  it('has at least 50 cases', () => {
    expect(cases.length).toBeGreaterThanOrEqual(50);
  });

  it('answers each with its documented status and code', async () => {
    const failures: string[] = [];
    for (const c of cases) {
      let req = request(h.app)[c.method](c.url).set('Authorization', `Bearer ${OWNER_TOKEN}`);
      for (const [k, v] of Object.entries(c.headers ?? {})) req = req.set(k, v);
      if (c.type !== undefined) req = req.set('Content-Type', c.type).send(c.body as string);
      else if (c.body !== undefined) req = req.send(c.body as object);
      const res = await req;
      const code = res.body?.error?.code;
      if (
        res.status >= 500 ||
        res.status !== c.status ||
        code !== c.code ||
        typeof res.body?.error?.message !== 'string'
      ) {
        failures.push(
          `${c.label}: got ${res.status} ${String(code)} (${String(res.body?.error?.message)}), want ${c.status} ${c.code}`,
        );
      }
      expect(JSON.stringify(res.body)).not.toContain('bad-input-canary');
    }
    expect(failures).toEqual([]);
  });

  it('validation errors carry zod issue paths in details', async () => {
    const r = await h
      .as('owner')
      .post(`/api/projects/${p}/secrets`)
      .send({ name: 'A', type: 'basic', value: { username: 'someone', password: 1 } })
      .expect(400);
    expect(r.body.error.details).toEqual(
      expect.arrayContaining([expect.objectContaining({ path: ['value', 'password'] })]),
    );
  });
});
