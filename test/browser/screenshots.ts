// Regenerates docs/screenshots/*.png: starts a real flowsafe server (built by `pnpm build`)
// with a temp data dir and a local echo upstream, seeds a demo project through the HTTP API,
// and photographs the editor's main screens in headless chromium.
// Run: pnpm build && pnpm --filter @flowsafe/editor screenshots
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { launchBrowser } from './browser';
import { startUpstream } from './upstream';
import { apiClient, REPO_ROOT, startServer } from '../utils/server-process';

const OUT = join(REPO_ROOT, 'docs', 'screenshots');

async function main(): Promise<void> {
  await mkdir(OUT, { recursive: true });
  const [server, upstream] = await Promise.all([startServer(), startUpstream()]);
  const browser = await launchBrowser({ viewport: { width: 1400, height: 860 } });
  try {
    const call = apiClient(server.url, server.token);
    const me = await call<{ workspaces: { id: string }[] }>('GET', '/api/me');
    const ws = me.body.workspaces[0]?.id ?? '';
    const project = await call<{ id: string }>('POST', `/api/workspaces/${ws}/projects`, {
      name: 'Support desk',
    });
    const pid = project.body.id;
    const rnd = () => `demo-${Math.random().toString(36).slice(2, 12)}-value`;
    const secrets = [
      {
        name: 'ZENDESK_TOKEN',
        type: 'text',
        visibility: 'masked',
        value: rnd(),
        environments: { production: rnd() },
        allowedHosts: ['127.0.0.1', '*.zendesk.com'],
        description: 'API token of the support bot',
      },
      {
        name: 'SLACK_LOGIN',
        type: 'basic',
        visibility: 'masked',
        value: { username: 'support-bot', password: rnd() },
        description: 'Basic auth for the Slack bridge',
      },
      {
        name: 'GRAPH_CLIENT',
        type: 'oauth2',
        visibility: 'restricted',
        value: {
          clientId: 'graph-client',
          clientSecret: rnd(),
          tokenUrl: 'https://login.example.com/oauth2/token',
          scope: 'mail.send',
        },
        allowedHosts: ['graph.example.com'],
      },
      {
        name: 'PARTNER_CERT',
        type: 'binary',
        visibility: 'restricted',
        environments: {
          production: {
            base64: Buffer.from(
              `-----BEGIN CERTIFICATE-----\n${rnd()}\n-----END CERTIFICATE-----\n`,
            ).toString('base64'),
            filename: 'partner.pem',
          },
        },
      },
    ];
    for (const s of secrets) {
      const r = await call('POST', `/api/projects/${pid}/secrets`, s);
      if (r.status >= 300) throw new Error(`seeding secret ${s.name}: ${JSON.stringify(r.body)}`);
    }
    await call('PUT', `/api/projects/${pid}/settings/REGION`, {
      value: 'eu',
      environments: { production: 'eu-west' },
    });
    await call('PUT', `/api/projects/${pid}/settings/SUPPORT_EMAIL`, { value: 'help@example.com' });
    const definition = {
      name: 'Create ticket',
      start: 'call',
      variables: { subject: 'Printer on fire', lang: 'en' },
      blocks: [
        {
          id: 'call',
          type: 'api',
          next: 'shape',
          position: { x: 40, y: 160 },
          label: 'Create ticket',
          config: {
            method: 'POST',
            url: `${upstream.url}/api/v2/tickets?lang={{lang}}`,
            headers: { 'X-Api-Key': '<secret:ZENDESK_TOKEN>', 'X-Region': '{{settings.REGION}}' },
            body: {
              type: 'json',
              content: { ticket: { subject: '{{subject}}', requester: '{{settings.SUPPORT_EMAIL}}' } },
            },
            auth: { type: 'basic', secret: 'SLACK_LOGIN' },
            timeoutMs: 10000,
            saveAs: 'ticket',
          },
        },
        {
          id: 'shape',
          type: 'function',
          next: 'check',
          position: { x: 340, y: 160 },
          config: {
            code: '// input holds the flow variables, never a secret value\nconst status = input.ticket.status;\nreturn { ok: status < 300, ticketId: input.ticket.body.echo.url };',
            timeoutMs: 1000,
            memoryMb: 32,
          },
        },
        {
          id: 'check',
          type: 'condition',
          position: { x: 640, y: 160 },
          config: { if: { var: 'ok', op: 'eq', value: true }, then: 'done', else: 'failed' },
        },
        {
          id: 'done',
          type: 'end',
          position: { x: 940, y: 80 },
          config: { output: { ticketId: '{{ticketId}}' } },
        },
        {
          id: 'failed',
          type: 'set',
          next: 'end2',
          position: { x: 940, y: 260 },
          config: { values: { error: 'Ticket not created ({{ticket.status}})' } },
        },
        { id: 'end2', type: 'end', position: { x: 1220, y: 260 }, config: {} },
      ],
    };
    const flow = await call<{ id: string }>('POST', `/api/projects/${pid}/flows`, {
      name: 'Create ticket',
      definition,
    });
    if (flow.status >= 300) throw new Error(`seeding flow: ${JSON.stringify(flow.body)}`);
    await call('POST', `/api/projects/${pid}/flows`, {
      name: 'Nightly sync',
      definition: {
        start: 'get',
        blocks: [
          {
            id: 'get',
            type: 'api',
            position: { x: 40, y: 120 },
            config: {
              method: 'GET',
              url: 'https://graph.example.com/v1/users',
              auth: { type: 'oauth2', secret: 'GRAPH_CLIENT' },
            },
          },
        ],
      },
    });
    for (const env of ['development', 'production'])
      await call('POST', `/api/projects/${pid}/flows/${flow.body.id}/runs`, {
        environment: env,
        input: { subject: 'Printer on fire' },
      });

    const page = await browser.context.newPage();
    const shot = async (name: string, p: Page = page) => {
      await p.waitForTimeout(250);
      await p.screenshot({ path: join(OUT, `${name}.png`) });
      process.stdout.write(`docs/screenshots/${name}.png\n`);
    };
    await page.goto(server.url);
    await page.getByTestId('token-input').fill('x'.repeat(40));
    await shot('01-sign-in');
    await page.getByTestId('token-input').fill(server.token);
    await page.getByTestId('signin-button').click();
    await page.getByTestId('flow-row').first().waitFor();
    await shot('02-flows');

    await page.getByTestId('open-flow').first().click();
    await page.getByTestId('api-form').waitFor();
    await page.waitForTimeout(400);
    await shot('03-flow-editor');
    await page.getByTestId('api-headers-value-1-key').click();
    await page.getByTestId('secret-dropdown').waitFor();
    await shot('04-secret-dropdown');
    await page.keyboard.press('Escape');
    await page.getByTestId('node-shape').click();
    await page.locator('.cm-editor').waitFor();
    await shot('05-function-block');
    await page.getByTestId('tab-runs').click();
    await page.getByTestId('run-history-item').first().click();
    await page.getByTestId('run-view').waitFor();
    await shot('06-run');

    await page.getByTestId('nav-secrets').click();
    await page.getByTestId('secrets-table').waitFor();
    await shot('07-secrets');
    await page.getByTestId('secret-row-ZENDESK_TOKEN').getByTestId('open-secret').click();
    await page.getByTestId('secret-detail').waitFor();
    await shot('08-secret-detail');
    await page.keyboard.press('Escape');
    await page.getByTestId('new-secret').click();
    await page.getByTestId('secret-type').selectOption('oauth2');
    await page.getByTestId('secret-name').fill('CRM_CLIENT');
    await shot('09-secret-form');
    await page.keyboard.press('Escape');

    await page.getByTestId('nav-settings').click();
    await page.getByTestId('settings-table').waitFor();
    await shot('10-settings');
    await page.getByTestId('project-menu').click();
    await page.getByTestId('menu-export').click();
    await shot('11-export');
  } finally {
    await browser.close();
    await Promise.all([server.stop(), upstream.close()]);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
