// A local stand-in for AWS Secrets Manager on 127.0.0.1: the JSON 1.1 protocol's
// `secretsmanager.GetSecretValue` and `secretsmanager.ListSecrets` calls on POST /. It
// checks that a SigV4 Authorization header arrives for the expected access key id and
// verifies its signature with the expected secret key, so wrong credentials are refused
// the way AWS refuses them. Tests point the real SDK at it with `endpoint`.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { closeServer, listenLocal, readBody, sendJson } from './read-request';

/** Requests kept in `requests` (the oldest go first), so a long benchmark stays small. */
const MAX_RECORDED = 1000;

export interface AwsStandInOptions {
  accessKeyId: string;
  secretAccessKey: string;
  /** When set, ListSecrets answers AccessDeniedException (an identity that may only read). */
  denyList?: boolean;
}

export interface AwsStandInRequest {
  target: string;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface AwsStandIn {
  /** http://127.0.0.1:PORT, for the store's `endpoint`. */
  url: string;
  counts: { getSecretValue: number; listSecrets: number; refused: number };
  requests: AwsStandInRequest[];
  /** Sets a secret's SecretString (or SecretBinary when given bytes). */
  setSecret(secretId: string, value: string | Uint8Array): void;
  deleteSecret(secretId: string): void;
  close(): Promise<void>;
}

const JSON11 = { 'content-type': 'application/x-amz-json-1.1' };

function awsError(type: string, message: string) {
  return [400, { __type: type, message }, { ...JSON11, 'x-amzn-errortype': type }] as const;
}

const hmac = (key: Buffer | string, data: string) => createHmac('sha256', key).update(data, 'utf8').digest();
const sha256 = (data: string) => createHash('sha256').update(data, 'utf8').digest('hex');

/** Recomputes the SigV4 signature of a request on POST / and compares it with the one sent. */
function signatureMatches(
  headers: IncomingHttpHeaders,
  body: string,
  authorization: string,
  secretKey: string,
): boolean {
  const m =
    /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$/.exec(
      authorization,
    );
  if (!m) return false;
  const [, , date, region, service, signedHeaders, signature] = m as unknown as string[];
  const amzDate = headers['x-amz-date'];
  if (typeof amzDate !== 'string') return false;
  const names = (signedHeaders as string).split(';');
  const canonicalHeaders = names
    .map(
      (n) =>
        `${n}:${String(headers[n] ?? '')
          .trim()
          .replace(/\s+/g, ' ')}\n`,
    )
    .join('');
  const payloadHash =
    typeof headers['x-amz-content-sha256'] === 'string' ? headers['x-amz-content-sha256'] : sha256(body);
  const canonicalRequest = ['POST', '/', '', canonicalHeaders, signedHeaders, payloadHash].join('\n');
  const scope = `${date}/${region}/${service}/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonicalRequest)].join('\n');
  let key = hmac(`AWS4${secretKey}`, date as string);
  for (const part of [region as string, service as string, 'aws4_request']) key = hmac(key, part);
  const expected = hmac(key, toSign);
  const got = Buffer.from(signature as string, 'hex');
  return got.length === expected.length && timingSafeEqual(got, expected);
}

export async function startAwsStandIn(options: AwsStandInOptions): Promise<AwsStandIn> {
  const secrets = new Map<string, string | Uint8Array>();
  const counts = { getSecretValue: 0, listSecrets: 0, refused: 0 };
  const requests: AwsStandInRequest[] = [];

  const { server, url } = await listenLocal((req, res) => {
    void (async () => {
      const body = await readBody(req);
      const target = String(req.headers['x-amz-target'] ?? '');
      requests.push({ target, headers: req.headers, body });
      if (requests.length > MAX_RECORDED) requests.shift();
      const authorization = String(req.headers.authorization ?? '');
      const reply = (args: readonly [number, unknown, Record<string, string>]) =>
        sendJson(res, args[0], args[1], args[2]);
      if (req.method !== 'POST' || (req.url ?? '') !== '/')
        return reply(awsError('UnknownOperationException', 'only POST / is implemented'));
      if (!authorization.startsWith(`AWS4-HMAC-SHA256 Credential=${options.accessKeyId}/`)) {
        counts.refused += 1;
        return reply(
          awsError('UnrecognizedClientException', 'The security token included in the request is invalid.'),
        );
      }
      if (!signatureMatches(req.headers, body, authorization, options.secretAccessKey)) {
        counts.refused += 1;
        return reply(
          awsError(
            'InvalidSignatureException',
            'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.',
          ),
        );
      }
      let input: { SecretId?: unknown } = {};
      try {
        input = JSON.parse(body || '{}') as typeof input;
      } catch {
        return reply(awsError('SerializationException', 'invalid JSON'));
      }
      if (target === 'secretsmanager.ListSecrets') {
        counts.listSecrets += 1;
        if (options.denyList)
          return reply(
            awsError(
              'AccessDeniedException',
              'User is not authorized to perform: secretsmanager:ListSecrets',
            ),
          );
        return sendJson(res, 200, { SecretList: [] }, JSON11);
      }
      if (target !== 'secretsmanager.GetSecretValue')
        return reply(awsError('UnknownOperationException', `${target} is not implemented by the stand-in`));
      counts.getSecretValue += 1;
      const id = typeof input.SecretId === 'string' ? input.SecretId : '';
      const value = secrets.get(id);
      if (value === undefined)
        return reply(
          awsError('ResourceNotFoundException', "Secrets Manager can't find the specified secret."),
        );
      const common = {
        ARN: `arn:aws:secretsmanager:eu-west-1:123456789012:secret:${id}-AbCdEf`,
        Name: id,
        VersionId: 'v1',
        VersionStages: ['AWSCURRENT'],
        CreatedDate: 1_700_000_000,
      };
      return sendJson(
        res,
        200,
        typeof value === 'string'
          ? { ...common, SecretString: value }
          : { ...common, SecretBinary: Buffer.from(value).toString('base64') },
        JSON11,
      );
    })().catch(() => {
      res.destroy();
    });
  });

  return {
    url,
    counts,
    requests,
    setSecret: (id, value) => void secrets.set(id, value),
    deleteSecret: (id) => void secrets.delete(id),
    close: () => closeServer(server),
  };
}
