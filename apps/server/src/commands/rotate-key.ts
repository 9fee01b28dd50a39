// `flowsafe rotate-key`: re-wraps the data key of every secret and every external secret
// store under a new master key (KeyRing.rewrap); sealed values are not touched. Stop the API
// and the workers first: they hold the old key.
//
// Safe to re-run after an interruption: the new key is saved (0600) before anything changes,
// as <dataDir>/master.key.new unless it came from --new-key-file or FLOWSAFE_NEW_MASTER_KEY,
// and is picked up again by the next run; the ring holds the old and the new key, each secret
// is updated on its own, and one already wrapped by the new key is skipped. When every data
// key is re-wrapped the key check value is updated, and in the embedded mode (key in
// <dataDir>/master.key) the new key replaces master.key; with FLOWSAFE_MASTER_KEY the command
// says what to set instead.
import { readFile, rename, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { KeyRing, MasterKey } from '@flowsafe/secrets';
import type { Store } from '@flowsafe/store';
import { KEY_CHECK_META } from '../bootstrap';
import { CliError, firstLine, openRuntime, progress, readConfig } from './runtime';

export interface RotateOptions {
  newKeyFile?: string;
}

const PENDING_FILE = 'master.key.new';

async function readKey(file: string, label: string): Promise<MasterKey | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  try {
    return MasterKey.fromBase64(text.trim(), label);
  } catch (err) {
    throw new CliError(`flowsafe: ${firstLine(err)}`, 2);
  }
}

/** The new key: given, or pending from an interrupted rotation, or generated (and saved first). */
async function newKey(opts: RotateOptions, dataDir: string): Promise<{ key: MasterKey; file?: string }> {
  const pendingFile = path.join(dataDir, PENDING_FILE);
  if (opts.newKeyFile !== undefined) {
    const key = await readKey(path.resolve(opts.newKeyFile), opts.newKeyFile);
    if (!key) throw new CliError(`flowsafe: --new-key-file ${opts.newKeyFile} does not exist`, 2);
    return { key, file: path.resolve(opts.newKeyFile) };
  }
  const fromEnv = process.env.FLOWSAFE_NEW_MASTER_KEY;
  if (fromEnv !== undefined && fromEnv.trim() !== '') {
    try {
      return { key: MasterKey.fromBase64(fromEnv.trim(), 'FLOWSAFE_NEW_MASTER_KEY') };
    } catch (err) {
      throw new CliError(`flowsafe: ${firstLine(err)}`, 2);
    }
  }
  const pending = await readKey(pendingFile, pendingFile);
  if (pending) return { key: pending, file: pendingFile };
  const key = MasterKey.generate();
  await writeFile(pendingFile, `${key.toBase64()}\n`, { mode: 0o600, flag: 'wx' });
  return { key, file: pendingFile };
}

export interface RotateResult {
  rewrapped: number;
  skipped: number;
  keyId: string;
}

async function rewrapAll(
  store: Store,
  ids: string[],
  ring: KeyRing,
  target: KeyRing,
  onStep: (done: number, total: number) => void,
): Promise<Omit<RotateResult, 'keyId'>> {
  let rewrapped = 0;
  let skipped = 0;
  const work: (() => Promise<void>)[] = [];
  for (const ws of ids) {
    for (const secret of await store.secrets.listByWorkspace(ws)) {
      if (secret.wrappedKey.kekId === target.currentKeyId) {
        skipped++;
        continue;
      }
      work.push(async () => {
        const wrappedKey = ring.rewrap(secret.wrappedKey, target);
        await store.secrets.update(secret.projectId, secret.name, { wrappedKey });
      });
    }
    for (const config of await store.secretStores.list(ws)) {
      if (config.wrappedKey.kekId === target.currentKeyId) {
        skipped++;
        continue;
      }
      work.push(async () => {
        const wrappedKey = ring.rewrap(config.wrappedKey, target);
        await store.secretStores.update(ws, config.name, { wrappedKey });
      });
    }
  }
  for (const [i, step] of work.entries()) {
    await step();
    rewrapped++;
    onStep(i + 1, work.length);
  }
  return { rewrapped, skipped };
}

export async function rotateKeyCommand(opts: RotateOptions): Promise<void> {
  const config = readConfig();
  // the key check comes below, with the new key in the ring (an interrupted run may have
  // recorded the new key's check value already)
  const runtime = await openRuntime(config, { migrate: 'refuse', owner: false, keyCheck: false });
  try {
    const { key: next, file } = await newKey(opts, config.dataDir);
    const oldRing = runtime.keyRing;
    // both keys: data keys already moved by an interrupted run still open
    const oldKeyId = oldRing.currentKeyId;
    const ring = oldRing.rotated(next);
    const target = new KeyRing(next);
    const recorded = await runtime.store.meta.get(KEY_CHECK_META);
    if (recorded !== undefined) {
      try {
        ring.verify(recorded);
      } catch (err) {
        throw new CliError(`flowsafe: ${firstLine(err)}`, 1);
      }
    }
    const bar = progress();
    const ids = (await runtime.store.workspaces.listAll()).map((w) => w.id);
    const result = await rewrapAll(runtime.store, ids, ring, target, (done, total) =>
      bar.update(`re-wrapping data keys: ${done}/${total}`),
    );
    bar.done();
    await runtime.store.meta.set(KEY_CHECK_META, target.checkValue());
    for (const ws of ids) {
      await runtime.store.audit.append({
        workspaceId: ws,
        actor: 'system',
        action: 'key.rotate',
        details: { from: oldKeyId, to: next.id },
      });
    }
    const summary = `flowsafe: re-wrapped ${result.rewrapped} data keys under master key ${next.id} (${result.skipped} already were); values unchanged`;
    process.stdout.write(`${summary}\n`);
    if (config.masterKey === undefined && !runtime.postgres) {
      // embedded mode, key in <dataDir>/master.key: the new key replaces it now
      const keyFile = path.join(config.dataDir, 'master.key');
      const tmp = `${keyFile}.tmp-${process.pid}`;
      await writeFile(tmp, `${next.toBase64()}\n`, { mode: 0o600 });
      await rename(tmp, keyFile);
      if (file === path.join(config.dataDir, PENDING_FILE)) await unlink(file).catch(() => undefined);
      process.stdout.write(`flowsafe: ${keyFile} now holds the new master key\n`);
    } else if (file !== undefined) {
      process.stdout.write(
        `flowsafe: set FLOWSAFE_MASTER_KEY to the new key in ${file} for every flowsafe process, then delete that file\n`,
      );
    } else {
      process.stdout.write(
        'flowsafe: set FLOWSAFE_MASTER_KEY to the value of FLOWSAFE_NEW_MASTER_KEY for every flowsafe process\n',
      );
    }
  } finally {
    await runtime.store.close().catch(() => undefined);
  }
}
