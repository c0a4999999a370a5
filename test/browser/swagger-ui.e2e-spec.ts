import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { startApp, type TestApp } from '../helpers/test-app';

/**
 * Swagger UI at /docs, used the way a person would: in headless Chromium (the Debian package; no
 * downloaded browsers), with the service's real response headers (CSP included), authorise with
 * the demo key, "Try it out" on POST /v1/inventory/updates, execute, and read the rendered 200.
 *
 * Twice: at the loopback address the app listens on, and at a non-loopback host name mapped to it
 * (what a real user types). Chromium treats loopback specially (a secure context, exempt from the
 * CSP's upgrade-insecure-requests), so only the second shows what a plain-HTTP deployment gets.
 *
 * Without /usr/bin/chromium the suite fails when CI=true and is skipped with a warning elsewhere.
 */
const CHROMIUM_PATH = '/usr/bin/chromium';
/** Resolved to 127.0.0.1 by Chromium only (--host-resolver-rules); no DNS, no /etc/hosts. */
const PUBLIC_HOST = 'inventory.test';
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  `--host-resolver-rules=MAP ${PUBLIC_HOST} 127.0.0.1`,
];
const ACTION_TIMEOUT_MS = 10_000;

/** Records CSP violations as the page sees them (init scripts are not subject to the page's CSP). */
const RECORD_CSP_VIOLATIONS = `
  window.__cspViolations = [];
  document.addEventListener('securitypolicyviolation', (event) => {
    window.__cspViolations.push(event.effectiveDirective + ' blocked ' + (event.blockedURI || 'inline') + ' (' + event.disposition + ')');
  });
`;

const chromiumInstalled = existsSync(CHROMIUM_PATH);

if (!chromiumInstalled && process.env.CI === 'true') {
  describe('Swagger UI in a browser', () => {
    it('needs Chromium', () => {
      throw new Error(`${CHROMIUM_PATH} is missing and CI=true: the browser test must run. Install the Debian package "chromium" (see .ci/run).`);
    });
  });
} else if (!chromiumInstalled) {
  process.emitWarning(`${CHROMIUM_PATH} is missing: skipping the Swagger UI browser test (install the Debian package "chromium" to run it).`);
  describe.skip('Swagger UI in a browser (skipped: no /usr/bin/chromium)', () => {
    it('authorises with the API key and executes an update', () => undefined);
  });
} else {
  describe('Swagger UI in a browser', () => {
    let browser: Browser;

    beforeAll(async () => {
      browser = await chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS });
    });

    afterAll(async () => {
      await browser?.close();
    });

    it('authorises with the API key and executes an update (at the loopback address)', async () => {
      await withSession(browser, 'loopback', (app) => app.url, tryOutUpdate);
    });

    it(`authorises with the API key and executes an update (at a host name, http://${PUBLIC_HOST})`, async () => {
      await withSession(browser, 'host-name', (app) => `http://${PUBLIC_HOST}:${new URL(app.url).port}`, tryOutUpdate);
    });
  });
}

interface Session {
  readonly page: Page;
  readonly baseUrl: string;
  readonly consoleErrors: string[];
  readonly pageErrors: string[];
  readonly failedRequests: string[];
}

/**
 * A fresh app (fresh demo data: SKU-001 at version 12, quantity 45) and a fresh browser context
 * (no authorisation persisted in localStorage); the page's errors are recorded and must stay empty.
 */
async function withSession(browser: Browser, name: string, baseUrlOf: (app: TestApp) => string, run: (session: Session) => Promise<void>): Promise<void> {
  const app = await startApp();
  let context: BrowserContext | undefined;
  const consoleErrors: string[] = [];
  const pageErrors: string[] = [];
  const failedRequests: string[] = [];
  try {
    context = await browser.newContext({ bypassCSP: false, viewport: { width: 1280, height: 1024 } });
    context.setDefaultTimeout(ACTION_TIMEOUT_MS);
    context.setDefaultNavigationTimeout(ACTION_TIMEOUT_MS);
    await context.addInitScript({ content: RECORD_CSP_VIOLATIONS });
    const page = await context.newPage();
    page.on('console', (message) => {
      if (message.type() === 'error') {
        consoleErrors.push(message.text());
      }
    });
    page.on('pageerror', (error) => pageErrors.push(String(error)));
    page.on('requestfailed', (request) => failedRequests.push(`${request.method()} ${request.url()}: ${request.failure()?.errorText ?? 'failed'}`));
    const session: Session = { page, baseUrl: baseUrlOf(app), consoleErrors, pageErrors, failedRequests };
    try {
      await run(session);

      // Nothing was blocked by the CSP (or anything else), and Swagger UI raised no errors.
      const violations: unknown = await page.evaluate('window.__cspViolations');
      expect(violations).toEqual([]);
      expect(consoleErrors.filter((text) => /Content[- ]Security[- ]Policy/i.test(text))).toEqual([]);
      expect(consoleErrors).toEqual([]);
      expect(pageErrors).toEqual([]);
      expect(failedRequests).toEqual([]);
    } catch (error) {
      const screenshot = join(tmpdir(), `swagger-ui-${name}-failure-${Date.now()}.png`);
      await page.screenshot({ path: screenshot, fullPage: true }).catch(() => undefined);
      console.error(
        [
          `Swagger UI browser test (${name}, ${session.baseUrl}) failed; screenshot: ${screenshot}`,
          `console errors: ${JSON.stringify(consoleErrors, null, 2)}`,
          `page errors: ${JSON.stringify(pageErrors, null, 2)}`,
          `failed requests: ${JSON.stringify(failedRequests, null, 2)}`,
        ].join('\n'),
      );
      throw error;
    }
  } finally {
    await context?.close();
    await app.close();
  }
}

async function tryOutUpdate({ page, baseUrl }: Session): Promise<void> {
  const response = await page.goto(`${baseUrl}/docs`, { waitUntil: 'load' });
  expect(response?.status()).toBe(200);

  // Authorise: the api-key scheme, value "demo".
  await page.locator('button.btn.authorize').click();
  const dialog = page.locator('.dialog-ux .modal-ux');
  await dialog.waitFor();
  const apiKeyAuth = dialog.locator('.auth-container').filter({ has: page.locator('h4 code', { hasText: /^api-key$/ }) });
  await apiKeyAuth.locator('input[type="text"]').fill('demo');
  await apiKeyAuth.locator('button.modal-btn.auth.authorize').click();
  // Authorised: the dialog now offers "Logout" for the scheme.
  await apiKeyAuth.locator('button', { hasText: 'Logout' }).waitFor();
  await apiKeyAuth.locator('button.btn-done').click();
  await dialog.waitFor({ state: 'detached' });
  await page.locator('button.btn.authorize.locked').waitFor();

  // Expand POST /v1/inventory/updates and try it out.
  const operation = page.locator('.opblock.opblock-post').filter({ has: page.locator('.opblock-summary-path[data-path="/v1/inventory/updates"]') });
  expect(await operation.count()).toBe(1);
  await operation.locator('.opblock-summary-control').click();
  await operation.locator('button.try-out__btn').click();

  // The editor starts with the default example; replace it with one carrying a fresh key.
  const editor = operation.locator('textarea.body-param__text');
  expect(await editor.inputValue()).toContain('"idempotencyKey"');
  const body = { storeId: 'store-1', productId: 'SKU-001', delta: 5, version: 12, idempotencyKey: `browser-${randomUUID()}` };
  await editor.fill(JSON.stringify(body, null, 2));
  await operation.locator('button.execute').click();

  // The live response, as rendered (pretty-printed: compare without whitespace).
  const live = operation.locator('.responses-wrapper .live-responses-table .response');
  await live.locator('.response-col_status').filter({ hasText: /^\s*200\s*$/ }).waitFor();
  const responseBody = compact(await live.locator('.response-col_description pre').first().innerText());
  expect(responseBody).toContain('"newQuantity":50');
  expect(responseBody).toContain('"applied":true');
  expect(responseBody).toMatch(/^\{"productId":"SKU-001","newQuantity":50,"newVersion":13,"applied":true,"lastUpdated":"[^"]+"\}$/);

  // The request carried the key (Swagger UI shows the equivalent curl).
  expect(await operation.locator('.curl-command').innerText()).toMatch(/x-api-key: demo/i);
}

/** JSON text without the whitespace of pretty-printing (the strings compared here hold none). */
function compact(text: string): string {
  return text.replace(/\s+/g, '');
}
