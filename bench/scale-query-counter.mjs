// bench/scale.ts with BENCH_SCALE_COUNT_QUERIES=1 preloads this into every flowsafe process
// (NODE_OPTIONS=--import): it counts the statements each process sends through node-postgres
// (pg.Client#query, so the pool, Graphile Worker and LISTEN connections alike), keyed by the
// first words of their SQL, and writes them to $BENCH_SCALE_COUNT_DIR/<pid>.json on exit.
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const dir = process.env.BENCH_SCALE_COUNT_DIR;
const require = createRequire(path.join(process.cwd(), 'apps/server/package.json'));
const pg = require('pg');
const counts = new Map();
const original = pg.Client.prototype.query;
pg.Client.prototype.query = function query(config, ...rest) {
  const text = typeof config === 'string' ? config : config?.text;
  if (typeof text === 'string') {
    const key = text.replace(/\s+/g, ' ').trim().slice(0, 90);
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return original.call(this, config, ...rest);
};
process.on('exit', () => {
  if (!dir) return;
  const role = process.argv.includes('worker') ? 'worker' : 'api';
  writeFileSync(
    path.join(dir, `${process.pid}.json`),
    JSON.stringify({ role, counts: Object.fromEntries([...counts].sort((a, b) => b[1] - a[1])) }),
  );
});
