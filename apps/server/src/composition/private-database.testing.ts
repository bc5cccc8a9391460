import { startPrivateCluster, type PrivateCluster } from '@hodei/postgres-event-bus/testing';
import {
  spawnServer,
  tempDataDir,
  uniqueProviderId,
  type ServerProcess,
} from '../testing/server-process.js';

/**
 * For the end-to-end tests that stop or break PostgreSQL: each gets a private cluster, so
 * the shared database other tests use never goes down.
 */

/** The advisory lock key of a provider id, as the server takes it. */
export const PROVIDER_LOCK_SQL = 'SELECT pg_try_advisory_lock(1213154373, hashtext($1)) AS locked';

/** Retries `check` every `stepMs` until it passes, for at most `timeoutMs`. */
export async function until(
  check: () => Promise<void>,
  timeoutMs = 15_000,
  stepMs = 50,
): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    try {
      await check();
      return;
    } catch (failure) {
      if (Date.now() > end) throw failure;
      await new Promise((r) => setTimeout(r, stepMs));
    }
  }
}

/** A server child process and the private cluster that is its only database. */
export interface PrivateDatabaseServer {
  readonly cluster: PrivateCluster;
  readonly server: ServerProcess;
}

/**
 * Starts a private cluster and a server on it for `provider`; with `databaseDown` the cluster
 * is stopped first, so the server starts without its database. The cluster is destroyed if
 * the server cannot start, since the caller then holds nothing to clean up.
 */
export async function startOnPrivateDatabase(
  provider: string = uniqueProviderId(),
  options: { readonly databaseDown?: boolean } = {},
): Promise<PrivateDatabaseServer> {
  const cluster = await startPrivateCluster();
  try {
    if (options.databaseDown === true) await cluster.stop('immediate');
    const server = await spawnServer({
      DATABASE_URL: cluster.url,
      HODEI_PROVIDERS: `k8s-stub:${provider}`,
      HODEI_DATA_DIR: await tempDataDir(),
    });
    return { cluster, server };
  } catch (failure) {
    await cluster.destroy();
    throw failure;
  }
}
