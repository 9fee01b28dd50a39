// Envelope encryption (SPEC §3 invariants 1 and 2). Each secret has its own data key
// (DEK) wrapped by the master key (KEK); each value is sealed with AES-256-GCM under the DEK,
// with a fresh 96-bit IV and AAD binding it to workspaceId/projectId/secretId/environment/field,
// so a blob moved anywhere else or altered in any bit fails to open with SEAL_AUTH_FAILED.
// A text value is one field (`value`); the fields of a binary, basic or oauth2 value are sealed
// together as one JSON object under the field name `fields`, so a dispatch opens one blob per
// secret. Values sealed field by field (before that) still open.
import {
  createCipheriv,
  createDecipheriv,
  createSecretKey,
  type KeyObject,
  randomBytes,
  timingSafeEqual,
} from 'node:crypto';
import { LruCache } from './lru-cache';
import type { MasterKey } from './master-key';
import type { BasicValue, BinaryValue, OAuth2Value, SecretType, SecretValue } from './secret-model';
import { SecretsError } from './secrets-error';

/** base64 parts of one AES-256-GCM ciphertext */
export interface SealedBlob {
  iv: string;
  ct: string;
  tag: string;
}
/** a data key wrapped by the master key with id kekId */
export interface WrappedKey {
  kekId: string;
  iv: string;
  ct: string;
  tag: string;
}
/** sealed fields of one value: `value` for text, `fields` for the others (older values: one
 *  blob per field, 'username'/'password' for basic, ...) */
export type SealedValue = Record<string, SealedBlob>;
export interface SealContext {
  workspaceId: string;
  projectId: string;
  secretId: string;
  /** 'default' or an environment name */
  environment: string;
}

const ALGORITHM = 'aes-256-gcm';
const IV_BYTES = 12;
const TAG_BYTES = 16;
const DEK_BYTES = 32;
/** unwrapped data keys kept (see docs/decisions.md "Data-key cache") */
const DEK_CACHE_SIZE = 512;

/** The field name under which the fields of a non-text value are sealed together. */
const PACKED = 'fields';

/** Fields of each type, in order; optional ones may be absent. */
const FIELDS: Record<SecretType, { required: readonly string[]; optional: readonly string[] }> = {
  text: { required: ['value'], optional: [] },
  binary: { required: ['base64'], optional: ['filename'] },
  basic: { required: ['username', 'password'], optional: [] },
  oauth2: { required: ['clientId', 'clientSecret', 'tokenUrl'], optional: ['scope', 'audience'] },
};

export class KeyRing {
  private readonly current: MasterKey;
  private readonly keys = new Map<string, MasterKey>();
  private readonly deks = new LruCache<string, KeyObject>(DEK_CACHE_SIZE);
  /** the cache key of a frozen wrapped key (a store record: it cannot change), built once */
  private readonly cacheKeys = new WeakMap<WrappedKey, string>();

  /** `previous` keys can still unwrap data keys wrapped before a rotation. */
  constructor(current: MasterKey, previous: MasterKey[] = []) {
    this.current = current;
    for (const key of [current, ...previous]) if (!this.keys.has(key.id)) this.keys.set(key.id, key);
  }

  /** id of the key new data keys are wrapped with */
  get currentKeyId(): string {
    return this.current.id;
  }

  /** A ring whose current key is `next`, still able to unwrap everything this one can. */
  rotated(next: MasterKey): KeyRing {
    return new KeyRing(next, [...this.keys.values()]);
  }

  /** The key check value to store next to the data sealed under the current key. */
  checkValue(): string {
    return `kcv1:${this.current.id}:${kcvMac(this.current).toString('base64url')}`;
  }

  /** Refuses a ring that cannot open data whose stored key check value is `checkValue`. */
  verify(checkValue: string): void {
    const [version, keyId, mac] = checkValue.split(':');
    if (version === 'kcv1' && keyId !== undefined && mac !== undefined) {
      const expected = Buffer.from(mac, 'base64url');
      for (const key of this.keys.values()) {
        const actual = kcvMac(key);
        if (actual.length === expected.length && timingSafeEqual(actual, expected)) return;
      }
    }
    throw new SecretsError(
      'MASTER_KEY_MISMATCH',
      'FLOWSAFE_MASTER_KEY does not match the key this data was sealed with; restore the original key ' +
        `(id ${keyId ?? 'unknown'}) through FLOWSAFE_MASTER_KEY or <dataDir>/master.key, or point flowsafe at a new ` +
        `data directory if that key is lost: sealed values cannot be opened without it (the given key has id ${this.current.id})`,
    );
  }

  /** A fresh data key for a new secret, wrapped by the current master key. */
  newDataKey(): WrappedKey {
    const raw = randomBytes(DEK_BYTES);
    try {
      return this.wrap(raw);
    } finally {
      raw.fill(0);
    }
  }

  /** Re-wraps a data key under `to`'s current master key; values sealed with it are unchanged. */
  rewrap(wrapped: WrappedKey, to: KeyRing): WrappedKey {
    const raw = this.dataKey(wrapped).export();
    try {
      return to.wrap(raw);
    } finally {
      raw.fill(0);
    }
  }

  /** Seals every field of a value (validated by the caller with secretValueSchema). */
  seal(wrapped: WrappedKey, ctx: SealContext, type: SecretType, value: SecretValue): SealedValue {
    const dek = this.dataKey(wrapped);
    const prefix = aadPrefix(ctx);
    const fields = FIELDS[type];
    if (type === 'text') {
      if (typeof value !== 'string') throw shapeError(type);
      return { value: sealField(dek, prefix, 'value', value) };
    }
    if (typeof value !== 'object' || value === null) throw shapeError(type);
    const record = value as unknown as Record<string, unknown>;
    const plain: Record<string, string> = {};
    for (const field of fields.required) {
      const text = record[field];
      if (typeof text !== 'string') throw shapeError(type, field);
      plain[field] = text;
    }
    for (const field of fields.optional) {
      const text = record[field];
      if (text === undefined) continue;
      if (typeof text !== 'string') throw shapeError(type, field);
      plain[field] = text;
    }
    return { [PACKED]: sealField(dek, prefix, PACKED, JSON.stringify(plain)) };
  }

  /** Opens a sealed value; SEAL_AUTH_FAILED when any part was altered or moved. */
  open(wrapped: WrappedKey, ctx: SealContext, type: SecretType, sealed: SealedValue): SecretValue {
    const dek = this.dataKey(wrapped);
    const prefix = aadPrefix(ctx);
    const packed = sealed[PACKED];
    if (packed !== undefined && type !== 'text') {
      for (const field of Object.keys(sealed)) {
        if (field !== PACKED) throw invalidSealed(type, ctx, `has an unexpected field ${field}`);
      }
      return unpack(type, openField(dek, prefix, PACKED, packed, ctx), ctx);
    }
    const out = fieldsOf(type, sealed, ctx, (field, blob) => openField(dek, prefix, field, blob, ctx));
    if (type === 'text') return out.value as string;
    return out as unknown as BinaryValue | BasicValue | OAuth2Value;
  }

  /** @internal wraps raw data-key bytes under the current master key */
  private wrap(raw: Buffer): WrappedKey {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv(ALGORITHM, this.current.keyObject, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.from(`flowsafe/dek/v1/${this.current.id}`));
    const ct = Buffer.concat([cipher.update(raw), cipher.final()]);
    return {
      kekId: this.current.id,
      iv: iv.toString('base64'),
      ct: ct.toString('base64'),
      tag: cipher.getAuthTag().toString('base64'),
    };
  }

  /** The unwrapped data key, from the bounded cache when it was used recently. */
  private dataKey(wrapped: WrappedKey): KeyObject {
    let cacheKey = this.cacheKeys.get(wrapped);
    if (cacheKey === undefined) {
      cacheKey = `${wrapped.kekId}.${wrapped.iv}.${wrapped.ct}.${wrapped.tag}`;
      if (Object.isFrozen(wrapped)) this.cacheKeys.set(wrapped, cacheKey);
    }
    const cached = this.deks.get(cacheKey);
    if (cached !== undefined) return cached;

    const kek = this.keys.get(wrapped.kekId);
    if (kek === undefined) {
      throw new SecretsError(
        'KEY_NOT_IN_RING',
        `data key was wrapped by master key ${wrapped.kekId}, which is not in the key ring (current ${this.current.id}); ` +
          'add the previous master key to the ring or restore it',
      );
    }
    let raw: Buffer;
    try {
      const iv = Buffer.from(wrapped.iv, 'base64');
      const tag = Buffer.from(wrapped.tag, 'base64');
      if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) throw new Error('bad length');
      const decipher = createDecipheriv(ALGORITHM, kek.keyObject, iv, { authTagLength: TAG_BYTES });
      decipher.setAAD(Buffer.from(`flowsafe/dek/v1/${kek.id}`));
      decipher.setAuthTag(tag);
      raw = Buffer.concat([decipher.update(Buffer.from(wrapped.ct, 'base64')), decipher.final()]);
    } catch (cause) {
      throw new SecretsError(
        'SEAL_AUTH_FAILED',
        `data key wrapped by master key ${wrapped.kekId} failed to open: it was altered`,
        {
          cause,
        },
      );
    }
    if (raw.length !== DEK_BYTES) {
      raw.fill(0);
      throw new SecretsError('SEAL_AUTH_FAILED', 'data key has the wrong length');
    }
    const dek = createSecretKey(raw);
    raw.fill(0);
    this.deks.set(cacheKey, dek);
    return dek;
  }
}

function invalidSealed(type: SecretType, ctx: SealContext, why: string): SecretsError {
  return new SecretsError('SEALED_VALUE_INVALID', `sealed ${type} value of secret ${ctx.secretId} ${why}`);
}

/** The fields of a value of `type` from its parts (sealed blobs, or the strings of a packed
 *  value), each through `take`; unknown and missing fields are refused. */
function fieldsOf<P>(
  type: SecretType,
  parts: Record<string, P | undefined>,
  ctx: SealContext,
  take: (field: string, part: P) => string,
): Record<string, string> {
  const { required, optional } = FIELDS[type];
  for (const field of Object.keys(parts)) {
    if (!required.includes(field) && !optional.includes(field))
      throw invalidSealed(type, ctx, `has an unexpected field ${field}`);
  }
  const out: Record<string, string> = {};
  for (const field of required) {
    const part = parts[field];
    if (part === undefined) throw invalidSealed(type, ctx, `lacks field ${field}`);
    out[field] = take(field, part);
  }
  for (const field of optional) {
    const part = parts[field];
    if (part !== undefined) out[field] = take(field, part);
  }
  return out;
}

/** The fields of a packed value, checked against its type (they were authenticated already). */
function unpack(type: SecretType, json: string, ctx: SealContext): SecretValue {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    throw invalidSealed(type, ctx, 'is not a set of fields');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw invalidSealed(type, ctx, 'is not a set of fields');
  return fieldsOf(type, parsed as Record<string, unknown>, ctx, (field, text) => {
    if (typeof text !== 'string') throw invalidSealed(type, ctx, `lacks field ${field}`);
    return text;
  }) as unknown as BinaryValue | BasicValue | OAuth2Value;
}

function kcvMac(key: MasterKey): Buffer {
  return key.mac('flowsafe/key-check-value/v1');
}

function aadPrefix(ctx: SealContext): string {
  const parts = [ctx.workspaceId, ctx.projectId, ctx.secretId, ctx.environment];
  for (const part of parts) {
    if (typeof part !== 'string' || part === '' || part.includes('/')) {
      throw new SecretsError(
        'SEAL_CONTEXT_INVALID',
        'seal context ids must be non-empty and must not contain "/"',
      );
    }
  }
  return `${ctx.workspaceId}/${ctx.projectId}/${ctx.secretId}/${ctx.environment}/`;
}

function sealField(dek: KeyObject, prefix: string, field: string, plain: string): SealedBlob {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv(ALGORITHM, dek, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(Buffer.from(prefix + field));
  const head = cipher.update(plain, 'utf8');
  const tail = cipher.final();
  const ct = tail.length === 0 ? head : Buffer.concat([head, tail]);
  return {
    iv: iv.toString('base64'),
    ct: ct.toString('base64'),
    tag: cipher.getAuthTag().toString('base64'),
  };
}

/** The bytes of a sealed blob (none of them secret without the data key). */
interface BlobBytes {
  iv: Buffer;
  tag: Buffer;
  ct: Buffer;
}

/** Decoded blobs of frozen sealed values (store records cannot change), kept with the record. */
const blobBytes = new WeakMap<SealedBlob, BlobBytes>();

function bytesOf(blob: SealedBlob): BlobBytes {
  const known = blobBytes.get(blob);
  if (known !== undefined) return known;
  const bytes = {
    iv: Buffer.from(blob.iv, 'base64'),
    tag: Buffer.from(blob.tag, 'base64'),
    ct: Buffer.from(blob.ct, 'base64'),
  };
  if (Object.isFrozen(blob)) blobBytes.set(blob, bytes);
  return bytes;
}

/** AAD bytes by text (ids, not secret): the same few secrets are opened at every dispatch */
const aadBytes = new Map<string, Buffer>();
const AAD_CACHE_SIZE = 1024;

function aadOf(text: string): Buffer {
  let bytes = aadBytes.get(text);
  if (bytes === undefined) {
    if (aadBytes.size >= AAD_CACHE_SIZE) aadBytes.clear();
    bytes = Buffer.from(text, 'utf8');
    aadBytes.set(text, bytes);
  }
  return bytes;
}

function openField(
  dek: KeyObject,
  prefix: string,
  field: string,
  blob: SealedBlob,
  ctx: SealContext,
): string {
  // bytes in, bytes out, one UTF-8 decoding at the end (the string-decoder path of update()
  // costs more than the decryption); the decrypted bytes are wiped whether or not they were
  // authenticated (a blob with a flipped tag still decrypts before final() refuses it)
  let head: Buffer | undefined;
  try {
    const { iv, tag, ct } = bytesOf(blob);
    if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) throw new Error('bad length');
    const decipher = createDecipheriv(ALGORITHM, dek, iv, { authTagLength: TAG_BYTES });
    decipher.setAAD(aadOf(prefix + field));
    decipher.setAuthTag(tag);
    head = decipher.update(ct);
    const tail = decipher.final();
    if (tail.length === 0) return head.toString('utf8');
    const plain = Buffer.concat([head, tail]);
    const text = plain.toString('utf8');
    plain.fill(0);
    return text;
  } catch (cause) {
    throw new SecretsError(
      'SEAL_AUTH_FAILED',
      `sealed field ${field} of secret ${ctx.secretId} (environment ${ctx.environment}) failed to open: ` +
        'it was altered, or moved from another secret, field, environment or project',
      { cause: cause instanceof Error ? new Error(cause.message) : undefined },
    );
  } finally {
    head?.fill(0);
  }
}

function shapeError(type: SecretType, field?: string): SecretsError {
  return new SecretsError(
    'SECRET_VALUE_INVALID',
    field === undefined
      ? `value does not have the shape of a ${type} secret`
      : `${type} value needs a string ${field}`,
  );
}
