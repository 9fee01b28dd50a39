import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AppendLog } from './append-log';

interface Rec {
  id: string;
  n: number;
}

describe('AppendLog (open handle, group commit)', () => {
  let dir: string;
  let file: string;
  let log: AppendLog<Rec> | undefined;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'flowsafe-append-log-'));
    file = join(dir, 'log.jsonl');
  });
  afterEach(async () => {
    await log?.close();
    log = undefined;
    await rm(dir, { recursive: true, force: true });
  });

  const fileRecords = async (): Promise<Rec[]> =>
    (await readFile(file, 'utf8'))
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Rec);

  it('an append resolves only once its line is in the file', async () => {
    log = new AppendLog<Rec>({ file, limit: 1000 });
    const l = log;
    await Promise.all(
      Array.from({ length: 300 }, async (_, i) => {
        await l.append({ id: `r${i}`, n: i });
        expect((await fileRecords()).some((r) => r.id === `r${i}`)).toBe(true);
      }),
    );
    expect(await fileRecords()).toHaveLength(300);
  });

  it('group commit: the first append of a turn is written at once, the rest of the turn together after it, in order', async () => {
    log = new AppendLog<Rec>({ file, limit: 1000 });
    await log.append({ id: 'warm', n: -1 }); // opens the file
    await new Promise((resolve) => setImmediate(resolve));
    const { readFileSync } = await import('node:fs');
    const lines = (): number => readFileSync(file, 'utf8').split('\n').filter(Boolean).length;
    const l = log;
    // 50 appends in one turn (one id twice: the later one must win)
    const pending = Array.from({ length: 50 }, (_, i) => l.append({ id: i === 49 ? 'r0' : `r${i}`, n: i }));
    expect(lines()).toBe(2); // the first one is in the file already, the others wait for the turn to end
    await Promise.all(pending);
    expect(lines()).toBe(51);
    expect((await fileRecords()).map((r) => r.n)).toEqual([-1, ...Array.from({ length: 50 }, (_, i) => i)]);
    expect(await log.get('r0')).toEqual({ id: 'r0', n: 49 });
    // the next turn starts with a write at once again
    await new Promise((resolve) => setImmediate(resolve));
    const next = log.append({ id: 'later', n: 50 });
    expect(lines()).toBe(52);
    await next;
  });

  it('stores the record as it was when appended (the caller may change it afterwards)', async () => {
    log = new AppendLog<Rec>({ file, limit: 1000 });
    const rec = { id: 'a', n: 1 };
    const saved = log.append(rec);
    rec.n = 2;
    await saved;
    expect(await log.get('a')).toEqual({ id: 'a', n: 1 });
    const got = await log.get('a');
    got!.n = 3;
    expect(await log.get('a')).toEqual({ id: 'a', n: 1 });
  });

  it('parallel appends to one id: the last one wins, in memory and after a reopen', async () => {
    log = new AppendLog<Rec>({ file, limit: 1000 });
    await Promise.all(Array.from({ length: 50 }, (_, i) => log!.append({ id: 'same', n: i })));
    expect(await log.get('same')).toEqual({ id: 'same', n: 49 });
    await log.close();
    log = new AppendLog<Rec>({ file, limit: 1000 });
    expect(await log.get('same')).toEqual({ id: 'same', n: 49 });
    expect((await log.list({ limit: 10 })).items).toEqual([{ id: 'same', n: 49 }]);
  });

  it('compaction with appends in flight keeps every acknowledged record of the newest `limit`', async () => {
    log = new AppendLog<Rec>({ file, limit: 20 });
    const l = log;
    for (let round = 0; round < 10; round++) {
      await Promise.all(Array.from({ length: 40 }, (_, i) => l.append({ id: `r${round * 40 + i}`, n: i })));
    }
    const lines = await fileRecords();
    expect(lines.length).toBeLessThanOrEqual(2 * 20 + 100);
    const listed = (await l.list({ limit: 1000 })).items.map((r) => r.id);
    expect(listed[0]).toBe('r399');
    expect(listed.length).toBeGreaterThanOrEqual(20);
    await l.close();
    log = new AppendLog<Rec>({ file, limit: 20 });
    expect((await log.list({ limit: 1000 })).items.map((r) => r.id)).toEqual(listed);
    // and appending after a compaction and a reopen goes to the new file
    await log.append({ id: 'after', n: 0 });
    expect((await fileRecords()).at(-1)).toEqual({ id: 'after', n: 0 });
  });

  it('close releases the file; a later append opens it again; remove deletes it', async () => {
    log = new AppendLog<Rec>({ file, limit: 1000 });
    await log.append({ id: 'a', n: 1 });
    await log.close();
    await log.append({ id: 'b', n: 2 });
    expect((await fileRecords()).map((r) => r.id)).toEqual(['a', 'b']);
    await log.remove();
    await expect(readFile(file)).rejects.toMatchObject({ code: 'ENOENT' });
    await log.append({ id: 'c', n: 3 });
    expect((await fileRecords()).map((r) => r.id)).toEqual(['c']);
    expect((await log.list({ limit: 10 })).items.map((r) => r.id)).toEqual(['c']);
  });

  it('appends made while a removal runs land in the new file, in order', async () => {
    log = new AppendLog<Rec>({ file, limit: 1000 });
    await log.append({ id: 'old', n: 0 });
    const removed = log.remove();
    const appended = [log.append({ id: 'x', n: 1 }), log.append({ id: 'y', n: 2 })];
    await Promise.all([removed, ...appended]);
    expect((await fileRecords()).map((r) => r.id)).toEqual(['x', 'y']);
    expect((await log.list({ limit: 10 })).items.map((r) => r.id)).toEqual(['y', 'x']);
  });

  it('a failed write rejects its appends and leaves the index unchanged', async () => {
    log = new AppendLog<Rec>({ file: join(dir, 'missing-dir', 'log.jsonl'), limit: 1000 });
    await expect(log.append({ id: 'a', n: 1 })).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await log.get('a')).toBeUndefined();
  });
});
