// One vitest run over every package, app and cross-package test. isolated-vm asks for
// --no-node-snapshot in every process that loads it, so the forks pool passes it on.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: [
      'packages/*/src/**/*.test.ts',
      'apps/server/src/**/*.test.ts',
      'apps/editor/src/**/*.test.ts',
      'test/**/*.test.ts',
    ],
    pool: 'forks',
    execArgv: ['--no-node-snapshot'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    maxWorkers: process.env.CI ? 2 : 2,
  },
});
