import { afterEach, describe, expect, it } from 'vitest';
import { eventsPath } from './event-feed.js';
import {
  cliRun,
  cloudEvent,
  eventFrame,
  openStream,
  sendJson,
  startFakeApi,
  workerJson,
  type FakeApi,
  type FakeRoute,
} from './fake-api.testing.js';

let api: FakeApi | undefined;
afterEach(async () => {
  await api?.close();
  api = undefined;
});

const serve = async (routes: Record<string, FakeRoute>): Promise<string> => {
  api = await startFakeApi(routes);
  return api.url;
};
/** A stream the server keeps open, and says nothing on. */
const silentStream: FakeRoute = (_req, res) => openStream(res, ': open\n\n');
const never: FakeRoute = () => undefined;
const unauthorized: FakeRoute = (_req, res) =>
  sendJson(res, 401, { error: 'Unauthorized', message: 'no' });
const count = (text: string, part: string) => text.split(part).length - 1;

describe('the event feed', () => {
  it('asks the server for every type given, as a comma list', () => {
    expect(eventsPath({ types: ['WorkerEphemeralReady', 'GarbageCollectionCompleted'] })).toBe(
      '/v1/events?type=WorkerEphemeralReady%2CGarbageCollectionCompleted',
    );
  });

  it('reports each failed reconnection, and ends with an error that retrying does not cure', async () => {
    const url = await serve({
      'GET /v1/events': (_req, res, n) => {
        if (n === 1) {
          openStream(res, 'retry: 10\n\n');
          res.end();
        } else if (n === 2) sendJson(res, 503, { error: 'Unavailable', message: 'restarting' });
        else unauthorized(_req, res, n);
      },
    });
    const run = await cliRun(['events', '-f', '--url', url]);
    expect(run.code).toBe(1);
    expect(count(run.stderr, 'reconnecting to the event stream failed: HTTP 503')).toBe(1);
    expect(run.stderr).toContain('refused the API token (HTTP 401 Unauthorized)');
  });

  it('resumes after the history it printed, then after the last message, each event once', async () => {
    const [e1, e2, e3] = ['e1', 'e2', 'e3'].map((id) =>
      cloudEvent(id, 'WorkerEphemeralBusy', 'w1'),
    );
    const url = await serve({
      'GET /v1/workers/w1/events': (_req, res) =>
        sendJson(res, 200, { workerId: 'w1', events: [e1, e2] }),
      'GET /v1/events': (_req, res, n) => {
        if (n === 3) return unauthorized(_req, res, n);
        // The first breaks before any message; the second repeats the overlap, then e3.
        openStream(res, 'retry: 10\n\n', ...(n === 2 ? [eventFrame(e2!), eventFrame(e3!)] : []));
        res.end();
      },
    });
    const run = await cliRun(['events', '-f', '--worker', 'w1', '-o', 'json', '--url', url]);
    expect(run.code).toBe(1);
    const ids = run.stdout
      .trimEnd()
      .split('\n')
      .map((l) => (JSON.parse(l) as { id: string }).id);
    expect(ids).toEqual(['e1', 'e2', 'e3']);
    const resumes = api!.requests.filter((r) => r.route === 'GET /v1/events');
    expect(resumes.map((r) => r.headers['last-event-id'])).toEqual([undefined, 'e2', 'e3']);
  });

  it('does not suggest itself for a worker without history', async () => {
    const url = await serve({
      'GET /v1/workers/ghost/events': (_req, res) =>
        sendJson(res, 404, { error: 'WorkerNotFound', message: 'no such worker' }),
    });
    const run = await cliRun(['events', '--worker', 'ghost', '--url', url]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('worker ghost has no events');
    expect(run.stderr).not.toContain("'hodei events --worker ghost'");
  });
});

describe('waiting', () => {
  it('gives up at --timeout on a server that never answers', async () => {
    const url = await serve({ 'GET /v1/events': never });
    const run = await cliRun([
      'workers',
      'wait',
      'w1',
      '--for=ready',
      '--timeout',
      '1s',
      '--url',
      url,
    ]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('timed out after 1s waiting for worker w1 to be ready');
  });

  it('keeps waiting through a server restart (503, 502), and fails on a refused token', async () => {
    const url = await serve({
      'GET /v1/events': silentStream,
      'GET /v1/workers/w1': (_req, res, n) => {
        if (n === 1) sendJson(res, 503, { error: 'Unavailable', message: 'starting' });
        else if (n === 2) sendJson(res, 502, { error: 'BadGateway', message: 'proxy' });
        else sendJson(res, 200, workerJson('w1', 'terminated', 0));
      },
      'GET /v1/workers/w2': unauthorized,
    });
    const run = await cliRun(['workers', 'wait', 'w1', '--for=terminated', '--url', url]);
    expect(run).toMatchObject({ code: 0, stdout: 'worker w1: condition met (terminated)\n' });
    expect(count(run.stderr, 'still waiting')).toBe(1);
    const refused = await cliRun(['workers', 'wait', 'w2', '--for=terminated', '--url', url]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('refused the API token');
  });

  it('prints what is known of a worker that is gone, with its exit code', async () => {
    const url = await serve({
      'GET /v1/events': silentStream,
      'GET /v1/workers/w1': (_req, res) =>
        sendJson(res, 404, { error: 'WorkerNotFound', message: 'gone' }),
      'GET /v1/workers/w1/events': (_req, res) =>
        sendJson(res, 200, {
          workerId: 'w1',
          events: [
            cloudEvent('e1', 'WorkerEphemeralCreated', 'w1'),
            cloudEvent('e2', 'WorkerEphemeralTerminated', 'w1', { exitCode: 3 }),
            cloudEvent('e3', 'WorkerEphemeralCleanedUp', 'w1'),
          ],
        }),
    });
    const run = await cliRun([
      'workers',
      'wait',
      'w1',
      '--for=terminated',
      '-o',
      'json',
      '--url',
      url,
    ]);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({
      id: 'w1',
      state: 'gone',
      exitCode: 3,
      lastEvent: 'WorkerEphemeralCleanedUp',
    });
  });
});

describe('hodei workers run', () => {
  const created: FakeRoute = (_req, res) => sendJson(res, 201, workerJson('w1', 'creating'));

  it('gives up at --timeout while it follows the output', async () => {
    const url = await serve({
      'POST /v1/workers': created,
      'GET /v1/events': silentStream,
      'GET /v1/workers/w1': (_req, res) => sendJson(res, 200, workerJson('w1', 'busy')),
      'GET /v1/workers/w1/logs': (_req, res) => {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.write('hello\n');
      },
    });
    const run = await cliRun(['workers', 'run', '-f', '--wait', '--timeout', '1s', '--url', url]);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('hello\n');
    expect(run.stderr).toContain('timed out after 1s waiting for worker w1 to be terminated');
  });

  it('takes --timeout 0 as no limit, and -q prints the id and exits with its exit code', async () => {
    const url = await serve({
      'POST /v1/workers': created,
      'GET /v1/events': silentStream,
      'GET /v1/workers/w1': (_req, res, n) =>
        sendJson(res, 200, n === 1 ? workerJson('w1', 'busy') : workerJson('w1', 'terminated', 3)),
    });
    const run = await cliRun(['workers', 'run', '-q', '--wait', '--timeout', '0', '--url', url]);
    expect(run).toMatchObject({ code: 3, stdout: 'w1\n', stderr: '' });
  });
});
