import type Docker from 'dockerode';
import { modemDial } from './modem-dial.js';

/**
 * `POST /containers/create?name=…` with the spec as the JSON body only. dockerode's
 * `createContainer` also writes every option into the query string, which puts env values
 * (secrets) in the request line that socket proxies and access logs record, and makes a
 * large spec an oversized URL; docker-modem sends `_query` and `_body` separately.
 */
export function postContainerCreate(
  docker: Docker,
  options: Docker.ContainerCreateOptions,
  abortSignal: AbortSignal,
): Promise<string> {
  const { name, ...body } = options;
  return modemDial<{ Id: string }>(docker, {
    path: '/containers/create?',
    method: 'POST',
    abortSignal,
    statusCodes: {
      200: true,
      201: true,
      400: 'bad parameter',
      404: 'no such image',
      406: 'impossible to attach',
      409: 'conflict',
      500: 'server error',
    },
    options: { _query: name === undefined ? {} : { name }, _body: body },
  }).then((created) => created.Id);
}
