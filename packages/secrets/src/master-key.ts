// The master key (key-encryption key, SPEC §3 invariant 2): where it comes from
// (FLOWSAFE_MASTER_KEY or <dataDir>/master.key, created 0600 on first start), its id
// and its key check value. The raw bytes stay inside a KeyObject.
import { createHmac, createSecretKey, type KeyObject, randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SecretsError } from './secrets-error';

const KEY_BYTES = 32;
const STRICT_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

export class MasterKey {
  /** short, non-secret identifier: first 16 hex of HMAC-SHA256(key, label) */
  readonly id: string;
  /** @internal the key itself, for the key ring */
  readonly keyObject: KeyObject;

  private constructor(raw: Buffer) {
    this.keyObject = createSecretKey(raw);
    this.id = this.mac('flowsafe/key-id/v1').toString('hex').slice(0, 16);
  }

  /** A key from base64 (32 bytes). The message never repeats the input. */
  static fromBase64(b64: string, source = 'the master key'): MasterKey {
    const compact = b64.trim();
    const raw = STRICT_BASE64.test(compact) ? Buffer.from(compact, 'base64') : undefined;
    if (raw?.length !== KEY_BYTES) {
      throw new SecretsError(
        'MASTER_KEY_INVALID',
        `${source} must be base64 of exactly ${KEY_BYTES} bytes` +
          (raw ? ` (it decodes to ${raw.length} bytes)` : ' (it is not valid base64)') +
          '; generate one with: openssl rand -base64 32',
      );
    }
    const key = new MasterKey(raw);
    raw.fill(0);
    return key;
  }

  static generate(): MasterKey {
    const raw = randomBytes(KEY_BYTES);
    const key = new MasterKey(raw);
    raw.fill(0);
    return key;
  }

  toBase64(): string {
    return this.keyObject.export().toString('base64');
  }

  /** @internal HMAC-SHA256 of a label under this key (ids and check values) */
  mac(label: string): Buffer {
    return createHmac('sha256', this.keyObject).update(label).digest();
  }
}

/**
 * The master key from FLOWSAFE_MASTER_KEY when set, else from `<dataDir>/master.key`,
 * which is created (mode 0600, never overwritten) on first start.
 */
export async function loadMasterKey(opts: {
  envValue?: string | undefined;
  dataDir: string;
}): Promise<MasterKey> {
  if (opts.envValue !== undefined && opts.envValue.trim() !== '') {
    return MasterKey.fromBase64(opts.envValue, 'FLOWSAFE_MASTER_KEY');
  }
  const file = join(opts.dataDir, 'master.key');
  const existing = await readKeyFile(file);
  if (existing !== undefined) return MasterKey.fromBase64(existing, file);

  await mkdir(opts.dataDir, { recursive: true });
  const key = MasterKey.generate();
  try {
    await writeFile(file, `${key.toBase64()}\n`, { mode: 0o600, flag: 'wx' });
    return key;
  } catch (err) {
    // another process created it first: use theirs
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    const theirs = await readKeyFile(file);
    if (theirs === undefined) throw err;
    return MasterKey.fromBase64(theirs, file);
  }
}

async function readKeyFile(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}
