import { resolve } from 'node:path';
import { createServer } from '../composition/create-server.js';
import { formatConfigProblems, parseConfig } from '../config/config.js';
import type { CliIo } from './cli-io.js';
import { EXIT } from './exit-codes.js';

const SHUTDOWN_DEADLINE_MS = 10_000;

export interface ServeOptions {
  /** A YAML configuration file, read by `parseConfig` through HODEI_CONFIG_FILE. */
  readonly configFile?: string;
}

/**
 * `hodei serve`: the server, configured from the environment, until SIGTERM or SIGINT.
 * Resolves with the exit code: 2 for an invalid configuration, 1 when it cannot start.
 */
export async function serve(options: ServeOptions, io: CliIo): Promise<number> {
  const line = (text: string) => io.err(`hodei: ${text}\n`);
  if (options.configFile !== undefined)
    process.env['HODEI_CONFIG_FILE'] = resolve(options.configFile);
  const config = parseConfig(process.env);
  if (config.isErr()) {
    line(`invalid configuration\n${formatConfigProblems(config.error)}`);
    return EXIT.usage;
  }
  const server = await createServer(config.value);
  if (server.isErr()) {
    line(`cannot start: ${server.error.message}`);
    return EXIT.failure;
  }
  const s = server.value;
  line(`listening on ${s.url}`);
  line(
    s.tokenFile === undefined ? 'API token from HODEI_API_TOKEN' : `API token in ${s.tokenFile}`,
  );
  return new Promise<number>((done) => {
    const stop = (signal: string) => {
      line(`${signal}: shutting down`);
      const timer = setTimeout(() => {
        line(`shutdown took longer than ${SHUTDOWN_DEADLINE_MS / 1000} s; exiting`);
        process.exit(EXIT.failure);
      }, SHUTDOWN_DEADLINE_MS);
      timer.unref();
      void s.stop().then(() => {
        line('stopped; workers keep running and are recovered at the next start');
        done(EXIT.ok);
      });
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
}
