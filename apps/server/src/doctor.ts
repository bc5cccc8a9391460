import { connectDocker, dockerEngineInfo } from '@hodei/docker-adapter';
import { postgresServerVersion, redactDatabaseUrl } from '@hodei/postgres-event-bus';

export const DEFAULT_DATABASE_URL = 'postgres://hodei:hodei@127.0.0.1:5432/hodei';

export interface DoctorReport {
  readonly ok: boolean;
  readonly lines: readonly string[];
}

/** Reaches the Docker Engine and PostgreSQL the server would use and reports what answered. */
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
  return { ok, lines };
}
