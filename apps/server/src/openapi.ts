// The OpenAPI 3.1 document of the HTTP API, generated from the same zod schemas that validate
// requests (schemas.ts) with zod 4's z.toJSONSchema, so clients and the editor share one source
// of truth. Served at GET /api/openapi.json.
import { z } from 'zod';
import { ERROR_STATUS } from './errors';
import * as s from './schemas';

type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';
type Who = 'anyone' | 'user' | 'member' | 'editor+' | 'owner, admin';

interface Operation {
  method: Method;
  path: string;
  summary: string;
  who: Who;
  body?: z.ZodType;
  query?: z.ZodObject;
  ok: number;
}

/** Every operation of the API (also the row list of the role-matrix test). */
export const OPERATIONS: Operation[] = [
  { method: 'get', path: '/healthz', summary: 'Liveness', who: 'anyone', ok: 200 },
  { method: 'get', path: '/api/openapi.json', summary: 'This document', who: 'anyone', ok: 200 },
  {
    method: 'get',
    path: '/api/me',
    summary: 'The caller and its workspaces with roles',
    who: 'user',
    ok: 200,
  },
  { method: 'get', path: '/api/workspaces', summary: 'Workspaces of the caller', who: 'user', ok: 200 },
  {
    method: 'post',
    path: '/api/workspaces',
    summary: 'Create a workspace (the caller becomes owner)',
    who: 'user',
    body: s.workspaceCreateSchema,
    ok: 201,
  },
  { method: 'get', path: '/api/workspaces/{ws}', summary: 'A workspace', who: 'member', ok: 200 },
  { method: 'get', path: '/api/workspaces/{ws}/members', summary: 'Members', who: 'member', ok: 200 },
  {
    method: 'post',
    path: '/api/workspaces/{ws}/members',
    summary: 'Add a member: a new user (token shown once) or an existing user id',
    who: 'owner, admin',
    body: s.memberCreateSchema,
    ok: 201,
  },
  {
    method: 'get',
    path: '/api/workspaces/{ws}/members/{userId}',
    summary: 'A member',
    who: 'member',
    ok: 200,
  },
  {
    method: 'patch',
    path: '/api/workspaces/{ws}/members/{userId}',
    summary: 'Change a role',
    who: 'owner, admin',
    body: s.memberUpdateSchema,
    ok: 200,
  },
  {
    method: 'delete',
    path: '/api/workspaces/{ws}/members/{userId}',
    summary: 'Remove a member',
    who: 'owner, admin',
    ok: 204,
  },
  { method: 'get', path: '/api/workspaces/{ws}/projects', summary: 'Projects', who: 'member', ok: 200 },
  {
    method: 'post',
    path: '/api/workspaces/{ws}/projects',
    summary: 'Create a project (development and production environments)',
    who: 'editor+',
    body: s.projectCreateSchema,
    ok: 201,
  },
  {
    method: 'post',
    path: '/api/workspaces/{ws}/projects/import',
    summary: 'Import a bundle as a new project; every secret shows missing',
    who: 'editor+',
    body: s.bundleSchema,
    query: s.importQuery,
    ok: 201,
  },
  { method: 'get', path: '/api/projects/{p}', summary: 'A project with its policy', who: 'member', ok: 200 },
  {
    method: 'patch',
    path: '/api/projects/{p}',
    summary: 'Rename, or set policy.requireAllowedHosts',
    who: 'owner, admin',
    body: s.projectPatchSchema,
    ok: 200,
  },
  {
    method: 'delete',
    path: '/api/projects/{p}',
    summary: 'Delete a project and everything in it',
    who: 'owner, admin',
    ok: 204,
  },
  {
    method: 'post',
    path: '/api/projects/{p}/duplicate',
    summary: 'Duplicate (secret values stripped)',
    who: 'editor+',
    body: s.duplicateSchema,
    ok: 201,
  },
  {
    method: 'get',
    path: '/api/projects/{p}/export',
    summary: 'Export bundle (SPEC §9): never a value',
    who: 'editor+',
    ok: 200,
  },
  { method: 'get', path: '/api/projects/{p}/environments', summary: 'Environments', who: 'member', ok: 200 },
  {
    method: 'post',
    path: '/api/projects/{p}/environments',
    summary: 'Add an environment',
    who: 'owner, admin',
    body: s.environmentCreateSchema,
    ok: 201,
  },
  {
    method: 'get',
    path: '/api/projects/{p}/secrets',
    summary: 'Secret metadata (values: which environments have one; usedBy)',
    who: 'member',
    query: s.secretsListQuery,
    ok: 200,
  },
  {
    method: 'post',
    path: '/api/projects/{p}/secrets',
    summary: 'Create a secret: values, or `source` to keep the value in an external secret store',
    who: 'owner, admin',
    body: z.union([s.secretCreateSchema, s.externalSecretCreateSchema]),
    ok: 201,
  },
  {
    method: 'get',
    path: '/api/projects/{p}/secrets/{name}',
    summary: 'Secret metadata',
    who: 'member',
    ok: 200,
  },
  {
    method: 'patch',
    path: '/api/projects/{p}/secrets/{name}',
    summary: 'Change value, visibility (tighten only), allowedHosts, description, source',
    who: 'owner, admin',
    body: s.secretPatchSchema,
    ok: 200,
  },
  {
    method: 'delete',
    path: '/api/projects/{p}/secrets/{name}',
    summary: 'Delete (?confirm=NAME; 409 with usages unless force=true)',
    who: 'owner, admin',
    query: s.deleteSecretQuery,
    ok: 204,
  },
  {
    method: 'put',
    path: '/api/projects/{p}/secrets/{name}/environments/{env}',
    summary: 'Set the value for one environment',
    who: 'owner, admin',
    body: s.overridePutSchema,
    ok: 200,
  },
  {
    method: 'delete',
    path: '/api/projects/{p}/secrets/{name}/environments/{env}',
    summary: 'Remove the value of one environment',
    who: 'owner, admin',
    ok: 200,
  },
  {
    method: 'post',
    path: '/api/projects/{p}/secrets/{name}/reveal',
    summary: 'Reveal a masked value for one environment (audited)',
    who: 'owner, admin',
    body: s.revealSchema,
    ok: 200,
  },
  {
    method: 'get',
    path: '/api/projects/{p}/secrets/{name}/usages',
    summary: 'Flows and blocks using the secret',
    who: 'member',
    ok: 200,
  },
  {
    method: 'post',
    path: '/api/projects/{p}/secrets/{name}/make-setting',
    summary: 'Turn into a setting; the values are deleted',
    who: 'owner, admin',
    query: s.makeSettingQuery,
    ok: 201,
  },
  {
    method: 'get',
    path: '/api/workspaces/{ws}/secret-stores',
    summary: 'External secret stores of the workspace (config without credentials; usedBy)',
    who: 'owner, admin',
    ok: 200,
  },
  {
    method: 'post',
    path: '/api/workspaces/{ws}/secret-stores',
    summary: 'Add an external secret store (vault or aws-secrets-manager); credentials are sealed',
    who: 'owner, admin',
    body: s.storeDefinitionSchema,
    ok: 201,
  },
  {
    method: 'get',
    path: '/api/workspaces/{ws}/secret-stores/{name}',
    summary: 'A secret store (config without credentials)',
    who: 'owner, admin',
    ok: 200,
  },
  {
    method: 'patch',
    path: '/api/workspaces/{ws}/secret-stores/{name}',
    summary: 'Change config fields or cacheTtlS; credentials left out are kept',
    who: 'owner, admin',
    body: s.storePatchSchema,
    ok: 200,
  },
  {
    method: 'delete',
    path: '/api/workspaces/{ws}/secret-stores/{name}',
    summary: 'Delete a secret store (409 with the secrets that use it)',
    who: 'owner, admin',
    ok: 204,
  },
  {
    method: 'post',
    path: '/api/workspaces/{ws}/secret-stores/{name}/test',
    summary: 'Connect and authenticate: { ok, message }, never a value',
    who: 'owner, admin',
    ok: 200,
  },
  { method: 'get', path: '/api/projects/{p}/settings', summary: 'Settings', who: 'member', ok: 200 },
  { method: 'get', path: '/api/projects/{p}/settings/{name}', summary: 'A setting', who: 'member', ok: 200 },
  {
    method: 'put',
    path: '/api/projects/{p}/settings/{name}',
    summary: 'Create or replace a setting (push protection applies)',
    who: 'editor+',
    body: s.settingPutSchema,
    ok: 200,
  },
  {
    method: 'delete',
    path: '/api/projects/{p}/settings/{name}',
    summary: 'Delete a setting',
    who: 'editor+',
    ok: 204,
  },
  {
    method: 'post',
    path: '/api/projects/{p}/settings/{name}/make-secret',
    summary: 'Turn into a secret: values move into sealed storage',
    who: 'owner, admin',
    body: s.makeSecretSchema,
    ok: 201,
  },
  { method: 'get', path: '/api/projects/{p}/flows', summary: 'Flows', who: 'member', ok: 200 },
  {
    method: 'post',
    path: '/api/projects/{p}/flows',
    summary: 'Create a flow (validated; push protection; allowed-hosts policy)',
    who: 'editor+',
    body: s.flowCreateSchema,
    ok: 201,
  },
  { method: 'get', path: '/api/projects/{p}/flows/{f}', summary: 'A flow', who: 'member', ok: 200 },
  {
    method: 'put',
    path: '/api/projects/{p}/flows/{f}',
    summary: 'Change a flow',
    who: 'editor+',
    body: s.flowPutSchema,
    ok: 200,
  },
  {
    method: 'delete',
    path: '/api/projects/{p}/flows/{f}',
    summary: 'Delete a flow',
    who: 'editor+',
    ok: 204,
  },
  {
    method: 'post',
    path: '/api/projects/{p}/flows/{f}/runs',
    summary: 'Run: 200 with the finished record, or 202 with the record as it stands after waitMs',
    who: 'editor+',
    body: s.runCreateSchema,
    ok: 200,
  },
  {
    method: 'get',
    path: '/api/projects/{p}/flows/{f}/runs',
    summary: 'Runs of a flow, newest first',
    who: 'member',
    query: s.pageQuery,
    ok: 200,
  },
  {
    method: 'get',
    path: '/api/projects/{p}/runs',
    summary: 'Runs of a project, newest first',
    who: 'member',
    query: s.pageQuery,
    ok: 200,
  },
  { method: 'get', path: '/api/projects/{p}/runs/{runId}', summary: 'A run record', who: 'member', ok: 200 },
  {
    method: 'post',
    path: '/api/projects/{p}/runs/{runId}/cancel',
    summary: 'Cancel a queued or running run',
    who: 'editor+',
    ok: 200,
  },
  {
    method: 'get',
    path: '/api/projects/{p}/audit',
    summary: 'Audit events, newest first',
    who: 'owner, admin',
    query: s.pageQuery,
    ok: 200,
  },
];

const errorSchema = z.object({
  error: z.object({
    code: z.enum(Object.keys(ERROR_STATUS) as [string, ...string[]]),
    message: z.string(),
    details: z.unknown().optional(),
  }),
});

function jsonSchema(schema: z.ZodType): Record<string, unknown> {
  return z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any', target: 'draft-2020-12' }) as Record<
    string,
    unknown
  >;
}

let cached: Record<string, unknown> | undefined;

/** The OpenAPI 3.1 document (built once). */
export function openApiDocument(): Record<string, unknown> {
  if (cached) return cached;
  const paths: Record<string, Record<string, unknown>> = {};
  for (const op of OPERATIONS) {
    const params = [...op.path.matchAll(/\{(\w+)\}/g)].map((m) => ({
      name: m[1],
      in: 'path',
      required: true,
      schema: { type: 'string' },
    }));
    const query = op.query
      ? Object.entries(op.query.shape).map(([name, schema]) => ({
          name,
          in: 'query',
          required: !(schema as z.ZodType).safeParse(undefined).success,
          schema: jsonSchema(schema as z.ZodType),
        }))
      : [];
    const responses: Record<string, unknown> = {
      [String(op.ok)]:
        op.ok === 204
          ? { description: 'done' }
          : { description: 'success', content: { 'application/json': { schema: {} } } },
      default: {
        description: 'error',
        content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
      },
    };
    if (op.path.endsWith('/runs') && op.method === 'post')
      responses['202'] = { description: 'the run is still going; the record as it stands' };
    const operation: Record<string, unknown> = {
      summary: op.summary,
      description: `Who: ${op.who}.`,
      parameters: [...params, ...query],
      responses,
    };
    if (op.who === 'anyone') operation.security = [];
    if (op.body)
      operation.requestBody = {
        required: true,
        content: { 'application/json': { schema: jsonSchema(op.body) } },
      };
    (paths[op.path] ??= {})[op.method] = operation;
  }
  cached = {
    openapi: '3.1.0',
    info: {
      title: 'flowsafe HTTP API',
      version: '1',
      description:
        'Workflows with API blocks whose secrets are resolved only at dispatch. Errors: { error: { code, message, details? } }; ' +
        'non-members get 404, members lacking the role 403.',
    },
    servers: [{ url: '/' }],
    security: [{ bearer: [] }],
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
      schemas: { Error: jsonSchema(errorSchema) },
    },
    paths,
  };
  return cached;
}
