import { inspect } from 'node:util';
import type { DockerRegistryAuth } from '@hodei/docker-adapter';

const REDACTED = '<redacted>';

/**
 * A provider's registry credentials, held so that logging or printing the configuration
 * (JSON, pino, `console.log`, `util.inspect`) shows the registry and never the secrets.
 */
export class RegistryCredentials {
  readonly serveraddress: string;
  readonly #username: string;
  readonly #password: string;

  constructor(serveraddress: string, username: string, password: string) {
    this.serveraddress = serveraddress;
    this.#username = username;
    this.#password = password;
  }

  /** What the Docker adapter sends, as `X-Registry-Auth`, with pulls from this registry. */
  toAuthConfig(): DockerRegistryAuth {
    return {
      serveraddress: this.serveraddress,
      username: this.#username,
      password: this.#password,
    };
  }

  toJSON(): Record<string, string> {
    return { serveraddress: this.serveraddress, username: REDACTED, password: REDACTED };
  }

  toString(): string {
    return `RegistryCredentials(${this.serveraddress}, ${REDACTED})`;
  }

  [inspect.custom](): string {
    return this.toString();
  }
}
