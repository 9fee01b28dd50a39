// The isolate reuse policy: pooled per memory limit, leased exclusively, disposed isolates never
// handed out again, recycled after maxCallsPerIsolate, waiting when maxIsolates are leased.
import { afterEach, describe, expect, it } from 'vitest';
import { IsolatePool } from './isolate-pool';

const pools: IsolatePool[] = [];
function pool(options: ConstructorParameters<typeof IsolatePool>[0] = {}): IsolatePool {
  const created = new IsolatePool(options);
  pools.push(created);
  return created;
}
afterEach(() => {
  for (const p of pools.splice(0)) p.close();
});

describe('IsolatePool', () => {
  it('reuses an idle isolate of the same memory limit, not of another', async () => {
    const p = pool();
    const a = await p.acquire(32);
    p.release(a, true);
    const b = await p.acquire(32);
    expect(b).toBe(a);
    const c = await p.acquire(64);
    expect(c).not.toBe(a);
    p.release(b, true);
    p.release(c, true);
    expect(p.stats()).toMatchObject({ idle: 2, leased: 0, created: 2 });
  });

  it('never hands out a disposed isolate', async () => {
    const p = pool();
    const a = await p.acquire(32);
    p.release(a, true);
    a.isolate.dispose(); // e.g. isolated-vm disposed it after a memory limit
    const b = await p.acquire(32);
    expect(b).not.toBe(a);
    expect(b.disposed).toBe(false);
  });

  it('disposes an isolate released as not reusable (a limit was hit)', async () => {
    const p = pool();
    const a = await p.acquire(32);
    p.release(a, false);
    expect(a.disposed).toBe(true);
    expect(p.stats().idle).toBe(0);
  });

  it('recycles an isolate after maxCallsPerIsolate calls', async () => {
    const p = pool({ maxCallsPerIsolate: 3 });
    const first = await p.acquire(32);
    p.release(first, true);
    for (let i = 0; i < 2; i++) p.release(await p.acquire(32), true);
    expect(first.disposed).toBe(true);
    expect((await p.acquire(32)) === first).toBe(false);
  });

  it('keeps at most maxIdlePerSize idle isolates', async () => {
    const p = pool({ maxIdlePerSize: 1 });
    const a = await p.acquire(32);
    const b = await p.acquire(32);
    p.release(a, true);
    p.release(b, true);
    expect(b.disposed).toBe(true);
    expect(p.stats().idle).toBe(1);
  });

  it('makes callers wait while maxIsolates are leased, and honours their abort', async () => {
    const p = pool({ maxIsolates: 1 });
    const a = await p.acquire(32);
    const waiting = p.acquire(32);
    const controller = new AbortController();
    const aborted = p.acquire(32, controller.signal);
    expect(p.stats().waiting).toBe(2);
    controller.abort();
    await expect(aborted).rejects.toMatchObject({ code: 'FUNCTION_CANCELLED' });
    p.release(a, true);
    expect(await waiting).toBe(a);
  });

  it('caches compiled scripts per isolate', async () => {
    const p = pool();
    const lease = await p.acquire(32);
    let compiles = 0;
    const source = () => {
      compiles++;
      return '1 + 1';
    };
    const one = await lease.script('k', source, {});
    const two = await lease.script('k', source, {});
    expect(two).toBe(one);
    expect(compiles).toBe(1);
    const context = await lease.isolate.createContext();
    expect(await one.run(context)).toBe(2);
    context.release();
    p.release(lease, true);
  });

  it('close() disposes everything and refuses new leases', async () => {
    const p = pool();
    const a = await p.acquire(32);
    const b = await p.acquire(32);
    p.release(a, true);
    p.close();
    expect(a.disposed).toBe(true);
    expect(b.disposed).toBe(true);
    await expect(p.acquire(32)).rejects.toMatchObject({ code: 'SANDBOX_CLOSED' });
  });
});
