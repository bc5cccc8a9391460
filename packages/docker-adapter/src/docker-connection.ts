import Docker from 'dockerode';

export const DEFAULT_DOCKER_SOCKET = '/var/run/docker.sock';

/** Where the Docker Engine is, as the user named it; kept for error messages. */
export interface DockerConnection {
  readonly docker: Docker;
  /** `unix:///var/run/docker.sock`, `tcp://host:2375`, … */
  readonly endpoint: string;
}

/**
 * Connects to the engine named by `dockerHost` (the `DOCKER_HOST` syntax) or the local
 * socket. Connecting is lazy: nothing is sent until the first call.
 */
export function connectDocker(dockerHost?: string): DockerConnection {
  const host = dockerHost?.trim() ?? '';
  if (host === '') {
    return {
      docker: new Docker({ socketPath: DEFAULT_DOCKER_SOCKET }),
      endpoint: `unix://${DEFAULT_DOCKER_SOCKET}`,
    };
  }
  if (host.startsWith('unix://')) {
    return { docker: new Docker({ socketPath: host.slice('unix://'.length) }), endpoint: host };
  }
  const url = parseUrl(host.replace(/^tcp:/, 'http:'));
  if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    // Not a host we can dial: the first call fails with DockerUnavailable naming it.
    return { docker: new Docker({ socketPath: host }), endpoint: host };
  }
  return {
    docker: new Docker({
      host: url.hostname,
      port: url.port === '' ? 2375 : Number(url.port),
      protocol: url.protocol === 'https:' ? 'https' : 'http',
    }),
    endpoint: host,
  };
}

function parseUrl(value: string): URL | undefined {
  try {
    return new URL(value);
  } catch {
    return undefined;
  }
}

/**
 * Why `dockerHost` is not an engine `connectDocker` can dial (`unix://` with an absolute
 * path, or `tcp://`, `http://`, `https://` with a host), or `undefined` when it is.
 */
export function dockerHostProblem(dockerHost: string): string | undefined {
  const host = dockerHost.trim();
  const accepts = 'must be unix:///path/to/docker.sock or tcp://host:port';
  if (host.startsWith('unix://')) {
    return host.slice('unix://'.length).startsWith('/') ? undefined : accepts;
  }
  const url = parseUrl(host.replace(/^tcp:/, 'http:'));
  if (url === undefined || !['http:', 'https:'].includes(url.protocol) || url.hostname === '') {
    return accepts;
  }
  return url.pathname === '/' && url.search === '' ? undefined : accepts;
}
