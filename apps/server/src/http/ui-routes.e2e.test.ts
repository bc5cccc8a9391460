import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../testing/test-server.js';
import { UI_SECURITY_HEADERS } from './ui-routes.js';

/**
 * `/ui` over HTTP from a folder laid out as `vite build` leaves it (a stand-in: the test does
 * not depend on the dashboard's build): the files, `index.html` for every other path, the
 * caching, the security headers, no token needed; and 404 naming `pnpm build` without one.
 */

const INDEX =
  '<!doctype html><title>Hodei</title><script type="module" src="/ui/assets/app-1a2b3c.js"></script>';
const SCRIPT = 'console.log("hodei");';

const expectSecurityHeaders = (r: Response) => {
  for (const [name, value] of Object.entries(UI_SECURITY_HEADERS))
    expect(r.headers.get(name), name).toBe(value);
};

describe('the dashboard at /ui', () => {
  let dir: string;
  let t: TestServer;
  let bare: TestServer;
  let off: TestServer;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'hodei-ui-'));
    await mkdir(join(dir, 'assets'));
    await writeFile(join(dir, 'index.html'), INDEX);
    await writeFile(join(dir, 'assets', 'app-1a2b3c.js'), SCRIPT);
    await writeFile(join(dir, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
    await writeFile(join(dir, '.secret'), 'no');
    t = await startTestServer({}, { dashboardDir: dir });
    bare = await startTestServer({}, { dashboardDir: join(dir, 'missing') });
    off = await startTestServer({ HODEI_UI_ENABLED: 'false' }, { dashboardDir: dir });
  });

  afterAll(async () => {
    await t?.stop();
    await bare?.stop();
    await off?.stop();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it('serves index.html at /ui, /ui/ and any page-like path, uncached, without a token', async () => {
    for (const path of ['/ui', '/ui/', '/ui/workers/w-1', '/ui/fleet']) {
      const r = await fetch(`${t.url}${path}`);
      expect(r.status, path).toBe(200);
      expect(r.headers.get('content-type'), path).toMatch(/^text\/html/);
      expect(r.headers.get('cache-control'), path).toBe('no-cache');
      expectSecurityHeaders(r);
      expect(await r.text()).toBe(INDEX);
    }
  });

  it('serves the built files, the hashed ones cached for a year', async () => {
    const script = await fetch(`${t.url}/ui/assets/app-1a2b3c.js`);
    expect(script.status).toBe(200);
    expect(script.headers.get('content-type')).toMatch(/javascript/);
    expect(script.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expectSecurityHeaders(script);
    expect(await script.text()).toBe(SCRIPT);
    const icon = await fetch(`${t.url}/ui/favicon.svg`);
    expect(icon.status).toBe(200);
    expect(icon.headers.get('content-type')).toMatch(/^image\/svg\+xml/);
    expect(icon.headers.get('cache-control')).toBe('no-cache');
  });

  it('answers 404, not index.html, for a missing asset or any missing file with an extension', async () => {
    for (const path of [
      '/ui/assets/gone.js',
      '/ui/assets/gone',
      '/ui/assets/',
      '/ui/gone.css',
      '/ui/workers/w-1.map',
      '/ui/.secret',
    ]) {
      const r = await fetch(`${t.url}${path}`);
      expect(r.status, path).toBe(404);
      expect(r.headers.get('content-type'), path).toMatch(/^application\/json/);
      expectSecurityHeaders(r);
      expect(await r.text(), path).not.toBe(INDEX);
    }
  });

  it('never serves a file outside its folder', async () => {
    for (const path of ['/ui/%2e%2e/%2e%2e/package.json', '/ui/..%2f..%2fpackage.json']) {
      const r = await fetch(`${t.url}${path}`);
      if (r.status === 200) expect(await r.text(), path).toBe(INDEX);
      else expect(r.status, path).toBeGreaterThanOrEqual(400);
    }
  });

  it('answers 404 naming pnpm build when the dashboard is not built, and still serves the API', async () => {
    const r = await fetch(`${bare.url}/ui/`);
    expect(r.status).toBe(404);
    expectSecurityHeaders(r);
    const body = (await r.json()) as { error: string; message: string };
    expect(body.error).toBe('DashboardNotBuilt');
    expect(body.message).toContain('pnpm build');
    expect((await bare.api('GET', '/v1/workers')).status).toBe(200);
  });

  it('serves no /ui with HODEI_UI_ENABLED=false: 404 NotFound as any unknown route', async () => {
    for (const path of ['/ui', '/ui/', '/ui/assets/index.js']) {
      const r = await fetch(`${off.url}${path}`);
      expect(r.status).toBe(404);
      expect(await r.json()).toEqual({ error: 'NotFound', message: `no route GET ${path}` });
      expect((await off.api('GET', path)).status).toBe(404);
    }
    // Only the dashboard's paths: another unknown path still needs the token first.
    expect((await fetch(`${off.url}/uix`)).status).toBe(401);
  });

  it('keeps /ui out of the OpenAPI document', async () => {
    const doc = (await t.api('GET', '/openapi.json', { token: null })).body as {
      paths: Record<string, unknown>;
    };
    expect(Object.keys(doc.paths).filter((p) => p.startsWith('/ui'))).toEqual([]);
  });
});
