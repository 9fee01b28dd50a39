#!/usr/bin/env -S node --no-node-snapshot
// The `flowsafe` command as installed (`pnpm exec flowsafe`, node_modules/.bin/flowsafe): runs
// the bundle `pnpm build` writes to dist/cli.js under `node --no-node-snapshot`, which
// isolated-vm asks for. The flag comes from this shebang (pnpm's bin shim reads it too). This
// file is committed so that `pnpm install` on a fresh clone can link the bin before anything
// is built.
import { existsSync } from 'node:fs';

const cli = new URL('../dist/cli.js', import.meta.url);
if (!existsSync(cli)) {
  process.stderr.write('flowsafe: apps/server/dist/cli.js is missing; run `pnpm build` first\n');
  process.exit(1);
}
await import(cli.href);
