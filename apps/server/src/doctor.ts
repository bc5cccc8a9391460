import { randomBytes } from 'node:crypto';
import {
  connectDocker,
  dockerEngineInfo,
  DockerWorkerProvider,
  type DockerConnection,
  type DockerWorkerProviderOptions,
} from '@hodei/docker-adapter';
import {
  dockerProfile,
  OWNERSHIP_LABELS,
  parseProviderId,
  parseWorkerId,
  silentLogger,
  type EphemeralWorkerPolicy,
} from '@hodei/domain';
import { systemClock } from '@hodei/domain/system';
import { postgresServerVersion, redactDatabaseUrl } from '@hodei/postgres-event-bus';
import {
  DEFAULT_WORKER_IMAGE,
  dockerProviderOptions,
  formatConfigProblems,
  parseConfig,
} from './config/config.js';

export const DEFAULT_DATABASE_URL = 'postgres://hodei:hodei@127.0.0.1:5432/hodei';

/** The provider id of the throwaway container: never one a server manages. */
const DOCTOR_PROVIDER_ID = 'hodei-doctor';

/** The throwaway container's policy: a short max lifetime, past which a leftover is removed. */
const DOCTOR_POLICY: EphemeralWorkerPolicy = Object.freeze({
  ...dockerProfile,
  maxLifetime: 60_000,
  idleTimeout: 60_000,
  startupTimeout: 60_000,
});

export interface DoctorReport {
  readonly ok: boolean;
  readonly lines: readonly string[];
}

/** What the worker container check needs: the engine and the server's worker settings. */
export type WorkerContainerCheck = Omit<DockerWorkerProviderOptions, 'providerId' | 'connection'>;

/**
 * Reaches the Docker Engine and PostgreSQL the server would use, reports what answered, and
 * proves that a worker can start on each Docker provider: it creates, starts and removes a
 * throwaway container from the worker image with that provider's own settings (an engine that
 * answers may still start no container: a missing network, an image it cannot pull).
 */
export async function doctor(env: NodeJS.ProcessEnv): Promise<DoctorReport> {
  const connection = connectDocker(env['DOCKER_HOST']);
  const databaseUrl = env['DATABASE_URL'] ?? DEFAULT_DATABASE_URL;
  const [docker, postgres] = await Promise.all([
    dockerEngineInfo(connection),
    postgresServerVersion(databaseUrl),
  ]);
  const lines = [
    docker.match(
      (info) =>
        `ok   Docker Engine ${info.version} (API ${info.apiVersion}) at ${connection.endpoint}`,
      (e) => `FAIL ${e.message}`,
    ),
    postgres.match(
      (version) => `ok   PostgreSQL ${version} at ${redactDatabaseUrl(databaseUrl)}`,
      (e) => `FAIL ${e.message}`,
    ),
  ];
  const ok = docker.isOk() && postgres.isOk();
  if (!ok) lines.push('hint: run scripts/services.sh up');
  if (docker.isErr()) return { ok, lines };

  const config = parseConfig(env);
  if (config.isErr()) {
    lines.push(`FAIL configuration:\n${formatConfigProblems(config.error)}`);
    return { ok: false, lines };
  }
  // Each Docker provider with its own settings (engine, network, registry, limits): an image
  // it could not pull, or a container its engine could not start, fails here as it would
  // for its first worker. One after the other: they may share an engine.
  let containersOk = true;
  for (const provider of config.value.providers) {
    if (provider.kind !== 'docker') continue;
    const checked = await checkWorkerContainer(
      connectDocker(provider.docker.dockerHost),
      dockerProviderOptions(provider.docker),
      config.value.workerImage,
      provider.id,
    );
    containersOk &&= checked.ok;
    lines.push(...checked.lines);
  }
  return { ok: ok && containersOk, lines };
}

/**
 * Creates and starts a container from `image` as the Docker provider `forProvider` would (its
 * settings), then removes it; reports the provider's error when it cannot. First removes what
 * an interrupted doctor left on that engine: its containers past their short max lifetime.
 */
export async function checkWorkerContainer(
  connection: DockerConnection,
  settings: WorkerContainerCheck,
  image: string = DEFAULT_WORKER_IMAGE,
  forProvider = 'docker',
): Promise<DoctorReport> {
  const subject = `docker provider ${forProvider}: worker container from ${image} at ${connection.endpoint}`;
  const failed = (what: string, error: { readonly message: string }): DoctorReport => ({
    ok: false,
    lines: [
      `FAIL ${subject}: ${what}: ${error.message}`,
      'hint: no worker can start on it either; check HODEI_WORKER_IMAGE, the registry, and the engine (its network)',
    ],
  });
  const providerId = parseProviderId(DOCTOR_PROVIDER_ID);
  const workerId = parseWorkerId(`doctor-${randomBytes(6).toString('hex')}`);
  if (providerId.isErr() || workerId.isErr()) {
    return failed('invalid ids', { message: 'the doctor names its container wrongly' });
  }
  const made = DockerWorkerProvider.create({
    ...settings,
    providerId: providerId.value,
    connection,
    clock: systemClock,
    logger: silentLogger,
  });
  if (made.isErr()) return failed('invalid settings', made.error);
  const provider = made.value;
  try {
    await removeLeftovers(provider);
    // The image's own command: the check must not depend on what the image contains.
    const started = await provider.createWorker({
      workerId: workerId.value,
      mode: 'job',
      image,
      policy: DOCTOR_POLICY,
    });
    if (started.isErr()) return failed('cannot create and start it', started.error);
    const removed = await provider.destroyWorker(started.value, { gracePeriod: 1000 });
    if (removed.isErr()) return failed('started, but cannot remove it', removed.error);
    return { ok: true, lines: [`ok   ${subject}: created, started and removed`] };
  } finally {
    await provider.close();
  }
}

/**
 * Removes the doctor's containers (labelled `hodei.managed=true`, `hodei.provider-id=
 * hodei-doctor`) older than their max lifetime: what a doctor interrupted between the create
 * and the removal left. Younger ones may be another doctor's, running now. Best effort: the
 * check that follows reports an engine that does not answer.
 */
async function removeLeftovers(provider: DockerWorkerProvider): Promise<void> {
  const listed = await provider.listManagedWorkers();
  if (listed.isErr()) return;
  const now = Date.now();
  for (const resource of listed.value) {
    if (now - resource.createdAt < DOCTOR_POLICY.maxLifetime) continue;
    const workerId = parseWorkerId(resource.labels[OWNERSHIP_LABELS.workerId] ?? '');
    if (workerId.isErr()) continue;
    await provider.destroyWorker(
      {
        workerId: workerId.value,
        resourceId: resource.resourceId,
        providerId: provider.providerId,
        createdAt: resource.createdAt,
      },
      { gracePeriod: 0 },
    );
  }
}
