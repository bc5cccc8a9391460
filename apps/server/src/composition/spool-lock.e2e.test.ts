import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createTestDatabase,
  spawnServer,
  tempDataDir,
  uniqueProviderId,
  type ServerProcess,
  type TestDatabase,
} from '../testing/server-process.js';

/** Two servers on one HODEI_DATA_DIR would write one spool under each other. */
describe('a second server on the same data directory', () => {
  let db: TestDatabase;
  let first: ServerProcess;
  let dataDir: string;

  beforeAll(async () => {
    db = await createTestDatabase();
    dataDir = await tempDataDir();
    first = await spawnServer({
      DATABASE_URL: db.url,
      HODEI_PROVIDERS: `k8s-stub:${uniqueProviderId()}`,
      HODEI_DATA_DIR: dataDir,
    });
  }, 60_000);

  afterAll(async () => {
    await first?.stop();
    await db?.drop();
  });

  it('refuses to start, exits non-zero and names the server holding the spool', async () => {
    const second = spawnServer({
      DATABASE_URL: db.url,
      // Another provider id: only the spool is shared.
      HODEI_PROVIDERS: `k8s-stub:${uniqueProviderId()}`,
      HODEI_DATA_DIR: dataDir,
    });
    const failure = await second.then(
      () => undefined,
      (e: unknown) => String(e),
    );
    expect(failure).toMatch(/server exited \(1\) before listening/);
    expect(failure).toContain(`locked by pid ${first.child.pid}`);
    expect(failure).toContain('HODEI_DATA_DIR');
    // The first one is untouched.
    expect((await first.api('GET', '/healthz')).status).toBe(200);
  }, 60_000);
});
