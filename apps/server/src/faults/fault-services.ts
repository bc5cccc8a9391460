import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPrivateCluster } from '@hodei/postgres-event-bus/testing';

export { startPrivateDockerEngine } from '@hodei/docker-adapter/testing';
export type { PrivateDockerEngine } from '@hodei/docker-adapter/testing';

/** A PostgreSQL cluster of the fault suite's own, to crash and start again. */
export interface PrivatePostgres {
  readonly url: string;
  readonly port: number;
  /** A crash: `pg_ctl stop -m immediate` (crash recovery on the next start). */
  stopImmediate(): Promise<void>;
  start(): Promise<void>;
  /** Stops it and removes its directory. */
  stop(): Promise<void>;
}

/** Which clusters this suite started, by port, so a crashed run's can be found again. */
const REGISTRY = join(tmpdir(), 'hodei-fault-clusters');

const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** The postmaster listening on `port` with its socket dir, from /proc. */
function postmasterOn(port: number): { pid: number; dir: string } | undefined {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let args: string[];
    try {
      args = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
    } catch {
      continue;
    }
    if (!(args[0] ?? '').endsWith('/postgres')) continue;
    const p = args.indexOf('-p');
    const k = args.indexOf('-k');
    if (p < 0 || k < 0 || args[p + 1] !== String(port)) continue;
    return { pid: Number(entry), dir: args[k + 1] ?? '' };
  }
  return undefined;
}

/** Kills the clusters of runs whose process is gone (SIGQUIT: immediate) and removes them. */
function sweepLeftovers(): void {
  if (!existsSync(REGISTRY)) return;
  for (const name of readdirSync(REGISTRY)) {
    const [owner, port] = name.split('-').map(Number);
    if (owner === undefined || port === undefined || isAlive(owner)) continue;
    const found = postmasterOn(port);
    if (found !== undefined && found.dir.includes('hodei-pg-')) {
      try {
        process.kill(found.pid, 'SIGQUIT');
      } catch {
        // gone meanwhile
      }
      rmSync(found.dir, { recursive: true, force: true });
    }
    rmSync(join(REGISTRY, name), { force: true });
  }
}

/**
 * A private cluster (the event bus's testing one) on a port of its own: the suite may stop
 * it `-m immediate` mid-run; the shared PostgreSQL is never touched.
 */
export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  sweepLeftovers();
  mkdirSync(REGISTRY, { recursive: true });
  const cluster = await startPrivateCluster();
  const mark = join(REGISTRY, `${process.pid}-${cluster.port}`);
  writeFileSync(mark, '');
  return {
    url: cluster.url,
    port: cluster.port,
    stopImmediate: () => cluster.stop('immediate'),
    start: () => cluster.start(),
    stop: async () => {
      await cluster.destroy();
      rmSync(mark, { force: true });
    },
  };
}

/** A small tmpfs for a data dir that fills up. */
export interface SmallTmpfs {
  readonly dir: string;
  /** Fills what is left with a file, so the next write gets ENOSPC. */
  fill(): Promise<void>;
  /** Removes the filler. */
  unfill(): Promise<void>;
  /** Unmounts and removes it; safe to call twice. */
  unmount(): Promise<void>;
}

const TMPFS_BASE = join(tmpdir(), 'hodei-fault-tmpfs');

const run = (cmd: string, args: readonly string[]): Promise<void> =>
  new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`${cmd} ${args.join(' ')}: ${stderr}`)),
    );
  });

const mounted = (dir: string): boolean =>
  readFileSync('/proc/self/mounts', 'utf8')
    .split('\n')
    .some((line) => line.split(' ')[1] === dir);

/** Unmounts and removes the tmpfs mounts of runs whose process is gone. */
async function sweepTmpfs(): Promise<void> {
  if (!existsSync(TMPFS_BASE)) return;
  for (const name of readdirSync(TMPFS_BASE)) {
    const owner = Number(name.split('-')[0]);
    if (isAlive(owner)) continue;
    const dir = join(TMPFS_BASE, name);
    if (mounted(dir)) await run('umount', ['-l', dir]).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Removes the tmpfs mounts and clusters a crashed earlier run left (engines: at their start). */
export async function sweepFaultLeftovers(): Promise<void> {
  sweepLeftovers();
  await sweepTmpfs();
}

/** Mounts a tmpfs of `sizeKiB` (as root) for a data dir that can be made full. */
export async function mountSmallTmpfs(sizeKiB = 1024): Promise<SmallTmpfs> {
  await sweepTmpfs();
  const dir = join(TMPFS_BASE, `${process.pid}-${Date.now()}`);
  mkdirSync(dir, { recursive: true });
  await run('mount', ['-t', 'tmpfs', '-o', `size=${sizeKiB}k,mode=0700`, 'tmpfs', dir]);
  const filler = join(dir, 'filler');
  return {
    dir,
    fill: async () => {
      // dd stops with ENOSPC (a non-zero exit) once the tmpfs is full: that is the point.
      await run('dd', ['if=/dev/zero', `of=${filler}`, 'bs=4k']).catch(() => undefined);
    },
    unfill: async () => {
      rmSync(filler, { force: true });
      return Promise.resolve();
    },
    unmount: async () => {
      if (mounted(dir)) await run('umount', ['-l', dir]).catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
