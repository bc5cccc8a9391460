import { randomBytes } from 'node:crypto';
import { registryPattern } from '@hodei/docker-adapter';
import { requireTestDocker, testWorkerImage } from '@hodei/docker-adapter/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { doctor } from './doctor.js';

/** Containers the doctor made: it must leave none behind, whatever the outcome. */
const doctorContainers = async (): Promise<number> => {
  const { docker } = await requireTestDocker();
  return (
    await docker.listContainers({
      all: true,
      filters: { label: ['hodei.provider-id=hodei-doctor'] },
    })
  ).length;
};

describe('hodei doctor', () => {
  beforeAll(async () => {
    await requireTestDocker();
  });

  it('reports the versions of the Docker Engine and PostgreSQL it reached, and a worker container that started', async () => {
    const report = await doctor(process.env);
    expect(report.lines.join('\n'), 'run scripts/services.sh up').not.toMatch(/FAIL/);
    expect(report.ok).toBe(true);
    expect(report.lines[0]).toMatch(/^ok {3}Docker Engine \S+/);
    expect(report.lines[1]).toMatch(/^ok {3}PostgreSQL \d+/);
    expect(report.lines[2]).toBe(
      `ok   docker provider docker: worker container from ${testWorkerImage()} at ${report.lines[0]!.split(' at ')[1]}: created, started and removed`,
    );
    expect(await doctorContainers()).toBe(0);
  });

  it('names the socket and says what to run when Docker does not answer', async () => {
    const report = await doctor({
      ...process.env,
      DOCKER_HOST: 'unix:///nonexistent/hodei-test.sock',
    });
    expect(report.ok).toBe(false);
    expect(report.lines[0]).toMatch(
      /^FAIL Docker Engine at unix:\/\/\/nonexistent\/hodei-test.sock/,
    );
    expect(report.lines).toContain('hint: run scripts/services.sh up');
  });

  it('fails, with the cause, when the engine answers but no worker container can start', async () => {
    const image = `127.0.0.1:9/hodei/missing-${randomBytes(4).toString('hex')}:1`;
    const report = await doctor({
      ...process.env,
      HODEI_WORKER_IMAGE: image,
      HODEI_ALLOWED_IMAGES: `${registryPattern(testWorkerImage())},127.0.0.1:9/**`,
    });
    expect(report.ok).toBe(false);
    expect(report.lines[0]).toMatch(/^ok {3}Docker Engine/);
    expect(report.lines[2]).toMatch(
      new RegExp(
        `^FAIL docker provider docker: worker container from ${image.replaceAll('.', '\\.')} at \\S+: cannot create and start it: could not pull image .*registry 127\\.0\\.0\\.1:9 cannot be reached`,
      ),
    );
    expect(report.lines[3]).toMatch(/^hint: no worker can start on it either/);
    expect(await doctorContainers()).toBe(0);
  });

  it('checks each Docker provider with its own settings, one line each, and fails for the one whose network does not exist', async () => {
    const network = `no-such-net-${randomBytes(4).toString('hex')}`;
    const report = await doctor({
      ...process.env,
      HODEI_PROVIDERS: 'docker:ci-a,docker:ci-b,k8s-stub',
      HODEI_PROVIDER_CI_A_DOCKER_NETWORK: network,
    });
    expect(report.ok).toBe(false);
    const containerLines = report.lines.slice(2).filter((l) => !l.startsWith('hint:'));
    expect(containerLines).toEqual([
      expect.stringMatching(
        new RegExp(`^FAIL docker provider ci-a: worker container from \\S+ at \\S+: .*${network}`),
      ),
      expect.stringMatching(/^ok {3}docker provider ci-b: .*: created, started and removed$/),
    ]);
    expect(await doctorContainers()).toBe(0);
  });

  it('removes what an interrupted doctor left behind, past its max lifetime, and nothing else', async () => {
    const { docker } = await requireTestDocker();
    const leftover = (workerId: string, createdAt: Date, managed: string) =>
      docker.createContainer({
        Image: testWorkerImage(),
        name: `hodei-doctor-test-${workerId}`,
        Labels: {
          'hodei.managed': managed,
          'hodei.provider-id': 'hodei-doctor',
          'hodei.worker-id': workerId,
          'hodei.mode': 'job',
          'hodei.readiness': 'container',
          'hodei.created-at': createdAt.toISOString(),
        },
      });
    const suffix = randomBytes(4).toString('hex');
    const old = new Date(Date.now() - 3_600_000);
    const stale = await leftover(`doctor-stale-${suffix}`, old, 'true');
    const unmanaged = await leftover(`doctor-unmanaged-${suffix}`, old, 'false');
    try {
      const report = await doctor(process.env);
      expect(report.lines.join('\n')).not.toMatch(/FAIL/);
      const left = await docker.listContainers({
        all: true,
        filters: { label: ['hodei.provider-id=hodei-doctor'] },
      });
      expect(left.map((c) => c.Id)).toEqual([unmanaged.id]);
    } finally {
      for (const c of [stale, unmanaged]) await c.remove({ force: true }).catch(() => undefined);
    }
  });

  it('fails naming the variable when the configuration is invalid', async () => {
    const report = await doctor({ ...process.env, HODEI_PROVIDERS: 'podman' });
    expect(report.ok).toBe(false);
    expect(report.lines.at(-1)).toMatch(
      /^FAIL configuration:\nHODEI_PROVIDERS="podman" is invalid/,
    );
  });
});
