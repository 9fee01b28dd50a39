// `pnpm bench`: runs every benchmark one after another (never in parallel: they measure
// ratios against baselines taken in the same run, and two at once would disturb both),
// echoes their output, and prints one JSON line with the last line of each.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const scripts = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).scripts;
const names = Object.keys(scripts)
  .filter((s) => s.startsWith('bench:'))
  .map((s) => s.slice('bench:'.length))
  .filter((n) => process.argv.length <= 2 || process.argv.slice(2).includes(n));

const results = {};
let failed = 0;
for (const name of names) {
  process.stderr.write(`\n== bench:${name}\n`);
  const run = spawnSync('pnpm', ['run', '--silent', `bench:${name}`], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  process.stderr.write(run.stdout ?? '');
  const last = (run.stdout ?? '').trim().split('\n').pop() ?? '';
  try {
    results[name] = JSON.parse(last);
  } catch {
    results[name] = { error: `exit ${run.status}: no JSON line` };
    failed++;
  }
}
console.log(JSON.stringify({ bench: 'all', results }));
process.exit(failed ? 1 : 0);
