// Builds the `flowsafe` command into dist/cli.js: the @flowsafe/* workspace packages (TypeScript
// sources) are bundled in, third-party dependencies stay external and load from node_modules.
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
});
