import type Docker from 'dockerode';

type DialOptions = Parameters<Docker['modem']['dial']>[0];

/** One request through dockerode's modem, as a Promise of what the engine answered. */
export function modemDial<T>(docker: Docker, options: DialOptions): Promise<T> {
  return new Promise((resolve, reject) => {
    docker.modem.dial(options, (error, result) => {
      if (error !== null) reject(error);
      else resolve(result as T);
    });
  });
}
