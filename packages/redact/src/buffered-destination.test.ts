import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { bufferedDestination, createLogger, Redactor } from './index';

describe('bufferedDestination', () => {
  let dir: string;
  let file: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'flowsafe-log-'));
    file = join(dir, 'out.log');
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  const text = () => readFile(file, 'utf8').catch(() => '');
  const flushed = (d: { flush(cb: (err?: Error) => void): void }) =>
    new Promise<void>((resolve, reject) => d.flush((err) => (err ? reject(err) : resolve())));

  it('gathers short lines until flush, in order, and writes a full chunk without waiting', async () => {
    const d = bufferedDestination(file, { minLength: 4096, maxDelayMs: 60_000 });
    for (let i = 0; i < 10; i++) d.write(`line ${i}\n`);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await text()).toBe(''); // 70 bytes: still gathered
    await flushed(d);
    expect((await text()).split('\n').filter(Boolean)).toEqual(
      Array.from({ length: 10 }, (_, i) => `line ${i}`),
    );
    const long = `${'x'.repeat(5000)}\n`;
    d.write(long);
    for (let i = 0; i < 50 && (await text()).length < 70 + long.length; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect((await text()).endsWith(long)).toBe(true); // over minLength: written without a flush
    d.write('tail\n');
    d.flushSync();
    expect((await text()).endsWith('tail\n')).toBe(true);
  });

  it('short lines that add up to minLength are written without a flush, in order', async () => {
    const d = bufferedDestination(file, { minLength: 4096, maxDelayMs: 60_000 });
    const lines = Array.from(
      { length: 100 },
      (_, i) => `line ${String(i).padStart(3, '0')} ${'y'.repeat(40)}\n`,
    );
    for (const line of lines) d.write(line); // 5,000 characters: one chunk goes out
    let seen = '';
    for (let i = 0; i < 100 && seen === ''; i++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
      seen = await text();
    }
    expect(seen).toBe(lines.slice(0, seen.length / lines[0]!.length).join(''));
    expect(seen.length).toBeGreaterThanOrEqual(4096);
    await flushed(d);
    expect(await text()).toBe(lines.join(''));
  });

  it('lines still gathered are written when the process exits', async () => {
    const source = fileURLToPath(new URL('./buffered-destination.ts', import.meta.url));
    // a descriptor (as stdout) and a path; an explicit exit and the end of the event loop
    for (const [target, exit] of [
      [`openSync(${JSON.stringify(file)}, 'a')`, 'process.exit(0)'],
      [JSON.stringify(file), ''],
      [JSON.stringify(file), 'process.exit(3)'],
    ] as const) {
      const script = `import { openSync } from 'node:fs';
        import { bufferedDestination } from ${JSON.stringify(source)};
        const d = bufferedDestination(${target}, { minLength: 4096, maxDelayMs: 60_000 });
        d.write('first\\n'); d.write('last words\\n'); ${exit}`;
      const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script]);
      expect(child.status).toBe(exit === 'process.exit(3)' ? 3 : 0);
      expect(await text()).toBe('first\nlast words\n');
      await rm(file);
    }
  });

  it('a quiet log is written within maxDelayMs', async () => {
    const d = bufferedDestination(file, { minLength: 4096, maxDelayMs: 50 });
    d.write('one line\n');
    let seen = '';
    for (let i = 0; i < 100 && seen === ''; i++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
      seen = await text();
    }
    expect(seen).toBe('one line\n');
  });

  it('invariant 6: lines reach it through the redactor', async () => {
    const r = new Redactor();
    const canary = `canary-buffered-${Math.random().toString(36).slice(2)}`;
    r.add('TOKEN', canary);
    const d = bufferedDestination(file, { maxDelayMs: 60_000 });
    const logger = createLogger(r, { destination: d });
    logger.info({ header: `Bearer ${canary}` }, `sent ${canary}`);
    await new Promise<void>((resolve) => logger.flush(() => resolve()));
    const out = await text();
    expect(out).toContain('[REDACTED:TOKEN]');
    expect(out).not.toContain(canary);
  });
});
