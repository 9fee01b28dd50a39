// `pnpm bench:editor`: first load of the flow list to interactive in headless chromium
// against a real local flowsafe server (cold cache: a fresh browser context per sample), and
// the gzipped size of the editor's JS (loaded on first load, and all chunks). Baseline in the
// same run: a navigation to /healthz on the same server, so loadRatio shows the editor's
// cost over the bare round trip. Builds the editor and the server first (`pnpm build`, its output
// on stderr), so what is measured is what the checkout ships.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { chromium } from 'playwright-core';
import { CHROMIUM, CHROMIUM_ARGS } from '../test/browser/browser';
import { apiClient, REPO_ROOT, startServer } from '../test/utils/server-process';

const SAMPLES = 7;
const WARMUP = 2;
const ASSETS = join(REPO_ROOT, 'apps', 'editor', 'dist', 'assets');

const gzKb = (file: string) => gzipSync(readFileSync(join(ASSETS, file))).length / 1024;
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? 0;
};
const round = (x: number, d = 1) => Math.round(x * 10 ** d) / 10 ** d;

async function main(): Promise<void> {
  execFileSync('pnpm', ['build'], { cwd: REPO_ROOT, stdio: ['ignore', 2, 2] });
  const server = await startServer();
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  try {
    const call = apiClient(server.url, server.token);
    const me = await call<{ workspaces: { id: string }[] }>('GET', '/api/me');
    const ws = me.body.workspaces[0]?.id ?? '';
    const project = await call<{ id: string }>('POST', `/api/workspaces/${ws}/projects`, { name: 'Bench' });
    for (let i = 0; i < 20; i++) {
      await call('POST', `/api/projects/${project.body.id}/flows`, {
        name: `Flow ${i}`,
        definition: {
          start: 'a',
          blocks: [{ id: 'a', type: 'api', config: { method: 'GET', url: 'https://api.example.com/' } }],
        },
      });
    }

    const loads: number[] = [];
    const baselines: number[] = [];
    const firstLoadJs = new Set<string>();
    for (let i = 0; i < WARMUP + SAMPLES; i++) {
      // baseline: the same server, a bare navigation
      {
        const ctx = await browser.newContext();
        const page = await ctx.newPage();
        const t0 = Date.now();
        await page.goto(`${server.url}/healthz`, { waitUntil: 'load' });
        if (i >= WARMUP) baselines.push(Date.now() - t0);
        await ctx.close();
      }
      const ctx = await browser.newContext();
      // signed in as a user who pasted the token in this tab before (bench only)
      // signed in as a user who pasted the token in this tab before (bench only); the
      // observer notes the time from navigation start until the flow rows are in the DOM
      const init = `sessionStorage.setItem('flowsafe.token', ${JSON.stringify(server.token)});
        sessionStorage.setItem('flowsafe.ws', ${JSON.stringify(ws)});
        sessionStorage.setItem('flowsafe.project', ${JSON.stringify(project.body.id)});
        new MutationObserver((m, obs) => {
          if (document.querySelector('[data-testid="flow-row"]')) { window.__ready = performance.now(); obs.disconnect(); }
        }).observe(document, { childList: true, subtree: true });`;
      await ctx.addInitScript({ content: init });
      const page = await ctx.newPage();
      page.on('response', (r) => {
        const m = /\/assets\/([^/?#]+\.js)$/.exec(r.url());
        if (m?.[1]) firstLoadJs.add(m[1]);
      });
      await page.goto(server.url, { waitUntil: 'commit' });
      await page.getByTestId('flow-row').first().waitFor({ timeout: 30_000 });
      // interactive: the first row's button answers a click
      await page.getByTestId('open-flow').first().click({ trial: true });
      const ready = (await page.evaluate('window.__ready')) as number;
      if (i >= WARMUP) loads.push(ready);
      await ctx.close();
    }

    const all = readdirSync(ASSETS).filter((f) => f.endsWith('.js'));
    const jsKb = [...firstLoadJs].reduce((s, f) => s + gzKb(f), 0);
    const jsKbTotal = all.reduce((s, f) => s + gzKb(f), 0);
    const loadMs = median(loads);
    const baselineMs = median(baselines);
    process.stderr.write(
      `samples loadMs: ${loads.map((x) => round(x)).join(', ')}\nfirst-load chunks: ${[...firstLoadJs].join(', ')}\n`,
    );
    process.stdout.write(
      `${JSON.stringify({
        bench: 'editor',
        loadMs: round(loadMs),
        jsKb: round(jsKb),
        jsKbTotal: round(jsKbTotal),
        baselineMs: round(baselineMs),
        loadRatio: round(loadMs / Math.max(1, baselineMs), 2),
        samples: SAMPLES,
      })}\n`,
    );
  } finally {
    await browser.close();
    await server.stop();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
