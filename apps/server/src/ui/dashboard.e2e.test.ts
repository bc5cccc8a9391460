import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DockerConnection } from '@hodei/docker-adapter';
import { requireTestDocker } from '@hodei/docker-adapter/testing';
import {
  chromium,
  type Browser,
  type BrowserContext,
  type ConsoleMessage,
  type Page,
} from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createTestDatabase,
  removeContainersOf,
  tempDataDir,
  type TestDatabase,
} from '../testing/server-process.js';
import {
  eventually,
  startTestServer,
  TEST_TOKEN,
  type TestServer,
} from '../testing/test-server.js';
import { dockerEnvOfRun } from '../testing/docker-env.js';

/**
 * The dashboard in headless Chromium against a real server: the Docker provider on the real
 * engine, events in PostgreSQL. One browser session walks through it in order: sign-in,
 * the fleet updated live, a worker's timeline, its actions, a reload, a delete, its history
 * after cleanup. Timings are printed, never asserted: "live" is shown by the absence of any
 * reload or list request.
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

/** An agent that prints a line, then waits and ends at once on SIGTERM. */
const GREETING = 'hello from the dashboard test';
const AGENT = ['sh', '-c', `echo "${GREETING}"; trap "exit 0" TERM; sleep 3600 & wait`];

interface Logged {
  readonly type: string;
  readonly text: string;
  readonly url: string;
}

interface Request {
  readonly method: string;
  readonly url: URL;
  readonly resourceType: string;
}

/**
 * The only console errors the app causes by design: the browser logs every 401 it receives,
 * and a signed-out page asks `GET /v1/session` (401) and a wrong token is refused (401).
 */
const expectedConsoleError = (m: Logged): boolean =>
  m.type === 'error' &&
  /status of 401/.test(m.text) &&
  new URL(m.url, 'http://x').pathname === '/v1/session';

describe('the dashboard in a real browser', () => {
  let t: TestServer;
  let db: TestDatabase;
  let docker: DockerConnection['docker'];
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let shotDir: string;
  const providerId = `ui-${randomBytes(4).toString('hex')}`;
  const workerId = `ui-agent-${randomBytes(3).toString('hex')}`;
  const logged: Logged[] = [];
  const requests: Request[] = [];

  beforeAll(async () => {
    if (!existsSync(DASHBOARD_INDEX))
      throw new Error(
        `the dashboard is not built (${DASHBOARD_INDEX} is missing): run \`pnpm build\` at the root, or \`cd apps/dashboard && npx vite build\``,
      );
    if (!existsSync(CHROMIUM))
      throw new Error(`${CHROMIUM} is missing: run scripts/services.sh up (it installs it)`);
    docker = (await requireTestDocker()).docker;
    db = await createTestDatabase();
    t = await startTestServer({
      HODEI_PROVIDERS: `docker:${providerId}`,
      DATABASE_URL: db.url,
      HODEI_DATA_DIR: await tempDataDir(),
      // The default for a database: events kept in PostgreSQL (and the history read there).
      HODEI_EVENT_PUBLISHER: undefined,
      HODEI_GC_INTERVAL_SECONDS: '1',
      HODEI_RECONCILE_INTERVAL_SECONDS: '1',
      ...dockerEnvOfRun(),
    });
    shotDir = await mkdtemp(join(tmpdir(), 'hodei-dashboard-shots-'));
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_FLAGS });
    context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    context.on('console', (m: ConsoleMessage) => {
      if (m.type() === 'error' || m.type() === 'warning')
        logged.push({ type: m.type(), text: m.text(), url: m.location().url });
    });
    context.on('weberror', (e) =>
      logged.push({ type: 'pageerror', text: e.error().message, url: '' }),
    );
    context.on('request', (r) =>
      requests.push({ method: r.method(), url: new URL(r.url()), resourceType: r.resourceType() }),
    );
    page = await context.newPage();
  });

  afterAll(async () => {
    await browser?.close();
    await t?.stop();
    if (docker !== undefined) await removeContainersOf(docker, [providerId]);
    await db?.drop();
  });

  const statusLine = () => page.locator('[data-status-line]');
  const containersOf = (id: string) =>
    docker.listContainers({ all: true, filters: { label: [`hodei.worker-id=${id}`] } });

  /** Presses Tab until `selector` has the focus (a hang guard bounds the presses). */
  async function tabTo(selector: string): Promise<void> {
    for (let i = 0; i < 60; i++) {
      if (await page.locator(selector).evaluate((el) => el === el.ownerDocument.activeElement))
        return;
      await page.keyboard.press('Tab');
    }
    throw new Error(`Tab never reached ${selector}`);
  }

  // In-page code is given as text: this package's types have no DOM.
  /** The focused element's outline (the :focus-visible style draws one). */
  const focusOutline = () =>
    page.evaluate<string>(
      `(() => { const s = getComputedStyle(document.activeElement); return s.outlineStyle + ' ' + s.outlineWidth; })()`,
    );

  it('refuses a wrong token and says so', async () => {
    await page.goto(`${t.url}/ui/`);
    await page.getByLabel('API token').waitFor({ timeout: WAIT });
    await page.getByLabel('API token').fill('not-the-token-at-all');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect
      .poll(() => page.getByRole('alert').textContent(), { timeout: WAIT })
      .toContain('refused (401)');
    expect(await page.getByRole('heading', { name: 'Sign in' }).isVisible()).toBe(true);
    expect((await context.cookies()).map((c) => c.name)).not.toContain('hodei_session');
  });

  it('signs in with the keyboard alone, into an HttpOnly cookie and nothing else', async () => {
    await page.getByLabel('API token').fill('');
    await page.locator('body').focus();
    await tabTo('#token');
    expect(await focusOutline()).not.toMatch(/^none/);
    await page.keyboard.type(TEST_TOKEN);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Fleet', level: 1 }).waitFor({ timeout: WAIT });
    const cookie = (await context.cookies()).find((c) => c.name === 'hodei_session');
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/' });
    const stored = await page.evaluate<{
      local: number;
      session: number;
      cookie: string;
      url: string;
    }>(
      `({ local: localStorage.length, session: sessionStorage.length, cookie: document.cookie, url: location.href })`,
    );
    expect(stored).toMatchObject({ local: 0, session: 0, cookie: '' });
    expect(stored.url).not.toContain(TEST_TOKEN);
    expect(requests.some((r) => r.url.href.includes(TEST_TOKEN))).toBe(false);
  });

  it('shows a worker created through the API without a reload or a list request', async () => {
    await page.locator('[data-live-status="live"]').waitFor({ timeout: WAIT });
    // The page as loaded: a marker a reload would lose, and the requests so far.
    await page.evaluate(`window.loadedOnce = 'yes'`);
    const before = requests.length;
    const started = Date.now();
    const created = await t.api('POST', '/v1/workers', {
      body: {
        id: workerId,
        mode: 'agent',
        readiness: 'container',
        command: AGENT,
        policy: { ttlAfterCompletionSeconds: 1, gracefulTerminationTimeoutSeconds: 5 },
      },
    });
    const answered = Date.now();
    expect(created.status).toBe(201);
    await page.locator(`tr[data-worker-id="${workerId}"]`).waitFor({ timeout: WAIT });
    const shown = Date.now();
    console.log(
      `[dashboard e2e] the new worker's row appeared ${shown - started} ms after the POST was sent (${shown - answered} ms after its answer)`,
    );

    const since = requests.slice(before);
    const paths = since.map((r) => `${r.method} ${r.url.pathname}${r.url.search}`);
    // Only the debounced counts and figures were read again: no list, no page, no new stream.
    expect(
      since.filter(
        (r) => r.url.pathname !== '/v1/stats/workers' && r.url.pathname !== '/v1/stats/deadlines',
      ),
      paths.join('\n'),
    ).toEqual([]);
    expect(await page.evaluate<string | undefined>('window.loadedOnce')).toBe('yes');
    const streams = requests.filter((r) => r.url.pathname === '/v1/events');
    expect(streams).toHaveLength(1);
    // The counts follow (the summary is re-read after the event).
    await expect
      .poll(() => page.locator('[data-count="total"]').textContent(), { timeout: WAIT })
      .toBe('1');
  });

  it("fills the worker's timeline as it runs, with the time between events and who acted", async () => {
    await page.getByRole('link', { name: workerId }).click();
    await page.getByRole('heading', { name: `Worker ${workerId}` }).waitFor({ timeout: WAIT });
    const timeline = page.locator('.timeline');
    await timeline.locator('[data-event-type="WorkerEphemeralCreated"]').waitFor({ timeout: WAIT });
    await timeline.locator('[data-event-type="WorkerEphemeralReady"]').waitFor({ timeout: WAIT });
    await page.locator('h1 .badge', { hasText: 'ready' }).waitFor({ timeout: WAIT });

    const before = requests.length;
    const started = Date.now();
    expect((await t.api('POST', `/v1/workers/${workerId}/busy`)).status).toBe(200);
    const busy = timeline.locator('[data-event-type="WorkerEphemeralBusy"]');
    await busy.waitFor({ timeout: WAIT });
    console.log(
      `[dashboard e2e] the Busy event showed in the timeline ${Date.now() - started} ms after the POST`,
    );
    // It came over the stream: the history was not read again.
    expect(requests.slice(before).some((r) => r.url.pathname.endsWith('/events'))).toBe(false);
    expect(await busy.locator('.timeline-gap').textContent()).toMatch(/^\+/);
    expect(await busy.locator('.timeline-actor').textContent()).toBe('by api');
    await page.locator('h1 .badge', { hasText: 'busy' }).waitFor({ timeout: WAIT });
  });

  it('follows the log tail, and stops', async () => {
    await page.getByRole('button', { name: 'Follow' }).click();
    await expect
      .poll(() => page.locator('pre.log').textContent(), { timeout: WAIT })
      .toContain(GREETING);
    await page.getByRole('button', { name: 'Stop following' }).click();
    await page.getByText('Stopped following.').waitFor({ timeout: WAIT });
  });

  it('marks the agent ready with the keyboard alone, and confirms it', async () => {
    await page.locator('#worker-title').focus();
    await tabTo('button:has-text("Mark ready")');
    expect(await focusOutline()).not.toMatch(/^none/);
    await page.keyboard.press('Enter');
    await expect
      .poll(() => statusLine().textContent(), { timeout: WAIT })
      .toBe('Mark ready: done (200); the worker is ready.');
    await page.locator('h1 .badge', { hasText: 'ready' }).waitFor({ timeout: WAIT });
    expect((await t.api('GET', `/v1/workers/${workerId}`)).body.state).toBe('ready');
  });

  it('moves the lifetime deadline on screen when extended', async () => {
    const deadline = page.locator('#deadline-lifetimeAt');
    const before = await deadline.getAttribute('datetime');
    expect(before).toBe((await t.api('GET', `/v1/workers/${workerId}`)).body.deadlines.lifetimeAt);
    await page.getByLabel('Maximum lifetime, in minutes from its creation').fill('90');
    await page.getByRole('button', { name: 'Extend' }).click();
    await expect
      .poll(() => statusLine().textContent(), { timeout: WAIT })
      .toMatch(/^Extend: done \(200\); its lifetime is now 90 minutes/);
    const after = await deadline.getAttribute('datetime');
    const worker = (await t.api('GET', `/v1/workers/${workerId}`)).body;
    expect(worker.policy.maxLifetimeSeconds).toBe(5400);
    expect(after).toBe(worker.deadlines.lifetimeAt);
    expect(after).not.toBe(before);
    await page
      .locator('[data-event-type="WorkerEphemeralPolicyChanged"]', {
        hasText: 'lifetime 30m → 1h 30m',
      })
      .waitFor({ timeout: WAIT });
    // The form's default follows the new lifetime (30 minutes past it), not the one it had.
    await expect
      .poll(() => page.getByLabel('Maximum lifetime, in minutes from its creation').inputValue(), {
        timeout: WAIT,
      })
      .toBe('120');
  });

  it('keeps the session across a reload', async () => {
    await page.reload();
    await page.getByRole('heading', { name: `Worker ${workerId}` }).waitFor({ timeout: WAIT });
    expect(await page.getByLabel('API token').count()).toBe(0);
  });

  it('reads well at 1280×800 and at 390×844 (screenshots)', async () => {
    const shots: string[] = [];
    for (const [width, height] of [
      [1280, 800],
      [390, 844],
    ] as const) {
      await page.setViewportSize({ width, height });
      for (const [name, hash] of [
        ['fleet', '#/'],
        ['worker', `#/workers/${workerId}`],
      ] as const) {
        await page.evaluate(`location.hash = ${JSON.stringify(hash)}`);
        await page
          .locator(name === 'fleet' ? `tr[data-worker-id="${workerId}"]` : '#deadline-lifetimeAt')
          .waitFor({ timeout: WAIT });
        // The page itself never scrolls sideways: wide tables scroll inside their region.
        const overflow = await page.evaluate<number>(
          'document.documentElement.scrollWidth - document.documentElement.clientWidth',
        );
        expect(overflow, `${name} at ${width}×${height}`).toBeLessThanOrEqual(0);
        const path = join(shotDir, `${name}-${width}x${height}.png`);
        await page.screenshot({ path, fullPage: true });
        shots.push(path);
      }
    }
    console.log(`[dashboard e2e] screenshots:\n${shots.join('\n')}`);
    await page.setViewportSize({ width: 1280, height: 800 });
  });

  it('deletes the worker from the page, its container goes, and its history stays readable', async () => {
    await page.getByRole('button', { name: 'Delete…' }).click();
    await page.getByRole('button', { name: 'Yes, delete it' }).click();
    await expect
      .poll(() => statusLine().textContent(), { timeout: WAIT })
      .toBe('Delete: accepted (202); the worker is terminating and will be removed.');
    const left = await eventually(
      () => containersOf(workerId),
      (c) => c.length === 0,
      WAIT,
    );
    expect(left).toEqual([]);
    const timeline = page.locator('.timeline');
    await timeline
      .locator('[data-event-type="WorkerEphemeralTerminated"]')
      .waitFor({ timeout: WAIT });
    await timeline
      .locator('[data-event-type="WorkerEphemeralCleanedUp"]')
      .waitFor({ timeout: WAIT });
    await page.locator('h1 .badge', { hasText: 'cleaned up' }).waitFor({ timeout: WAIT });
    expect(
      await timeline.locator('[data-event-type="WorkerEphemeralTerminating"]').textContent(),
    ).toContain('reason ManualTermination');

    // After cleanup the worker is gone from the API, and the page still reads its history.
    expect((await t.api('GET', `/v1/workers/${workerId}`)).status).toBe(404);
    await page.reload();
    await page.getByText('no longer tracked').waitFor({ timeout: WAIT });
    expect(await timeline.locator('li').count()).toBeGreaterThanOrEqual(6);
  });

  it('logged no console error or warning on any page, but the 401s of signing in', () => {
    const unexpected = logged.filter((m) => !expectedConsoleError(m));
    console.log(
      `[dashboard e2e] console: ${logged.length - unexpected.length} expected 401 line(s) of /v1/session, ${unexpected.length} other`,
    );
    expect(unexpected).toEqual([]);
  });
});
