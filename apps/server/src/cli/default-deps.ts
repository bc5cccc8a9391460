import type { CliDeps } from './cli-context.js';
import type { CliIo } from './cli-io.js';
import { EXIT } from './exit-codes.js';

/**
 * The real `serve`, `job docker-hello` and `doctor`. Loaded when run, so client commands
 * (and `--help`) start without loading the server.
 */
export function defaultDeps(io: CliIo): CliDeps {
  const line = (text: string) => io.out(`${text}\n`);
  return {
    serve: async (options) => (await import('./serve-server.js')).serve(options, io),
    dockerHello: async () => {
      const [{ dockerHello }, { DEFAULT_WORKER_IMAGE }] = await Promise.all([
        import('./docker-hello.js'),
        import('../config/config.js'),
      ]);
      return dockerHello({
        dockerHost: io.env['DOCKER_HOST'],
        image: io.env['HODEI_WORKER_IMAGE'] ?? DEFAULT_WORKER_IMAGE,
        out: line,
      });
    },
    doctor: async () => {
      const { doctor } = await import('../doctor.js');
      const report = await doctor(process.env);
      for (const l of report.lines) line(l);
      return report.ok ? EXIT.ok : EXIT.failure;
    },
  };
}
