import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AppendLog } from './append-log';

interface Rec {
  id: string;
  n: number;
  /** secondary key (a run's flow) */
  k?: string;
  text?: string;
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

  it('records are read back from the file by offset, multi-byte text included, before and after a reopen and a compaction', async () => {
    const text = (i: number) => `grüße ✓ 🚀 ${'é'.repeat(i % 7)} #${i}`;
    log = new AppendLog<Rec>({ file, limit: 30, keyOf: (r) => r.k });
    const l = log;
    for (let round = 0; round < 4; round++) {
      await Promise.all(
        Array.from({ length: 25 }, (_, i) => {
          const n = round * 25 + i;
          return l.append({ id: `r${n}`, n, k: `f${n % 3}`, text: text(n) });
        }),
      );
    }
    const check = async (on: AppendLog<Rec>) => {
      for (const n of [99, 98, 80, 75]) {
        expect(await on.get(`r${n}`)).toEqual({ id: `r${n}`, n, k: `f${n % 3}`, text: text(n) });
      }
      const all = (await on.list({ limit: 1000 })).items;
      expect(all[0]!.id).toBe('r99');
      for (const r of all) expect(r.text).toBe(text(r.n));
    };
    await check(l);
    await l.close();
    log = new AppendLog<Rec>({ file, limit: 30, keyOf: (r) => r.k });
    await check(log);
  });

  it('list by key: only that key, newest first, page by page', async () => {
    log = new AppendLog<Rec>({ file, limit: 1000, keyOf: (r) => r.k });
    const l = log;
    for (let n = 0; n < 40; n++) await l.append({ id: `r${n}`, n, k: n % 4 === 0 ? 'mine' : 'other' });
    // a record that moves to another key is listed under its newest key only
    await l.append({ id: 'r1', n: 100, k: 'mine' });
    const seen: number[] = [];
    let cursor: string | undefined;
    do {
      const page = await l.list({ key: 'mine', limit: 3, cursor });
      for (const r of page.items) {
        expect(r.k).toBe('mine');
        seen.push(r.n);
      }
      cursor = page.next;
    } while (cursor !== undefined);
    expect(seen).toEqual([36, 32, 28, 24, 20, 16, 12, 8, 4, 100, 0]);
    expect((await l.list({ key: 'nobody', limit: 10 })).items).toEqual([]);
    // keys survive a reopen (taken from the records)
    await l.close();
    log = new AppendLog<Rec>({ file, limit: 1000, keyOf: (r) => r.k });
    expect((await log.list({ key: 'mine', limit: 3 })).items.map((r) => r.n)).toEqual([36, 32, 28]);
  });

  it('reads while compactions replace the file return the right record every time', async () => {
    log = new AppendLog<Rec>({ file, limit: 20 });
    const l = log;
    let appended = 0;
    let checked = 0;
    const writer = (async () => {
      for (let round = 0; round < 30; round++) {
        await Promise.all(Array.from({ length: 15 }, () => l.append({ id: `r${appended}`, n: appended++ })));
      }
    })();
    const readers = Array.from({ length: 4 }, async () => {
      while (appended < 450) {
        const n = Math.max(0, appended - 1 - Math.floor(Math.random() * 10));
        const got = await l.get(`r${n}`);
        if (got !== undefined) {
          expect(got).toEqual({ id: `r${n}`, n });
          checked++;
        }
        for (const r of (await l.list({ limit: 5 })).items) expect(r.id).toBe(`r${r.n}`);
        await new Promise((resolve) => setImmediate(resolve));
      }
    });
    await Promise.all([writer, ...readers]);
    expect(checked).toBeGreaterThan(50);
    const lines = await fileRecords();
    expect(lines.length).toBeLessThan(450); // compactions did happen
    expect(await l.get('r449')).toEqual({ id: 'r449', n: 449 });
  });

  it('a removal while readers wait leaves no file and answers no record', async () => {
    log = new AppendLog<Rec>({ file, limit: 1000 });
    const l = log;
    for (let n = 0; n < 20; n++) await l.append({ id: `r${n}`, n });
    await l.close(); // the next read has to open the file again
    const reads = Array.from({ length: 20 }, (_, n) => l.get(`r${n}`));
    await l.remove();
    for (const got of await Promise.all(reads))
      expect(got === undefined || got.id === `r${got.n}`).toBe(true);
    expect(await l.get('r3')).toBeUndefined();
    expect((await l.list({ limit: 10 })).items).toEqual([]);
    await expect(readFile(file)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('a file changed outside flowsafe is refused, never read as another record', async () => {
    log = new AppendLog<Rec>({ file, limit: 1000 });
    await log.append({ id: 'aa', n: 1 });
    await log.append({ id: 'bb', n: 2 });
    // another program rewrites the file with the two lines swapped (same lengths)
    const { writeFileSync } = await import('node:fs');
    writeFileSync(file, '{"id":"bb","n":2}\n{"id":"aa","n":1}\n');
    await expect(log.get('aa')).rejects.toMatchObject({ code: 'STORE_FILE_INVALID' });
  });
});
