// Builds the `flowsafe` command into dist/cli.js: the @flowsafe/* workspace packages (TypeScript
// sources) and what they import are bundled in; the server's own dependencies (express, pino,
// undici, isolated-vm with its native addon, ...) stay external and load from node_modules.
// CommonJS code pulled into the ESM bundle (pg, graphile-worker) calls require() for Node
// built-ins, so the banner gives the bundle a real require.
import { defineConfig } from 'tsup';

export default defineConfig({
  entry: { cli: 'src/cli.ts' },
  outDir: 'dist',
  format: ['esm'],
  platform: 'node',
  target: 'node22',
  bundle: true,
  noExternal: [/^@flowsafe\//],
  splitting: false,
  sourcemap: true,
  clean: true,
  banner: {
    js: "import { createRequire as __flowsafeCreateRequire } from 'node:module'; const require = __flowsafeCreateRequire(import.meta.url);",
  },
});
