// The editor walk-through against a REAL flowsafe server (child process, temp data dir) and a
// local echo upstream, in Debian's chromium: sign in, create a secret from the dropdown inside
// an API block, build and save a flow, run it, see the scrubbed run, export without values,
// validation and push-protection messages, the editor role sees no Reveal — and the canary
// check: the secret's value appears nowhere in the browser except the one authorised reveal.
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { Page, Response } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient, startServer } from '../utils/server-process';
import type { ServerProcess } from '../utils/server-process';
import { launchBrowser } from './browser';
import type { LaunchedBrowser } from './browser';
import { startUpstream } from './upstream';
import type { Upstream } from './upstream';

const CANARY = `cnry_${randomBytes(12).toString('hex')}`;
const SECRET = 'CANARY_TOKEN';

let server: ServerProcess;
let upstream: Upstream;
let browser: LaunchedBrowser;
let page: Page;
const responses: { url: string; status: number; body: string }[] = [];
const pending: Promise<void>[] = [];

async function signIn(p: Page, token: string): Promise<void> {
  await p.goto(server.url);
  await p.getByTestId('token-input').fill(token);
  await p.getByTestId('signin-button').click();
  await p.getByTestId('whoami').waitFor();
}

describe('editor walk-through (real server, chromium)', () => {
  beforeAll(async () => {
    [server, upstream] = await Promise.all([startServer(), startUpstream()]);
    browser = await launchBrowser();
    browser.context.on('response', (r: Response) => {
      pending.push(
        r.body().then(
          (b) => void responses.push({ url: r.url(), status: r.status(), body: b.toString('utf8') }),
          () => undefined,
        ),
      );
    });
    page = await browser.context.newPage();
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    await Promise.all([server?.stop(), upstream?.close()]);
  });

  it('signs in with a pasted token and creates a project', async () => {
    await signIn(page, server.token);
    expect(page.url()).not.toContain(server.token);
    await page.getByTestId('no-project').getByRole('button', { name: 'Create a project' }).click();
    await page.getByTestId('project-name').fill('Support');
    await page.getByTestId('project-create').click();
    await page.getByTestId('flows-empty').waitFor();
    expect(await page.getByTestId('role-badge').textContent()).toBe('owner');
  }, 60_000);

  it('builds a flow: creates a secret from the dropdown inside an API block, saves', async () => {
    await page.getByTestId('new-flow').click();
    await page.getByTestId('name-input').fill('Echo ticket');
    await page.getByTestId('name-submit').click();
    await page.getByTestId('flow-editor').waitFor();
    await page.getByTestId('api-form').waitFor();

    await page.getByTestId('api-method').selectOption('POST');
    await page.getByTestId('api-url').fill(`${upstream.url}/tickets`);
    await page.getByTestId('api-headers-add').click();
    await page.getByTestId('api-headers-key-0').fill('X-Api-Key');
    await page.getByTestId('api-headers-value-0').click();
    await page.keyboard.type('<');
    const dropdown = page.getByTestId('secret-dropdown');
    await dropdown.waitFor();
    await dropdown.getByTestId('secret-create-inline').click();
    await dropdown.getByTestId('secret-name').fill(SECRET);
    await dropdown.getByTestId('secret-default-value').fill(CANARY);
    await dropdown.getByTestId('secret-description').fill('echo test token');
    await dropdown.getByTestId('secret-save').click();
    await dropdown.waitFor({ state: 'detached' });
    // the caret stays after the inserted reference; leaving the field shows it as a chip
    expect(await page.getByTestId('api-headers-value-0').inputValue()).toBe(`<secret:${SECRET}>`);
    await leaveField(page, 'api-headers-value-0');
    // the reference went in at the caret and renders as a chip, never as a value
    await page.getByTestId('api-headers-value-0-view').getByTestId('secret-chip').waitFor();
    expect(await page.getByTestId('api-headers-value-0-view').textContent()).toContain(SECRET);

    // the 🔑 button beside a field offers the same dropdown; pick the existing secret
    await page.getByTestId('api-query-add').click();
    await page.getByTestId('api-query-key-0').fill('key');
    await page.getByTestId('api-query-value-0-key').click();
    await page.getByTestId('secret-search').fill('canary');
    await page.getByTestId(`secret-option-${SECRET}`).click();
    await leaveField(page, 'api-query-value-0');
    await page.getByTestId('api-query-value-0-view').getByTestId('secret-chip').waitFor();

    await page.getByTestId('api-body-json').click();
    await page.getByTestId('api-saveas').fill('echo');
    await page.getByTestId('save-flow').click();
    await page.getByTestId('toast-ok').filter({ hasText: 'Flow saved' }).waitFor();
    await page
      .getByTestId('node-api1')
      .getByTestId('secret-chip')
      .waitFor({ state: 'detached' })
      .catch(() => undefined);

    const call = apiClient(server.url, server.token);
    const projects = await call<{ items: { id: string }[] }>(
      'GET',
      `/api/workspaces/${await workspaceId()}/projects`,
    );
    const pid = projects.body.items[0]?.id ?? '';
    const flows = await call<{ items: { id: string }[] }>('GET', `/api/projects/${pid}/flows`);
    const flow = await call<{
      definition: {
        blocks: {
          config: { headers: Record<string, string>; query: Record<string, string> };
          position?: unknown;
        }[];
      };
    }>('GET', `/api/projects/${pid}/flows/${flows.body.items[0]?.id}`);
    const block = flow.body.definition.blocks[0];
    expect(block?.config.headers['X-Api-Key']).toBe(`<secret:${SECRET}>`);
    expect(block?.config.query.key).toBe(`<secret:${SECRET}>`);
    expect(block?.position).toBeTruthy();
  }, 90_000);

  it('shows validation errors on the block and the field', async () => {
    await page.getByTestId('api-timeout').fill('999999');
    await page.getByTestId('save-flow').click();
    await page.getByTestId('node-api1').getByTestId('node-error').waitFor();
    const fieldError = page.getByTestId('api-form').getByTestId('field-error').first();
    await fieldError.waitFor();
    expect(await fieldError.textContent()).toMatch(/120000/);
    await page.getByTestId('api-timeout').fill('5000');
    await page.getByTestId('save-flow').click();
    await page.getByTestId('node-api1').getByTestId('node-error').waitFor({ state: 'detached' });
  }, 60_000);

  it('runs the flow against the local upstream and shows the scrubbed run', async () => {
    await page.getByTestId('tab-runs').click();
    await page.getByTestId('run-env').selectOption('production');
    await page.getByTestId('run-start').click();
    const status = page.getByTestId('run-status');
    await expect.poll(async () => status.textContent(), { timeout: 30_000 }).toBe('succeeded');
    // the upstream really received the value…
    expect(upstream.requests.at(-1)?.headers['x-api-key']).toBe(CANARY);
    // …and the run shows the template with a chip and the echoed value masked
    const request = page.getByTestId('step-request');
    expect(await request.textContent()).toContain('POST');
    const output = await page.getByTestId('run-output').textContent();
    expect(output).toContain(`[REDACTED:${SECRET}]`);
    expect(output).not.toContain(CANARY);
    await page.getByTestId('run-history-item').first().waitFor();
  }, 60_000);

  it('refuses to save a literal secret value and says which secret to use (push protection)', async () => {
    await page.getByTestId('tab-block').click();
    await page.getByTestId('api-headers-add').click();
    await page.getByTestId('api-headers-key-1').fill('X-Leak');
    await page.getByTestId('api-headers-value-1').fill(CANARY);
    await page.getByTestId('save-flow').click();
    const alert = page.getByTestId('push-protection');
    await alert.waitFor();
    const text = (await alert.textContent()) ?? '';
    expect(text).toContain(`<secret:${SECRET}>`);
    expect(text).not.toContain(CANARY);
    await page.getByRole('button', { name: 'Remove X-Leak' }).click();
    await page.getByTestId('save-flow').click();
    await alert.waitFor({ state: 'detached' });
    await page.getByTestId('toast-ok').filter({ hasText: 'Flow saved' }).first().waitFor();
  }, 60_000);

  it('exports a bundle with the secret name and no value', async () => {
    await page.getByTestId('project-menu').click();
    await page.getByTestId('menu-export').click();
    expect(await page.getByTestId('export-note').textContent()).toMatch(/not included/);
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByTestId('export-download').click(),
    ]);
    const text = await readFile(await download.path(), 'utf8');
    expect(text).toContain(SECRET);
    expect(text).toContain('flowsafe.project');
    expect(text).not.toContain(CANARY);
    expect(text).not.toContain(Buffer.from(CANARY).toString('base64'));
  }, 60_000);

  it('renames the flow from the list', async () => {
    await page.getByTestId('back-to-flows').click();
    await page.getByTestId('rename-flow').first().click();
    await page.getByTestId('name-input').fill('Echo ticket v2');
    await page.getByTestId('name-submit').click();
    await page.getByTestId('flow-row').filter({ hasText: 'Echo ticket v2' }).waitFor();
  }, 60_000);

  it('reveals the masked value once for the owner (fixed dots before)', async () => {
    await page.getByTestId('nav-secrets').click();
    await page.getByTestId(`secret-row-${SECRET}`).getByTestId('open-secret').click();
    const masked = page.getByTestId('value-row-default').getByTestId('masked-value');
    expect(await masked.textContent()).toBe('••••••••');
    await page.getByTestId('reveal-default').click();
    expect(await page.getByTestId('revealed-value').textContent()).toBe(CANARY);
    await page.getByTestId('hide-default').click();
    await page.getByTestId('revealed-value').waitFor({ state: 'detached' });
    await page.keyboard.press('Escape');
    await page.getByTestId('secret-detail').waitFor({ state: 'detached' });
  }, 60_000);

  it('an editor sees no create, edit, delete or Reveal on secrets; a viewer cannot edit flows', async () => {
    const call = apiClient(server.url, server.token);
    const ws = await workspaceId();
    const editor = await call<{ token: string }>('POST', `/api/workspaces/${ws}/members`, {
      name: 'eddie',
      role: 'editor',
    });
    expect(editor.status).toBe(201);
    const p2 = await browser.context.newPage();
    await signIn(p2, editor.body.token);
    expect(await p2.getByTestId('role-badge').textContent()).toBe('editor');
    await p2.getByTestId('nav-secrets').click();
    await p2.getByTestId(`secret-row-${SECRET}`).waitFor();
    expect(await p2.getByTestId('new-secret').count()).toBe(0);
    expect(await p2.getByTestId('edit-secret').count()).toBe(0);
    expect(await p2.getByTestId('delete-secret').count()).toBe(0);
    await p2.getByTestId('open-secret').click();
    await p2.getByTestId('secret-detail').waitFor();
    expect(await p2.getByTestId('masked-value').count()).toBe(1);
    expect(await p2.locator('[data-testid^="reveal-"]').count()).toBe(0);
    expect(await p2.getByTestId('convert-to-setting').count()).toBe(0);
    await p2.keyboard.press('Escape');
    // editors use secrets in flows but the dropdown offers no create/edit
    await p2.getByTestId('nav-flows').click();
    await p2.getByTestId('open-flow').first().click();
    await p2.getByTestId('api-url-key').click();
    await p2.getByTestId(`secret-option-${SECRET}`).waitFor();
    expect(await p2.getByTestId('secret-create-inline').count()).toBe(0);
    expect(await p2.getByTestId(`secret-edit-${SECRET}`).count()).toBe(0);
    await p2.keyboard.press('Escape');
    await p2.close();

    const viewer = await call<{ token: string }>('POST', `/api/workspaces/${ws}/members`, {
      name: 'vera',
      role: 'viewer',
    });
    const p3 = await browser.context.newPage();
    await signIn(p3, viewer.body.token);
    await p3.getByTestId('open-flow').first().click();
    await p3.getByTestId('flow-editor').waitFor();
    expect(await p3.getByTestId('save-flow').count()).toBe(0);
    expect(await p3.getByTestId('add-api').count()).toBe(0);
    expect(await p3.getByTestId('new-flow').count()).toBe(0);
    await p3.close();
  }, 90_000);

  it('canary: no secret value in page HTML, storage or any response except the one authorised reveal', async () => {
    const html = await page.content();
    expect(html).not.toContain(CANARY);
    const storage = await page.evaluate(() =>
      JSON.stringify({ local: { ...localStorage }, session: { ...sessionStorage } }),
    );
    expect(storage).not.toContain(CANARY);
    await Promise.all(pending);
    const encodings = [
      CANARY,
      Buffer.from(CANARY).toString('base64'),
      Buffer.from(CANARY).toString('base64url'),
    ];
    const leaks = responses.filter((r) => encodings.some((e) => r.body.includes(e)));
    expect(responses.length).toBeGreaterThan(20);
    expect(leaks.map((l) => l.url)).toHaveLength(1);
    expect(leaks[0]?.url).toMatch(new RegExp(`/secrets/${SECRET}/reveal$`));
  }, 60_000);
});

/** Wait until the field has focus again after a pick, then Tab out of it. */
async function leaveField(p: Page, testId: string): Promise<void> {
  await expect
    .poll(() => p.evaluate("document.activeElement && document.activeElement.getAttribute('data-testid')"))
    .toBe(testId);
  await p.keyboard.press('Tab');
}

async function workspaceId(): Promise<string> {
  const me = await apiClient(server.url, server.token)<{ workspaces: { id: string }[] }>('GET', '/api/me');
  return me.body.workspaces[0]?.id ?? '';
}
