import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { TEST_TOKEN } from '../testing/test-server.js';
import { spawnServer, type ServerProcess } from '../testing/server-process.js';

export interface FaultServerOptions {
  readonly dockerHost: string;
  readonly image: string;
  readonly databaseUrl: string;
  readonly dataDir: string;
  /** The Docker provider's id; default a fresh one. */
  readonly providerId?: string;
  /** More settings, over the suite's (short passes, network `none`). */
  readonly env?: Record<string, string>;
}

/** `hodei serve` on a private engine and cluster, which a scenario can crash and restart. */
export interface FaultServer {
  /** `http://127.0.0.1:<port>`: the same port across restarts. */
  readonly baseUrl: string;
  readonly token: string;
  readonly providerId: string;
  /** The running process's pid (the latest one after a restart). */
  readonly pid: number;
  /** Whether a process is running now. */
  running(): boolean;
  kill9(): Promise<void>;
  /** SIGTERM, then its exit: `code` null when a signal ended it. */
  sigterm(): Promise<{ code: number | null; signal: string | null }>;
  /** Starts it again on the same settings and data dir (ending a running one with SIGKILL). */
  restart(): Promise<void>;
  /** Everything every one of its processes wrote to stderr. */
  logText(): string;
  /** Ends it (SIGTERM, then SIGKILL after 15 s). */
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** The suite's settings: passes every second, containers without a network (the engine has none). */
export const faultServerEnv = (o: FaultServerOptions, providerId: string, port: number) => ({
  DOCKER_HOST: o.dockerHost,
  HODEI_WORKER_IMAGE: o.image,
  HODEI_DOCKER_NETWORK: 'none',
  HODEI_PROVIDERS: `docker:${providerId}`,
  DATABASE_URL: o.databaseUrl,
  HODEI_DATA_DIR: o.dataDir,
  HODEI_HTTP_PORT: String(port),
  HODEI_GC_INTERVAL_SECONDS: '1',
  HODEI_RECONCILE_INTERVAL_SECONDS: '1',
  HODEI_LOG_LEVEL: 'info',
  HODEI_REQUEST_LOG_LEVEL: 'warn',
  ...o.env,
});

const exitOf = (p: ServerProcess): Promise<{ code: number | null; signal: string | null }> =>
  p.exited.then((r) =>
    typeof r === 'number' ? { code: r, signal: null } : { code: null, signal: r },
  );

/** Starts a fault server and waits until it listens. */
export async function startFaultServer(o: FaultServerOptions): Promise<FaultServer> {
  const providerId = o.providerId ?? `f-${randomBytes(4).toString('hex')}`;
  const port = await freePort();
  const env = faultServerEnv(o, providerId, port);
  let logs = '';
  let current = await spawnServer(env, 60_000);
  const alive = () => current.child.exitCode === null && current.child.signalCode === null;
  const collect = (p: ServerProcess) => {
    void p.exited.then(() => {
      logs += p.stderr();
    });
  };
  collect(current);
  const kill9 = async () => {
    if (alive()) current.child.kill('SIGKILL');
    await current.exited;
  };
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    token: TEST_TOKEN,
    providerId,
    get pid() {
      return current.child.pid ?? -1;
    },
    running: alive,
    kill9,
    sigterm: async () => {
      if (alive()) current.child.kill('SIGTERM');
      return exitOf(current);
    },
    restart: async () => {
      await kill9();
      current = await spawnServer(env, 60_000);
      collect(current);
    },
    logText: () => (alive() ? logs + current.stderr() : logs),
    stop: async () => {
      if (!alive()) return;
      current.child.kill('SIGTERM');
      const timer = setTimeout(() => current.child.kill('SIGKILL'), 15_000);
      await current.exited;
      clearTimeout(timer);
    },
  };
}
