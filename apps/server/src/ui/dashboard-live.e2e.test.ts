import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, TEST_TOKEN, type TestServer } from '../testing/test-server.js';

/**
 * The dashboard's live parts under stress, in headless Chromium against a real server on the
 * simulated cluster: the first page stays bounded while workers keep coming, its rows follow
 * state changes and cleanups, and a server restart (sessions live in memory) takes the page
 * back to the sign-in, on the route it showed, instead of "Not live" for good.
 */

const DASHBOARD_INDEX = fileURLToPath(
  new URL('../../../dashboard/dist/index.html', import.meta.url),
);
const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
/** A hang guard for waits, never a claim about speed. */
const WAIT = 30_000;

const agent = (id: string) => ({ id, mode: 'agent', readiness: 'external', image: 'busybox' });

/** A port free now, so a restarted server can listen where the page expects it. */
const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });

describe('the dashboard, live', () => {
  let port: number;
  let t: TestServer;
  let browser: Browser;
  let page: Page;
  const start = () => startTestServer({ HODEI_HTTP_PORT: String(port) });

  beforeAll(async () => {
    if (!existsSync(DASHBOARD_INDEX))
      throw new Error(
        `the dashboard is not built (${DASHBOARD_INDEX} is missing): run \`cd apps/dashboard && npx vite build\``,
      );
    if (!existsSync(CHROMIUM))
      throw new Error(`${CHROMIUM} is missing: run scripts/services.sh up (it installs it)`);
    port = await freePort();
    t = await start();
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_FLAGS });
    page = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
  });

  afterAll(async () => {
    await browser?.close();
    await t?.stop();
  });

  const row = (id: string) => page.locator(`tr[data-worker-id="${id}"]`);

  async function signIn(): Promise<void> {
    await page.getByLabel('API token').fill(TEST_TOKEN);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('[data-live-status="live"]').waitFor({ timeout: WAIT });
  }

  it('updates a fleet row on a state change and on its cleanup', async () => {
    await page.goto(`${t.url}/ui/#/`);
    await signIn();
    await page.getByLabel('Per page').selectOption('5');
    await page.getByText('Page 1: 0 workers').waitFor({ timeout: WAIT });
    expect((await t.api('POST', '/v1/workers', { body: agent('row-a') })).status).toBe(201);
    await row('row-a').waitFor({ timeout: WAIT });
    expect((await t.api('POST', '/v1/workers/row-a/ready')).status).toBe(200);
    await expect
      .poll(() => row('row-a').locator('[data-cell="state"]').textContent(), { timeout: WAIT })
      .toBe('ready');
    expect((await t.api('DELETE', '/v1/workers/row-a?wait=true')).status).toBeLessThan(300);
    await expect
      .poll(() => row('row-a').textContent(), { timeout: WAIT })
      .toContain('(cleaned up)');
  });

  it('keeps the first page at its size and says how many new workers wait beyond it', async () => {
    await page.getByRole('button', { name: 'Reload', exact: true }).first().click();
    await page.getByText('Page 1: 0 workers').waitFor({ timeout: WAIT });
    for (let i = 0; i < 12; i++)
      expect((await t.api('POST', '/v1/workers', { body: agent(`many-${i}`) })).status).toBe(201);
    const notice = page.locator('[data-new-workers]');
    await expect.poll(() => notice.getAttribute('data-new-workers'), { timeout: WAIT }).toBe('7');
    expect(await notice.textContent()).toMatch(/^7 new workers — Reload$/);
    expect(await page.locator('tr[data-worker-id]').count()).toBe(5);
  });

  it('reads a viewed worker once per burst of its events, not once per event', async () => {
    expect((await t.api('POST', '/v1/workers', { body: agent('burst') })).status).toBe(201);
    expect((await t.api('POST', '/v1/workers/burst/ready')).status).toBe(200);
    await page.goto(`${t.url}/ui/#/workers/burst`);
    await page.locator('h1 .badge', { hasText: 'ready' }).waitFor({ timeout: WAIT });
    // Each read of the worker is held until the burst is over: a read per event would pile up.
    let release = () => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    const reads: string[] = [];
    await page.route(`${t.url}/v1/workers/burst`, async (route) => {
      reads.push(route.request().method());
      await gate;
      await route.continue();
    });
    try {
      for (let i = 0; i < 5; i++) {
        expect((await t.api('POST', '/v1/workers/burst/busy')).status).toBe(200);
        expect((await t.api('POST', '/v1/workers/burst/ready')).status).toBe(200);
      }
      const busy = page.locator('[data-event-type="WorkerEphemeralBusy"]');
      await expect.poll(() => busy.count(), { timeout: WAIT }).toBe(5);
      await expect
        .poll(() => page.locator('[data-event-type="WorkerEphemeralReady"]').count(), {
          timeout: WAIT,
        })
        .toBe(6);
      // The timeline has all ten events; one read is under way, the next waits for it.
      expect(reads).toEqual(['GET']);
      release();
      // Then at most one more, for what came while it was under way (none, when the whole
      // burst fell in one frame).
      await page.locator('h1 .badge', { hasText: 'ready' }).waitFor({ timeout: WAIT });
      expect(reads.length).toBeLessThanOrEqual(2);
    } finally {
      // Never leave a held read behind for the next test.
      release();
      await page.unroute(`${t.url}/v1/workers/burst`);
    }
  });

  it('goes back to the sign-in after a restart, on the route it showed', async () => {
    await page.goto(`${t.url}/ui/#/workers/many-0`);
    await page.getByRole('heading', { name: /Worker many-0/, level: 1 }).waitFor({ timeout: WAIT });
    await t.stop();
    t = await start();
    // Sessions live in memory: the new server knows none, and the page learns it.
    await page.getByLabel('API token').waitFor({ timeout: WAIT });
    expect(new URL(page.url()).hash).toBe('#/workers/many-0');
    expect((await t.api('POST', '/v1/workers', { body: agent('many-0') })).status).toBe(201);
    await signIn();
    await page.getByRole('heading', { name: /Worker many-0/, level: 1 }).waitFor({ timeout: WAIT });
  });
});
