// The shape of the main JSON document (<dataDir>/flowsafe.json) and the lowdb adapter that
// reads it strictly (a hand-edited or truncated file stops start-up, naming the file) and
// writes it atomically.
import { readFile } from 'node:fs/promises';
import type { Adapter } from 'lowdb';
import { z } from 'zod';
import { writeFileAtomic } from './atomic-write';
import { deepFreeze } from './frozen';
import { StoreError } from './store-error';
import type { Flow, Member, Project, Secret, SecretStoreConfig, Setting, User, Workspace } from './types';

export interface StoreDocument {
  version: 1;
  users: User[];
  workspaces: Workspace[];
  members: Member[];
  projects: Project[];
  secrets: Secret[];
  settings: Setting[];
  flows: Flow[];
  secretStores: SecretStoreConfig[];
  meta: Record<string, string>;
}

/** The lists of records (each record frozen; the lists and `meta` change in place). */
const RECORD_LISTS = [
  'users',
  'workspaces',
  'members',
  'projects',
  'secrets',
  'settings',
  'flows',
  'secretStores',
] as const satisfies ReadonlyArray<keyof StoreDocument>;

export function emptyDocument(): StoreDocument {
  return {
    version: 1,
    users: [],
    workspaces: [],
    members: [],
    projects: [],
    secrets: [],
    settings: [],
    flows: [],
    secretStores: [],
    meta: {},
  };
}

const str = z.string();
const blob = z.object({ iv: str, ct: str, tag: str });
const wrappedKey = z.object({ kekId: str, iv: str, ct: str, tag: str });
const sealedValue = z.record(str, blob);

const documentSchema = z.object({
  version: z.literal(1),
  users: z.array(z.looseObject({ id: str, name: str, tokenHash: str, createdAt: str })),
  workspaces: z.array(z.looseObject({ id: str, name: str, createdAt: str })),
  members: z.array(
    z.looseObject({ workspaceId: str, userId: str, role: z.enum(['owner', 'admin', 'editor', 'viewer']) }),
  ),
  projects: z.array(
    z.looseObject({
      id: str,
      workspaceId: str,
      name: str,
      environments: z.array(str),
      policy: z.looseObject({ requireAllowedHosts: z.boolean() }),
    }),
  ),
  secrets: z.array(
    z.looseObject({
      id: str,
      workspaceId: str,
      projectId: str,
      name: str,
      type: z.enum(['text', 'binary', 'basic', 'oauth2']),
      visibility: z.enum(['masked', 'restricted']),
      wrappedKey,
      values: z.record(str, sealedValue),
    }),
  ),
  settings: z.array(z.looseObject({ id: str, projectId: str, name: str, values: z.record(str, str) })),
  flows: z.array(z.looseObject({ id: str, projectId: str, name: str })),
  secretStores: z.array(
    z.looseObject({ id: str, workspaceId: str, name: str, wrappedKey, credentials: sealedValue }),
  ),
  meta: z.record(str, str),
});

/** lowdb adapter: strict read, atomic write (temp + fsync + rename + dir fsync). */
export class AtomicJsonAdapter implements Adapter<StoreDocument> {
  constructor(readonly file: string) {}

  async read(): Promise<StoreDocument | null> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch (err) {
      // the parser's message may quote the file; keep only where it failed
      const at = /at position \d+(?: \(line \d+ column \d+\))?/.exec((err as Error).message)?.[0];
      throw invalid(
        this.file,
        at ? `is not valid JSON (${at})` : 'is not valid JSON (truncated or hand-edited?)',
      );
    }
    const result = documentSchema.safeParse(data);
    if (!result.success) {
      const issue = result.error.issues[0];
      const where = issue?.path.length ? issue.path.join('.') : 'the top level';
      throw invalid(
        this.file,
        `does not have the shape of a flowsafe store at ${where}: ${issue?.message ?? 'invalid'}`,
      );
    }
    // the document as written (zod output would drop nothing, but keep the original objects),
    // its records frozen as every record the store holds (lowdb-store.ts)
    const doc = data as StoreDocument;
    for (const key of RECORD_LISTS) for (const record of doc[key]) deepFreeze(record);
    return doc;
  }

  async write(data: StoreDocument): Promise<void> {
    await writeFileAtomic(this.file, `${JSON.stringify(data, null, 1)}\n`);
  }
}

function invalid(file: string, problem: string): StoreError {
  return new StoreError(
    'STORE_FILE_INVALID',
    `${file} ${problem}; flowsafe will not start on it and never replaces it: fix the file or restore it from a backup`,
  );
}
