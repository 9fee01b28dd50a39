// The one place the Vault store talks HTTP: undici `request` through the store's own Agent
// (the store's address is operator configuration, so the egress guard does not apply),
// a deadline on every call, a cap on the answer's size, and Vault's `errors` array turned
// into a short detail. Network failures become StoreCallFailure with a detail that never
// carries a header or a body.
import { request, type Agent } from 'undici';
import { networkDetail } from './network-detail';

const MAX_RESPONSE_BYTES = 1024 * 1024;

export interface VaultHttpOptions {
  agent: Agent;
  /** The configured address, e.g. https://vault.internal:8200 (a path prefix is kept). */
  address: string;
  namespace: string | undefined;
  timeoutMs: number;
}

export interface VaultCall {
  method: 'GET' | 'POST';
  /** Path after /v1/, already URL-encoded. */
  path: string;
  token?: string;
  body?: unknown;
}

export interface VaultAnswer {
  status: number;
  body: unknown;
  /** `403 permission denied`: the status and Vault's own error strings, for messages. */
  detail: string;
}

/** A call that got no HTTP answer (refused, timed out, reset, too large). */
export class StoreCallFailure extends Error {
  override readonly name = 'StoreCallFailure';
}

/** Builds the full URL of a Vault API path, keeping a path prefix of the address. */
export function vaultUrl(address: string, path: string): string {
  const url = new URL(address);
  const prefix = url.pathname.replace(/\/+$/, '');
  return `${url.origin}${prefix}/v1/${path}`;
}

export async function vaultRequest(options: VaultHttpOptions, call: VaultCall): Promise<VaultAnswer> {
  const headers: Record<string, string> = { accept: 'application/json', 'x-vault-request': 'true' };
  if (call.token !== undefined) headers['x-vault-token'] = call.token;
  if (options.namespace !== undefined) headers['x-vault-namespace'] = options.namespace;
  let payload: string | undefined;
  if (call.body !== undefined) {
    headers['content-type'] = 'application/json';
    payload = JSON.stringify(call.body);
  }
  let res: Awaited<ReturnType<typeof request>>;
  try {
    res = await request(vaultUrl(options.address, call.path), {
      dispatcher: options.agent,
      method: call.method,
      headers,
      ...(payload === undefined ? {} : { body: payload }),
      signal: AbortSignal.timeout(options.timeoutMs),
    });
  } catch (err) {
    throw new StoreCallFailure(networkDetail(err, options.timeoutMs));
  }
  const text = await readLimited(res.body, options.timeoutMs);
  let body: unknown = undefined;
  try {
    body = text.length > 0 ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  return { status: res.statusCode, body, detail: answerDetail(res.statusCode, body) };
}

async function readLimited(
  body: AsyncIterable<Buffer> & { destroy(): unknown },
  timeoutMs: number,
): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of body) {
      size += chunk.length;
      if (size > MAX_RESPONSE_BYTES) {
        body.destroy();
        throw new StoreCallFailure(`answer larger than ${MAX_RESPONSE_BYTES / 1024} KiB`);
      }
      chunks.push(chunk);
    }
  } catch (err) {
    if (err instanceof StoreCallFailure) throw err;
    throw new StoreCallFailure(networkDetail(err, timeoutMs));
  }
  return Buffer.concat(chunks).toString('utf8');
}

function answerDetail(status: number, body: unknown): string {
  const errors = (body as { errors?: unknown } | undefined)?.errors;
  const texts = Array.isArray(errors) ? errors.filter((e): e is string => typeof e === 'string') : [];
  return texts.length > 0 ? `${status} ${texts.join('; ')}` : `${status}`;
}
