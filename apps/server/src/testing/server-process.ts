import type { DockerConnection } from '@hodei/docker-adapter';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { apiClient, TEST_TOKEN, type Api } from './test-server.js';
import { dockerEnvOfRun } from './docker-env.js';

const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));
export const BASE_DATABASE_URL =
  process.env['DATABASE_URL'] ?? 'postgres://hodei:hodei@127.0.0.1:5432/hodei';

export interface ServerProcess {
  readonly child: ChildProcess;
  readonly url: string;
  /** Everything it wrote to stderr so far. */
  stderr(): string;
  /** Resolves with the exit code (or the signal's name). */
  readonly exited: Promise<number | string>;
  readonly api: Api;
  stop(): Promise<number | string>;
}

/**
 * `hodei serve` in a child process (the built CLI), so tests can kill it with SIGKILL or
 * SIGTERM. Resolves once it listens; rejects with its output if it exits first.
 */
export async function spawnServer(
  env: Record<string, string>,
  timeoutMs = 30_000,
): Promise<ServerProcess> {
  const child = spawn(process.execPath, [CLI, 'serve'], {
    env: {
      PATH: process.env['PATH'] ?? '',
      HODEI_HTTP_PORT: '0',
      HODEI_API_TOKEN: TEST_TOKEN,
      HODEI_LOG_LEVEL: 'warn',
      HODEI_GC_INTERVAL_SECONDS: '1',
      HODEI_RECONCILE_INTERVAL_SECONDS: '1',
      ...dockerEnvOfRun(),
      ...env,
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  const exited = new Promise<number | string>((resolve) => {
    child.on('exit', (code, signal) => resolve(code ?? signal ?? -1));
  });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`server did not listen within ${timeoutMs} ms:\n${stderr}`)),
      timeoutMs,
    );
    const poll = setInterval(() => {
      const match = /listening on (http:\/\/\S+)/.exec(stderr);
      if (match?.[1] !== undefined) {
        clearInterval(poll);
        clearTimeout(timer);
        resolve(match[1]);
      }
    }, 25);
    void exited.then((code) => {
      clearInterval(poll);
      clearTimeout(timer);
      reject(new Error(`server exited (${code}) before listening:\n${stderr}`));
    });
  });
  return {
    child,
    url,
    stderr: () => stderr,
    exited,
    api: apiClient(url),
    stop: () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}

export interface TestDatabase {
  readonly url: string;
  query<T extends pg.QueryResultRow>(text: string, values?: unknown[]): Promise<T[]>;
  drop(): Promise<void>;
}

/** A database of its own for one test file, dropped afterwards. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `hodei_e2e_${randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ connectionString: BASE_DATABASE_URL });
  try {
    await admin.connect();
  } catch (cause) {
    throw new Error(
      `PostgreSQL at DATABASE_URL does not answer (${(cause as Error).message}): run scripts/services.sh up`,
      { cause },
    );
  }
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(BASE_DATABASE_URL);
  url.pathname = `/${name}`;
  const pool = new pg.Pool({ connectionString: url.toString(), max: 2 });
  return {
    url: url.toString(),
    query: async <T extends pg.QueryResultRow>(text: string, values: unknown[] = []) =>
      (await pool.query<T>(text, values)).rows,
    drop: async () => {
      await pool.end();
      const c = new pg.Client({ connectionString: BASE_DATABASE_URL });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

export const tempDataDir = (): Promise<string> => mkdtemp(join(tmpdir(), 'hodei-e2e-'));

export const uniqueProviderId = (): string => `t-${randomBytes(4).toString('hex')}`;

/** Removes every container a test's provider id created, whatever state it is in. */
export async function removeContainersOf(
  docker: DockerConnection['docker'],
  providerIds: readonly string[],
): Promise<void> {
  for (const id of providerIds) {
    const left = await docker.listContainers({
      all: true,
      filters: { label: [`hodei.provider-id=${id}`] },
    });
    await Promise.all(
      left.map((c) =>
        docker
          .getContainer(c.Id)
          .remove({ force: true })
          .catch(() => undefined),
      ),
    );
  }
}
