import { execFileSync } from 'node:child_process';
import { closeSync, constants, openSync, readSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ChunkWriter } from './chunk-writer';

/** Numbered chunks of about 4 KiB, so that order and completeness can be checked. */
function chunks(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `${String(i).padStart(5, '0')} ${'z'.repeat(4090)}\n`);
}

describe('ChunkWriter', () => {
  let dir: string;
  const fds: number[] = [];
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'flowsafe-chunks-'));
  });
  afterEach(async () => {
    for (const fd of fds.splice(0)) {
      try {
        closeSync(fd);
      } catch {
        // closed by the test
      }
    }
    await rm(dir, { recursive: true, force: true });
  });

  /** A FIFO opened non-blocking at both ends (64 KiB of room on Linux): a reader that is slow. */
  function fifo(): { reader: number; writer: number } {
    const path = join(dir, 'fifo');
    execFileSync('mkfifo', [path]);
    const reader = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
    const writer = openSync(path, constants.O_WRONLY | constants.O_NONBLOCK);
    fds.push(reader, writer);
    return { reader, writer };
  }

  /** Reads until `bytes` have arrived (bounded), giving the event loop a turn between reads. */
  async function readAll(fd: number, bytes: number): Promise<string> {
    const parts: Buffer[] = [];
    let got = 0;
    const buf = Buffer.alloc(65536);
    for (let i = 0; i < 2000 && got < bytes; i++) {
      try {
        const n = readSync(fd, buf, 0, buf.length, null);
        parts.push(Buffer.from(buf.subarray(0, n)));
        got += n;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
        await sleep(2);
      }
    }
    return Buffer.concat(parts).toString('utf8');
  }

  it('writes to a file in order, synchronously', async () => {
    const file = join(dir, 'out.log');
    const fd = openSync(file, 'a');
    fds.push(fd);
    const w = new ChunkWriter(fd);
    const all = chunks(20);
    for (const c of all) w.write(c);
    // nothing waits on the thread pool: the file holds every chunk at once
    expect(await readFile(file, 'utf8')).toBe(all.join(''));
  });

  it('a slow reader: the writer never blocks or throws, keeps a backlog, and delivers everything in order', async () => {
    const { reader, writer } = fifo();
    const w = new ChunkWriter(writer);
    const all = chunks(80); // 320 KiB: five times what the pipe holds
    const t = performance.now();
    for (const c of all) w.write(c);
    expect(performance.now() - t).toBeLessThan(1000); // returned without waiting for the reader
    let flushed: Error | undefined | 'pending' = 'pending';
    w.flush((err) => {
      flushed = err;
    });
    expect(flushed).toBe('pending'); // the backlog is not written yet
    const text = await readAll(reader, all.join('').length);
    expect(text).toBe(all.join(''));
    for (let i = 0; i < 100 && flushed === 'pending'; i++) await sleep(5);
    expect(flushed).toBeUndefined();
    // once drained, writes are synchronous again
    w.write('after\n');
    expect(await readAll(reader, 6)).toBe('after\n');
  });

  it('flushSync (at exit) waits a bounded time for a reader, writes what fits, in order, then gives up', async () => {
    const { reader, writer } = fifo();
    const w = new ChunkWriter(writer);
    const all = chunks(40); // 160 KiB
    for (const c of all) w.write(c);
    await sleep(20); // the backlog's asynchronous writes hit EAGAIN and wait to retry
    // nobody reads: flushSync waits at most its bound, then drops what is left
    const t = performance.now();
    w.flushSync(50);
    expect(performance.now() - t).toBeLessThan(1000);
    const text = await readAll(reader, 200_000);
    expect(all.join('').startsWith(text)).toBe(true); // a prefix, in order, nothing garbled
    expect(text.length).toBeGreaterThan(0);
    expect(text.length).toBeLessThan(all.join('').length);
    // given up: later writes are dropped without an error
    w.write('dropped\n');
    expect(await readAll(reader, 1)).toBe('');
  });

  it('a reader that went away (EPIPE): the writer gives up quietly, and flush answers', async () => {
    const { reader, writer } = fifo();
    const w = new ChunkWriter(writer);
    closeSync(reader);
    expect(() => w.write('nobody reads this\n')).not.toThrow();
    expect(() => w.write('nor this\n')).not.toThrow();
    const answered = await new Promise<boolean>((resolve) => w.flush(() => resolve(true)));
    expect(answered).toBe(true);
  });
});
