// A real worker process for the worker-lost tests (postgres-queue.test.ts): it takes runs
// from the PostgreSQL queue and never finishes them, so the test can SIGKILL it mid-run.
// Usage: node --import tsx postgres-worker-child.ts <database url> <lostAfterMs>
import { createPostgresQueue } from './postgres-queue';

const [url, lostAfter] = process.argv.slice(2);
if (!url || !lostAfter) throw new Error('usage: postgres-worker-child.ts <database url> <lostAfterMs>');

const queue = createPostgresQueue({
  connectionString: url,
  role: 'worker',
  concurrency: 2,
  lostAfterMs: Number(lostAfter),
  heartbeatMs: 200,
  lookup: async () => undefined,
  execute: (job) => {
    process.stdout.write(`started ${job.runId}\n`);
    return new Promise(() => undefined); // never ends: the test kills this process
  },
});
await queue.start();
process.stdout.write('ready\n');
