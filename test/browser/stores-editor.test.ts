// The secret-store screens against a REAL flowsafe server (child process, temp data dir), a
// local Vault stand-in and a local echo upstream, in Debian's chromium: add a store and test
// its connection, edit it without ever seeing its token, create a secret kept in the store,
// see where it lives in the API block's dropdown, run a flow with it, switch the project's
// requireAllowedHosts policy on and meet the 422 on save, see a run refused by the egress
// guard with the variable to set, and the store's delete dialog listing the secrets that use
// it. Neither the fetched value nor the store token ever reaches the browser.
import { randomBytes } from 'node:crypto';
import type { Page, Response } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startVaultStandIn } from '@flowsafe/secret-stores';
import type { VaultStandIn } from '@flowsafe/secret-stores';
import { apiClient, startServer } from '../utils/server-process';
import type { ServerProcess } from '../utils/server-process';
import { launchBrowser } from './browser';
import type { LaunchedBrowser } from './browser';
import { startUpstream } from './upstream';
import type { Upstream } from './upstream';

const VALUE = `vault_cnry_${randomBytes(10).toString('hex')}`;
const VAULT_TOKEN = `hvs.cnry_${randomBytes(10).toString('hex')}`;
const SECRET = 'ZD_EXTERNAL';

let server: ServerProcess;
let upstream: Upstream;
let vault: VaultStandIn;
let browser: LaunchedBrowser;
let page: Page;
let projectId = '';
let flowId = '';
let guardFlowId = '';
const responses: { url: string; body: string }[] = [];
const pending: Promise<void>[] = [];

describe('secret stores in the editor (real server, Vault stand-in, chromium)', () => {
  beforeAll(async () => {
    [server, upstream, vault] = await Promise.all([
      startServer(),
      startUpstream(),
      startVaultStandIn({ tokens: [VAULT_TOKEN] }),
    ]);
    vault.setSecret('zendesk', { token: VALUE });
    const call = apiClient(server.url, server.token);
    const me = await call<{ workspaces: { id: string }[] }>('GET', '/api/me');
    const ws = me.body.workspaces[0]?.id ?? '';
    const project = await call<{ id: string }>('POST', `/api/workspaces/${ws}/projects`, { name: 'Support' });
    projectId = project.body.id;
    const flow = (name: string, url: string, headers: Record<string, string> = {}) =>
      call<{ id: string }>('POST', `/api/projects/${projectId}/flows`, {
        name,
        definition: {
          start: 'api1',
          blocks: [{ id: 'api1', type: 'api', config: { method: 'GET', url, headers, saveAs: 'out' } }],
        },
      });
    guardFlowId = (await flow('Metadata probe', 'http://127.0.0.2:9/latest/meta-data')).body.id;
    browser = await launchBrowser();
    browser.context.on('response', (r: Response) => {
      pending.push(
        r.body().then(
          (b) => void responses.push({ url: r.url(), body: b.toString('utf8') }),
          () => undefined,
        ),
      );
    });
    page = await browser.context.newPage();
    await page.goto(server.url);
    await page.getByTestId('token-input').fill(server.token);
    await page.getByTestId('signin-button').click();
    await page.getByTestId('whoami').waitFor();
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    await Promise.all([server?.stop(), upstream?.close(), vault?.close()]);
  });

  it('adds a Vault store, tests the connection, and edits it without showing the token', async () => {
    await page.getByTestId('nav-stores').click();
    await page.getByTestId('stores-page').waitFor();
    await page.getByTestId('new-store').click();
    await page.getByTestId('store-name').fill('vault-prod');
    await page.getByTestId('store-address').fill(vault.url);
    await page.getByTestId('store-token').fill(VAULT_TOKEN);
    await page.getByTestId('store-cache').fill('60');
    await page.getByTestId('store-save').click();
    await page.getByTestId('store-row-vault-prod').waitFor();
    expect(await page.getByTestId('store-row-vault-prod').textContent()).toContain('token set');

    await page.getByTestId('store-test-vault-prod').click();
    const result = page.getByTestId('store-test-result-vault-prod');
    await expect.poll(async () => result.textContent(), { timeout: 15_000 }).toMatch(/^✓/);

    await page.getByTestId('store-edit-vault-prod').click();
    const token = page.getByTestId('store-token');
    expect(await token.inputValue()).toBe('');
    expect(await token.getAttribute('placeholder')).toMatch(/leave empty to keep/);
    expect(await token.getAttribute('type')).toBe('password');
    await page.getByTestId('store-cache').fill('120');
    await page.getByTestId('store-save').click();
    await page.getByTestId('store-dialog').waitFor({ state: 'detached' });
    await page.getByTestId('store-row-vault-prod').filter({ hasText: '120 s' }).waitFor();
    // the token was kept: the connection still works
    await page.getByTestId('store-test-vault-prod').click();
    await expect.poll(async () => result.textContent(), { timeout: 15_000 }).toMatch(/^✓/);
  }, 60_000);

  it('creates a secret kept in the store and shows where it lives in the dropdown', async () => {
    await page.getByTestId('nav-secrets').click();
    await page.getByTestId('new-secret').click();
    const form = page.getByTestId('secret-form');
    await form.getByTestId('secret-name').fill(SECRET);
    await form.getByTestId('secret-kept-in').selectOption('vault-prod');
    expect(await form.getByTestId('secret-default-value').count()).toBe(0);
    await form.getByTestId('secret-ref').fill('zendesk#token');
    await form.getByTestId('secret-save').click();
    await page.getByTestId(`secret-row-${SECRET}`).waitFor();
    expect(await page.getByTestId(`secret-row-${SECRET}`).textContent()).toContain('restricted');

    const call = apiClient(server.url, server.token);
    const created = await call<{ id: string }>('POST', `/api/projects/${projectId}/flows`, {
      name: 'Zendesk echo',
      definition: {
        start: 'api1',
        blocks: [
          {
            id: 'api1',
            type: 'api',
            config: {
              method: 'GET',
              url: `${upstream.url}/tickets`,
              headers: { Authorization: `Bearer <secret:${SECRET}>` },
              saveAs: 'out',
            },
          },
        ],
      },
    });
    expect(created.status).toBe(201);
    flowId = created.body.id;

    await page.getByTestId('nav-flows').click();
    await page.getByTestId('flow-row').filter({ hasText: 'Zendesk echo' }).getByTestId('open-flow').click();
    await page.getByTestId('flow-editor').waitFor();
    await page.getByTestId('node-api1').click();
    await page.getByTestId('api-url-key').click();
    const home = page.getByTestId('secret-dropdown').getByTestId(`secret-home-${SECRET}`);
    await home.waitFor();
    expect(await home.textContent()).toBe('in vault-prod');
    await page.keyboard.press('Escape');
  }, 60_000);

  it('runs the flow with the value fetched from Vault, scrubbed from the run', async () => {
    await page.getByTestId('tab-runs').click();
    await page.getByTestId('run-env').selectOption('production');
    await page.getByTestId('run-start').click();
    await expect
      .poll(async () => page.getByTestId('run-status').textContent(), { timeout: 30_000 })
      .toBe('succeeded');
    expect(upstream.requests.at(-1)?.headers.authorization).toBe(`Bearer ${VALUE}`);
    const output = (await page.getByTestId('run-output').textContent()) ?? '';
    expect(output).toContain(`[REDACTED:${SECRET}]`);
    expect(output).not.toContain(VALUE);
  }, 60_000);

  it('switches requireAllowedHosts on; saving the flow then answers 422 naming the secret', async () => {
    await page.getByTestId('nav-settings').click();
    const toggle = page.getByTestId('require-allowed-hosts');
    await toggle.waitFor();
    expect(await toggle.isChecked()).toBe(false);
    await toggle.check();
    await page.getByTestId('toast-ok').filter({ hasText: 'allowed hosts' }).first().waitFor();
    const project = await apiClient(server.url, server.token)<{ policy: { requireAllowedHosts: boolean } }>(
      'GET',
      `/api/projects/${projectId}`,
    );
    expect(project.body.policy.requireAllowedHosts).toBe(true);

    await page.getByTestId('nav-flows').click();
    await page.getByTestId('flow-row').filter({ hasText: 'Zendesk echo' }).getByTestId('open-flow').click();
    await page.getByTestId('flow-editor').waitFor();
    await page.getByTestId('node-api1').click();
    await page.getByTestId('api-timeout').fill('6000');
    await page.getByTestId('save-flow').click();
    const alert = page.getByTestId('push-protection');
    await alert.waitFor();
    const text = (await alert.textContent()) ?? '';
    expect(text).toContain('requires allowed hosts');
    expect(text).toContain(SECRET);
  }, 60_000);

  it('a run refused by the egress guard shows its message and the variable to set', async () => {
    await page.goto(`${server.url}/#/flows/${guardFlowId}`);
    await page.getByTestId('flow-editor').waitFor();
    await page.getByTestId('tab-runs').click();
    await page.getByTestId('run-env').selectOption('production');
    await page.getByTestId('run-start').click();
    await expect
      .poll(async () => page.getByTestId('run-status').textContent(), { timeout: 30_000 })
      .toBe('failed');
    const stepError = page.getByTestId('step-error');
    expect(await stepError.textContent()).toContain('EGRESS_PRIVATE_ADDRESS');
    expect(await stepError.textContent()).toContain('127.0.0.2');
    expect(await stepError.getByTestId('egress-hint').textContent()).toContain('FLOWSAFE_EGRESS_ALLOW');
  }, 60_000);

  it('the delete dialog lists the secrets that use the store', async () => {
    await page.getByTestId('nav-stores').click();
    await page.getByTestId('store-delete-vault-prod').click();
    const users = page.getByTestId('store-users');
    await users.waitFor();
    expect(await users.textContent()).toContain(SECRET);
    expect(await page.getByTestId('store-delete-confirm').isDisabled()).toBe(true);
    await page.keyboard.press('Escape');
  }, 60_000);

  it('neither the fetched value nor the store token reaches the browser', async () => {
    expect(flowId).not.toBe('');
    const html = await page.content();
    await Promise.all(pending);
    expect(responses.length).toBeGreaterThan(20);
    for (const needle of [
      VALUE,
      VAULT_TOKEN,
      Buffer.from(VALUE).toString('base64'),
      Buffer.from(VAULT_TOKEN).toString('base64'),
    ]) {
      expect(html).not.toContain(needle);
      expect(responses.filter((r) => r.body.includes(needle)).map((r) => r.url)).toEqual([]);
    }
  }, 60_000);
});
