// The retry path of PostgreSQL mode end to end (issue 16): a flow with `retries: 1`, its run
// in flight on a worker that is killed with SIGKILL while the upstream holds the request. The
// reaper (FLOWSAFE_WORKER_LOST_MS) hands the job back to Graphile Worker, a second worker runs
// it again and it succeeds. The upstream then counted two requests for that run: the first
// from the killed attempt (it reached the upstream before the kill), the second from the
// retry — the documented double call of a retried run, and no other.
import { describe, expect, it } from 'vitest';
import { client, oneCallFlow, startApi, startWorker } from './postgres-cluster';
import { useCluster } from './use-cluster';

const LOST_MS = 3000;

describe('PostgreSQL mode: a retried run', () => {
  const cluster = useCluster({ name: 'retry', upstream: { delayMs: 1500 } });

  it('retries: 1 and a SIGKILLed worker: the run is retried on another worker and succeeds', async () => {
    const { upstream, procs } = cluster();
    const { env, token } = cluster().env({ FLOWSAFE_WORKER_LOST_MS: String(LOST_MS) });
    const api = await startApi(env);
    procs.push(api.proc);
    const call = client(api.url, token);
    const ws = (await call('GET', '/api/me')).body.workspaces[0].id as string;
    const project = (await call('POST', `/api/workspaces/${ws}/projects`, { name: 'Retry' })).body
      .id as string;
    const flow = await call('POST', `/api/projects/${project}/flows`, {
      name: 'one-call',
      definition: oneCallFlow(upstream.url, { retries: 1 }),
    });
    expect(flow.status, JSON.stringify(flow.body)).toBe(201);

    const first = await startWorker(env, 2);
    procs.push(first);
    const started = await call('POST', `/api/projects/${project}/flows/${flow.body.id}/runs`, {
      environment: 'development',
      input: { n: 'r1' },
      waitMs: 0,
    });
    expect(started.status, JSON.stringify(started.body)).toBe(202);
    const runId = started.body.id as string;

    // the first attempt's request has reached the upstream (held there 1.5 s): kill its worker
    const reached = Date.now() + 20_000;
    while (upstream.count() < 1) {
      if (Date.now() > reached) throw new Error(`the run never reached the upstream\n${first.output()}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    first.child.kill('SIGKILL');
    expect(await first.exited).toBe(-1);
    expect(upstream.perKey.get('r1')).toBe(1);

    const second = await startWorker(env, 2);
    procs.push(second);
    const deadline = Date.now() + 60_000;
    let record: { status: string; error?: { code: string }; output?: unknown } = { status: 'queued' };
    while (record.status === 'queued' || record.status === 'running') {
      if (Date.now() > deadline)
        throw new Error(`run still ${record.status}\napi: ${api.proc.output()}\nworker: ${second.output()}`);
      await new Promise((r) => setTimeout(r, 200));
      record = (await call('GET', `/api/projects/${project}/runs/${runId}`)).body;
    }
    expect(record.status, JSON.stringify(record)).toBe('succeeded');
    expect(record.error).toBeUndefined();
    // two requests for this run: the killed attempt's and the retry's, and nothing else
    expect(upstream.perKey.get('r1')).toBe(2);
    expect(upstream.count()).toBe(2);

    expect(await second.stop(20_000)).toBe(0);
    expect(await api.proc.stop(20_000)).toBe(0);
  }, 120_000);
});
