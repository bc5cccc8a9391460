/**
 * The Docker settings of the test run's own environment (`DOCKER_HOST`, `HODEI_WORKER_IMAGE`),
 * for a server a test starts with an environment of its own: the engine and image the run uses.
 */
export function dockerEnvOfRun(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of ['DOCKER_HOST', 'HODEI_WORKER_IMAGE'] as const) {
    const value = process.env[name];
    if (value !== undefined) env[name] = value;
  }
  return env;
}
