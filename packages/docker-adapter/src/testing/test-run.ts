import { randomBytes } from 'node:crypto';
import {
  dockerProfile,
  OWNERSHIP_LABELS,
  parseProviderId,
  type ProviderId,
  type WorkerId,
  type WorkerSpec,
} from '@hodei/domain';
import type { DockerConnection } from '../docker-connection.js';
import type { DockerWorkerProviderOptions } from '../docker-provider-options.js';
import { DockerWorkerProvider } from '../docker-worker-provider.js';
import { requireTestDocker, testWorkerImage } from './test-docker.js';

/** The label tests put on containers they create outside a provider. */
export const TEST_RUN_LABEL = 'hodei-test.run';

/**
 * One test run against the real engine: a provider id unique to it (so parallel runs never
 * see each other's workers as orphans), and a cleanup that removes every container carrying
 * that provider id or the run label, and the foreign ones the run registered — nothing else.
 */
export interface DockerTestRun {
  readonly connection: DockerConnection;
  readonly runId: string;
  readonly providerId: ProviderId;
  /** Another provider id of this run, for "someone else's worker" cases. */
  readonly otherProviderId: ProviderId;
  /** A further provider id of this run (`<runId>-<suffix>`), cleaned up with the run. */
  providerIdFor(suffix: string): ProviderId;
  /** A provider of the run's provider id on its connection, with `options` on top. */
  provider(options?: Partial<DockerWorkerProviderOptions>): DockerWorkerProvider;
  /** A job that sleeps an hour in the test image, under a worker id new in this run. */
  jobSpec(overrides?: Partial<WorkerSpec>): WorkerSpec;
  /** Remembers a container created without the run's labels, for cleanup. */
  track(containerId: string): void;
  cleanup(): Promise<void>;
}

export async function startDockerTestRun(): Promise<DockerTestRun> {
  const connection = await requireTestDocker();
  const runId = `t-${randomBytes(5).toString('hex')}`;
  const providerId = parseProviderId(runId)._unsafeUnwrap();
  const otherProviderId = parseProviderId(`${runId}-other`)._unsafeUnwrap();
  const tracked = new Set<string>();
  const providerIds = new Set<ProviderId>([providerId, otherProviderId]);
  let workers = 0;
  return {
    connection,
    runId,
    providerId,
    otherProviderId,
    providerIdFor: (suffix) => {
      const id = parseProviderId(`${runId}-${suffix}`)._unsafeUnwrap();
      providerIds.add(id);
      return id;
    },
    provider: (options = {}) =>
      DockerWorkerProvider.create({ providerId, connection, ...options })._unsafeUnwrap(),
    jobSpec: (overrides = {}) => ({
      workerId: `${runId}-${++workers}` as WorkerId,
      mode: 'job',
      image: testWorkerImage(),
      command: ['sh', '-c', 'sleep 3600'],
      policy: dockerProfile,
      ...overrides,
    }),
    track: (id) => tracked.add(id),
    cleanup: async () => {
      const ids = new Set(tracked);
      for (const label of [
        ...[...providerIds].map((id) => `${OWNERSHIP_LABELS.providerId}=${id}`),
        `${TEST_RUN_LABEL}=${runId}`,
      ]) {
        const found = await connection.docker.listContainers({
          all: true,
          filters: { label: [label] },
        });
        for (const c of found) ids.add(c.Id);
      }
      await Promise.all(
        [...ids].map((id) =>
          connection.docker
            .getContainer(id)
            .remove({ force: true, v: true })
            .catch(() => undefined),
        ),
      );
    },
  };
}
