// Runs a benchmark on our code as it ships: bench/<name>.ts bundled with esbuild the way tsup
// builds `flowsafe` (apps/server/dist/cli.js: ESM, node22, our packages bundled in, names not
// kept), then executed by plain node. Under tsx every function our code creates at run time
// would also pay esbuild's keepNames wrapper (an Object.defineProperty per closure), which the
// shipped bundle does not have; the baselines (undici, node:crypto) never paid it, so the
// ratios would charge our code for a dev-time tool. Third-party imports stay external and are
// loaded from where each package resolves them (its own node_modules), so the benchmark and
// the code under test share one copy of undici, express, and the rest, exactly as under tsx.
// Usage: node bench/run-built.mjs <name> [args…]   (node flags: NODE_OPTIONS)
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { builtinModules } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const here = path.dirname(fileURLToPath(import.meta.url));
const name = process.argv[2];
if (!name || !/^[a-z0-9_-]+$/.test(name)) {
  console.error('usage: node bench/run-built.mjs <bench name> [args…]');
  process.exit(2);
}
const outDir = path.join(here, '.build');
mkdirSync(outDir, { recursive: true });
const outfile = path.join(outDir, `${name}.mjs`);

const builtins = new Set(builtinModules);

/** Bare imports (and files inside node_modules) stay external, by their resolved path. */
const externals = {
  name: 'externals-by-path',
  setup(b) {
    b.onResolve({ filter: /.*/ }, async (args) => {
      if (args.pluginData === 'inner' || args.kind === 'entry-point') return undefined;
      const bare = !args.path.startsWith('.') && !path.isAbsolute(args.path);
      if (args.path.startsWith('node:') || builtins.has(args.path))
        return { path: args.path, external: true };
      if (bare && args.path.startsWith('@flowsafe/')) return undefined; // ours: bundled in
      const resolved = await b.resolve(args.path, {
        kind: args.kind,
        resolveDir: args.resolveDir,
        pluginData: 'inner',
      });
      if (resolved.errors.length > 0) return { errors: resolved.errors };
      if (bare || resolved.path.includes(`${path.sep}node_modules${path.sep}`))
        return { path: pathToFileURL(resolved.path).href, external: true };
      return undefined;
    });
  },
};

await build({
  entryPoints: [path.join(here, `${name}.ts`)],
  outfile,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node22',
  keepNames: false,
  sourcemap: false,
  logLevel: 'warning',
  plugins: [externals],
  banner: { js: '// built by bench/run-built.mjs; do not edit' },
});

const result = spawnSync(process.execPath, ['--no-node-snapshot', outfile, ...process.argv.slice(3)], {
  stdio: 'inherit',
});
process.exit(result.status ?? 1);
