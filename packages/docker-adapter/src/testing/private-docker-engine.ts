import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type Docker from 'dockerode';
import { connectDocker } from '../docker-connection.js';
import { testWorkerImage } from './test-docker.js';

/**
 * A Docker Engine of a test's own (its socket, data root, exec root and pid file), for tests
 * that crash or stop the engine; the shared one is never touched. It runs in a network
 * namespace of its own: a second dockerd in the host's namespace would delete the shared
 * engine's `docker0` bridge. Its containers therefore need network mode `none`.
 */
export interface PrivateDockerEngine {
  /** `unix://…/docker.sock`, a DOCKER_HOST. */
  readonly dockerHost: string;
  readonly docker: Docker;
  /** The worker image, imported from the shared engine. */
  readonly image: string;
  /** The network its containers must use (`none`: the engine has no bridge). */
  readonly network: 'none';
  /** A crash: SIGKILL to dockerd (its containerd and containers stay, as in production). */
  kill9(): Promise<void>;
  /** Starts dockerd again on the same directories: after `kill9`, or stopping it first. */
  restart(): Promise<void>;
  /** Removes its containers, stops it and everything it started, removes its directories. */
  stop(): Promise<void>;
}

/** Every private engine lives under here, so a crashed run's leftovers can be found. */
const BASE = join(tmpdir(), 'hodei-private-engines');

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

const pidIn = (file: string): number | undefined => {
  try {
    const pid = Number(readFileSync(file, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
};

/** Pids of processes that belong to the engine in `dir` (dockerd, containerd, shims, clients). */
function processesUnder(dir: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      // A server a crashed test left running names the engine in its environment.
      const environ = readFileSync(`/proc/${entry}/environ`, 'utf8');
      if (cmdline.includes(dir) || environ.includes(`DOCKER_HOST=unix://${dir}/`)) {
        pids.push(Number(entry));
      }
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

/** Mount points under `dir`, deepest first. */
function mountsUnder(dir: string): string[] {
  return readFileSync('/proc/self/mounts', 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[1] ?? '')
    .map((p) => p.replace(/\\040/g, ' '))
    .filter((p) => p.startsWith(`${dir}/`) || p === dir)
    .sort((a, b) => b.length - a.length);
}

const runQuiet = (cmd: string, args: readonly string[]): Promise<number | null> =>
  new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: 'ignore' });
    child.on('error', () => resolve(null));
    child.on('exit', (code) => resolve(code));
  });

/** Kills what runs under `dir`, unmounts what is mounted there, removes it. */
async function sweep(dir: string): Promise<void> {
  for (const pid of processesUnder(dir)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone meanwhile
    }
  }
  for (let i = 0; i < 50 && processesUnder(dir).some(isAlive); i += 1) await sleep(100);
  for (const mount of mountsUnder(dir)) await runQuiet('umount', ['-l', mount]);
  await rm(dir, { recursive: true, force: true }).catch(() => undefined);
}

/** What a crashed earlier run left: engines whose dockerd is gone, or whose owner is. */
async function sweepLeftovers(): Promise<void> {
  if (!existsSync(BASE)) return;
  for (const name of readdirSync(BASE)) {
    const dir = join(BASE, name);
    let owner = Number.NaN;
    try {
      owner = Number(readFileSync(join(dir, 'owner.pid'), 'utf8').trim());
    } catch {
      // no owner recorded: a leftover
    }
    if (Number.isInteger(owner) && owner !== process.pid && isAlive(owner)) continue;
    await sweep(dir);
  }
}

async function answers(docker: Docker): Promise<boolean> {
  try {
    await docker.ping();
    return true;
  } catch {
    return false;
  }
}

async function importImage(from: Docker, to: Docker, image: string): Promise<void> {
  const tar = await from.getImage(image).get();
  const loaded = await to.loadImage(tar);
  await new Promise<void>((resolve, reject) => {
    to.modem.followProgress(loaded, (error: Error | null) => (error ? reject(error) : resolve()));
  });
  await to.getImage(image).inspect();
}

/**
 * Starts a private dockerd (as root, `unshare --net`), waits until it answers and imports the
 * worker image from the shared engine (`DOCKER_HOST`). Cleans up a crashed run's engines first.
 */
export async function startPrivateDockerEngine(): Promise<PrivateDockerEngine> {
  await sweepLeftovers();
  mkdirSync(BASE, { recursive: true });
  const dir = join(BASE, randomBytes(4).toString('hex'));
  mkdirSync(dir, { recursive: true });
  await writeFile(join(dir, 'owner.pid'), String(process.pid));
  await writeFile(join(dir, 'daemon.json'), '{}');
  const socket = join(dir, 'docker.sock');
  const pidfile = join(dir, 'docker.pid');
  const dockerHost = `unix://${socket}`;
  const { docker } = connectDocker(dockerHost);
  let child: ChildProcess | undefined;

  const launch = async (): Promise<void> => {
    // A killed dockerd leaves its pid file and socket; the next one refuses to start over them.
    await rm(pidfile, { force: true });
    await rm(socket, { force: true });
    const containerd = pidIn(containerdPidfile);
    if (containerd !== undefined && !isAlive(containerd)) await rm(containerdPidfile);
    const log = openSync(join(dir, 'dockerd.log'), 'a');
    child = spawn(
      'unshare',
      [
        '--net',
        'dockerd',
        '--config-file',
        join(dir, 'daemon.json'),
        '-H',
        dockerHost,
        '--data-root',
        join(dir, 'data'),
        '--exec-root',
        join(dir, 'exec'),
        '--pidfile',
        pidfile,
        '--bridge=none',
        '--iptables=false',
        '--ip6tables=false',
        '--cgroup-parent',
        `hodei-private-${dir.slice(-8)}`,
      ],
      { stdio: ['ignore', log, log], detached: true },
    );
    closeSync(log);
    child.unref();
    for (let i = 0; i < 300; i += 1) {
      if (await answers(docker)) return;
      if (child.exitCode !== null) break;
      await sleep(100);
    }
    const tail = readFileSync(join(dir, 'dockerd.log'), 'utf8').slice(-2000);
    throw new Error(`the private dockerd did not answer (needs root):\n${tail}`);
  };

  const containerdPidfile = join(dir, 'exec', 'containerd', 'containerd.pid');
  const dockerdPid = (): number | undefined => pidIn(pidfile) ?? child?.pid;

  const kill9 = async (): Promise<void> => {
    const pid = dockerdPid();
    if (pid === undefined) return;
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      return;
    }
    for (let i = 0; i < 100 && isAlive(pid); i += 1) await sleep(50);
    // Its containerd dies with it (parent-death signal); the next dockerd must not find it
    // half-gone under the old pid file.
    const containerd = pidIn(containerdPidfile);
    for (let i = 0; i < 100 && containerd !== undefined && isAlive(containerd); i += 1) {
      await sleep(50);
    }
  };

  const stop = async (): Promise<void> => {
    if (await answers(docker)) {
      const left = await docker.listContainers({ all: true }).catch(() => []);
      await Promise.all(
        left.map((c) =>
          docker
            .getContainer(c.Id)
            .remove({ force: true })
            .catch(() => undefined),
        ),
      );
      const pid = dockerdPid();
      if (pid !== undefined) {
        try {
          process.kill(pid, 'SIGTERM');
        } catch {
          // gone
        }
        for (let i = 0; i < 100 && isAlive(pid); i += 1) await sleep(100);
      }
    }
    await sweep(dir);
  };

  try {
    await launch();
    const image = testWorkerImage();
    await importImage(connectDocker(process.env['DOCKER_HOST']).docker, docker, image);
    return {
      dockerHost,
      docker,
      image,
      network: 'none',
      kill9,
      restart: async () => {
        const pid = dockerdPid();
        if (pid !== undefined && isAlive(pid)) {
          process.kill(pid, 'SIGTERM');
          for (let i = 0; i < 200 && isAlive(pid); i += 1) await sleep(100);
        }
        await launch();
      },
      stop,
    };
  } catch (cause) {
    await stop();
    throw cause;
  }
}
