// First steps of `flowsafe start`: open the store, load the master key and check it against
// the key check value recorded on first start (a wrong key is refused here, not at the first
// run), and on an empty store create the owner of workspace `default`. The owner token is
// FLOWSAFE_BOOTSTRAP_TOKEN or a generated one written to <dataDir>/owner.token (0600); only
// the file's path is ever printed.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { KeyRing, loadMasterKey } from '@flowsafe/secrets';
import { openLowdbStore, type Store, type StoreLogger } from '@flowsafe/store';
import type { Config } from './config';
import { generateToken, hashToken } from './tokens';

export const KEY_CHECK_META = 'keyCheckValue';
export const OWNER_TOKEN_FILE = 'owner.token';

/** A start-up failure whose message is the one line to print. */
export class BootstrapError extends Error {
  override readonly name = 'BootstrapError';
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

export interface Bootstrapped {
  store: Store;
  keyRing: KeyRing;
  /** set when this start created the owner */
  owner?: { tokenFile?: string; fromEnv: boolean };
}

export async function bootstrap(
  config: Pick<Config, 'dataDir' | 'masterKey' | 'bootstrapToken'>,
  opts: { logger?: StoreLogger; openStore?: () => Promise<Store> } = {},
): Promise<Bootstrapped> {
  await mkdir(config.dataDir, { recursive: true, mode: 0o700 });
  let keyRing: KeyRing;
  try {
    keyRing = new KeyRing(await loadMasterKey({ envValue: config.masterKey, dataDir: config.dataDir }));
  } catch (err) {
    throw new BootstrapError(
      'MASTER_KEY_INVALID',
      `flowsafe: cannot load the master key: ${firstLine(err)}`,
      { cause: err },
    );
  }
  // the embedded store unless the caller opens another (PostgreSQL mode)
  const store = opts.openStore
    ? await opts.openStore()
    : await openLowdbStore({
        dataDir: config.dataDir,
        ...(opts.logger ? { logger: opts.logger } : {}),
      });
  try {
    const recorded = await store.meta.get(KEY_CHECK_META);
    if (recorded === undefined) {
      await store.meta.set(KEY_CHECK_META, keyRing.checkValue());
    } else {
      try {
        keyRing.verify(recorded);
      } catch (err) {
        throw new BootstrapError('MASTER_KEY_MISMATCH', `flowsafe: ${firstLine(err)}`, { cause: err });
      }
    }
    let owner: Bootstrapped['owner'];
    if ((await store.users.count()) === 0) {
      const fromEnv = config.bootstrapToken !== undefined;
      const token = config.bootstrapToken ?? generateToken();
      let tokenFile: string | undefined;
      if (!fromEnv) {
        tokenFile = path.join(config.dataDir, OWNER_TOKEN_FILE);
        await writeFile(tokenFile, `${token}\n`, { mode: 0o600 });
      }
      await store.transaction(async (tx) => {
        const user = await tx.users.create({ name: 'owner', tokenHash: hashToken(token) });
        const workspace = await tx.workspaces.create({ name: 'default' });
        await tx.members.add({ workspaceId: workspace.id, userId: user.id, role: 'owner' });
      });
      owner = tokenFile !== undefined ? { tokenFile, fromEnv } : { fromEnv };
    }
    return owner ? { store, keyRing, owner } : { store, keyRing };
  } catch (err) {
    await store.close().catch(() => undefined);
    throw err;
  }
}

function firstLine(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.split('\n')[0] ?? text;
}
