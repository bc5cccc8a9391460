import { describeWorkerProviderContract } from '@hodei/domain/testing';
import { DockerWorkerProvider } from './docker-worker-provider.js';
import { startDockerTestRun, testWorkerImage } from './testing/index.js';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describeWorkerProviderContract('DockerWorkerProvider on the real engine', async () => {
  const run = await startDockerTestRun();
  const provider = DockerWorkerProvider.create({
    providerId: run.providerId,
    connection: run.connection,
  })._unsafeUnwrap();
  const docker = run.connection.docker;
  let foreign = 0;
  return {
    provider,
    image: testWorkerImage(),
    workerIdPrefix: run.runId,
    advance: sleep,
    createForeignResource: async (labels) => {
      // Exactly the given labels; the run remembers the id to remove it afterwards.
      const container = await docker.createContainer({
        name: `hodei-test-${run.runId}-foreign-${++foreign}`,
        Image: testWorkerImage(),
        Cmd: ['sh', '-c', 'sleep 3600'],
        Labels: labels,
      });
      run.track(container.id);
      await container.start();
      return {
        resourceId: container.id,
        exists: async () =>
          container.inspect().then(
            () => true,
            () => false,
          ),
        remove: async () => {
          await container.remove({ force: true });
        },
      };
    },
    teardown: () => run.cleanup(),
  };
});
