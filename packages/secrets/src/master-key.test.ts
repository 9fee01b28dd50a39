import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KeyRing } from './key-ring';
import { loadMasterKey, MasterKey } from './master-key';
import { SecretsError } from './secrets-error';

let dataDir: string;
beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'flowsafe-key-'));
});
afterEach(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

async function refusal(fn: () => Promise<unknown>): Promise<SecretsError> {
  try {
    await fn();
  } catch (err) {
    expect(err).toBeInstanceOf(SecretsError);
    return err as SecretsError;
  }
  throw new Error('expected a refusal');
}

describe('invariant 2: the master key', () => {
  it('creates <dataDir>/master.key with mode 0600 and returns the same key on every reload', async () => {
    const first = await loadMasterKey({ dataDir });
    const info = await stat(join(dataDir, 'master.key'));
    expect(info.mode & 0o777).toBe(0o600);
    const second = await loadMasterKey({ dataDir });
    expect(second.id).toBe(first.id);
    expect(second.toBase64()).toBe(first.toBase64());
    expect((await readFile(join(dataDir, 'master.key'), 'utf8')).trim()).toBe(first.toBase64());
  });

  it('creates the data directory when it does not exist yet', async () => {
    const nested = join(dataDir, 'a', 'b');
    const key = await loadMasterKey({ dataDir: nested });
    expect((await stat(join(nested, 'master.key'))).mode & 0o777).toBe(0o600);
    expect((await loadMasterKey({ dataDir: nested })).id).toBe(key.id);
  });

  it('concurrent first starts agree on one key', async () => {
    const keys = await Promise.all(Array.from({ length: 5 }, () => loadMasterKey({ dataDir })));
    expect(new Set(keys.map((k) => k.id)).size).toBe(1);
  });

  it('prefers FLOWSAFE_MASTER_KEY and does not create master.key then', async () => {
    const key = MasterKey.generate();
    const loaded = await loadMasterKey({ envValue: key.toBase64(), dataDir });
    expect(loaded.id).toBe(key.id);
    await expect(stat(join(dataDir, 'master.key'))).rejects.toThrow(/ENOENT/);
  });

  it.each([
    ['16 bytes', Buffer.alloc(16, 7).toString('base64')],
    ['33 bytes', Buffer.alloc(33, 7).toString('base64')],
    ['not base64', 'this-is-not-base64-at-all!!'],
  ])('refuses an env key of %s without echoing it', async (_what, envValue) => {
    const err = await refusal(() => loadMasterKey({ envValue, dataDir }));
    expect(err.code).toBe('MASTER_KEY_INVALID');
    expect(err.message).toContain('FLOWSAFE_MASTER_KEY must be base64 of exactly 32 bytes');
    expect(err.message).not.toContain(envValue);
  });

  it('refuses a damaged master.key naming the file, never replacing it', async () => {
    await writeFile(join(dataDir, 'master.key'), 'short\n', { mode: 0o600 });
    const err = await refusal(() => loadMasterKey({ dataDir }));
    expect(err.code).toBe('MASTER_KEY_INVALID');
    expect(err.message).toContain(join(dataDir, 'master.key'));
    expect(await readFile(join(dataDir, 'master.key'), 'utf8')).toBe('short\n');
  });

  it('a wrong key is refused at start-up through the stored key check value', async () => {
    const original = await loadMasterKey({ dataDir });
    const kcv = new KeyRing(original).checkValue();
    const other = MasterKey.generate();
    const err = await refusal(async () =>
      new KeyRing(await loadMasterKey({ envValue: other.toBase64(), dataDir })).verify(kcv),
    );
    expect(err.code).toBe('MASTER_KEY_MISMATCH');
    expect(err.message).toMatch(/restore the original key/);
    expect(() => new KeyRing(original).verify(kcv)).not.toThrow();
  });
});
