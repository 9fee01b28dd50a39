// Builds the `flowsafe` command into dist/cli.js. Only the @flowsafe/* workspace packages
// (TypeScript sources) are bundled in; every third-party import stays external and loads from
// apps/server/node_modules at run time (so each one a workspace package uses is also a
// dependency of @flowsafe/server). Bundling them made a 10 MB file and broke packages that
// read files next to their own code (graphile-worker's SQL migrations). The PostgreSQL
// store's migrations are copied to dist/migrations, where the bundled code looks first.
import { cp } from 'node:fs/promises';
import { defineConfig } from 'tsup';

export default defineConfig({
  entry: { cli: 'src/cli.ts' },
  outDir: 'dist',
  format: ['esm'],
  platform: 'node',
  target: 'node22',
  bundle: true,
  noExternal: [/^@flowsafe\//],
  // every bare import that is not ours: package names start with a letter, a digit or @scope/
  external: [/^(?!@flowsafe\/)(@[^/]+\/)?[a-z0-9][^:]*$/],
  splitting: false,
  sourcemap: true,
  clean: true,
  async onSuccess() {
    await cp('../../packages/store-postgres/migrations', 'dist/migrations', { recursive: true });
  },
});
