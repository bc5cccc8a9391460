import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { err, ok, type Result } from 'neverthrow';
import type { ClientError } from './client.errors.js';

export interface ClientConfig {
  /** Without a trailing slash. */
  readonly url: string;
  readonly token: string;
  /** Where the token came from, for a 401's message. */
  readonly tokenSource: string;
}

type Env = Readonly<Record<string, string | undefined>>;

/** The server's URL: --url, else the address `hodei serve` listens on in this environment. */
export function serverUrl(urlOption: string | undefined, env: Env): string {
  if (urlOption !== undefined) return urlOption.replace(/\/+$/, '');
  let host = env['HODEI_HTTP_HOST'] ?? '127.0.0.1';
  // A server listening on every interface is reached on loopback.
  if (host === '0.0.0.0' || host === '') host = '127.0.0.1';
  if (host === '::') host = '::1';
  if (host.includes(':')) host = `[${host}]`;
  return `http://${host}:${env['HODEI_HTTP_PORT'] ?? '8080'}`;
}

/** The token file `hodei serve` generates: `$HODEI_DATA_DIR/api-token`. */
export const tokenFile = (env: Env): string =>
  join(resolve(env['HODEI_DATA_DIR'] ?? './.hodei'), 'api-token');

/** The URL and the token: HODEI_API_TOKEN, else the token file. */
export async function resolveClientConfig(
  urlOption: string | undefined,
  env: Env,
): Promise<Result<ClientConfig, ClientError>> {
  const url = serverUrl(urlOption, env);
  const fromEnv = env['HODEI_API_TOKEN'];
  if (fromEnv !== undefined && fromEnv !== '')
    return ok({ url, token: fromEnv, tokenSource: 'HODEI_API_TOKEN' });
  const file = tokenFile(env);
  const token = (await readFile(file, 'utf8').catch(() => '')).trim();
  if (token === '') return err({ type: 'NoToken', file });
  return ok({ url, token, tokenSource: file });
}
