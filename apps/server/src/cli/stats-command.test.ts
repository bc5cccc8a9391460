import { afterEach, describe, expect, it } from 'vitest';
import { formatWindow } from './commands/stats-command.js';
import {
  cliRun,
  sendJson,
  startFakeApi,
  type FakeApi,
  type FakeRoute,
} from './fake-api.testing.js';

let api: FakeApi | undefined;
afterEach(async () => {
  await api?.close();
  api = undefined;
});

const counts = (o: Partial<Record<string, number>> = {}) => ({
  creating: 0,
  ready: 0,
  busy: 0,
  terminating: 0,
  terminated: 0,
  failed: 0,
  ...o,
});

const WORKERS = {
  total: 4,
  byState: counts({ ready: 1, busy: 2, failed: 1 }),
  providers: [
    { id: 'docker', lifecycle: true, byState: counts({ ready: 1, busy: 2, failed: 1 }), live: 3 },
    { id: 'k8s', lifecycle: false, byState: counts(), live: 0 },
  ],
};

const NONE = { count: 0, p50: null, p90: null, p99: null, max: null };
const deadlines = (windowSeconds: number) => ({
  windowSeconds,
  reapLag: {
    lifetime: { count: 3, p50: 0.5, p90: 1.25, p99: 1.25, max: 1.25 },
    idle: NONE,
    startup: NONE,
    forceRemove: NONE,
    ttl: { count: 1, p50: 0.0004, p90: 0.0004, p99: 0.0004, max: 0.0004 },
  },
  idleTail: { count: 2, p50: 30.1234, p90: 61, p99: 61, max: 61 },
});

/** The query strings `GET /v1/stats/deadlines` was sent, in order. */
let deadlineQueries: string[] = [];
afterEach(() => {
  deadlineQueries = [];
});

const ROUTES: Record<string, FakeRoute> = {
  'GET /v1/stats/workers': (_req, res) => sendJson(res, 200, WORKERS),
  'GET /v1/stats/deadlines': (req, res) => {
    const query = new URL(req.url ?? '/', 'http://x').searchParams;
    deadlineQueries.push(query.toString());
    sendJson(res, 200, deadlines(Number(query.get('windowSeconds'))));
  },
};

/** `hodei stats args… --url <fake API>`. */
const stats = async (routes: Record<string, FakeRoute>, ...args: string[]) => {
  api ??= await startFakeApi(routes);
  return cliRun(['stats', ...args, '--url', api.url]);
};

describe('hodei stats', () => {
  it('prints the counts by state, then the reap lag and idle tail of the last hour', async () => {
    const run = await stats(ROUTES);
    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(run.stdout).toBe(
      [
        'PROVIDER   TOTAL   CREATING   READY   BUSY   TERMINATING   TERMINATED   FAILED',
        '(all)      4       0          1       2      0             0            1',
        'docker     4       0          1       2      0             0            1',
        'k8s        0       0          0       0      0             0            0',
        '',
        'Last 1h, in seconds:',
        'SERIES                  COUNT   P50      P90    P99    MAX',
        'reap lag: lifetime      3       0.5      1.25   1.25   1.25',
        'reap lag: idle          0       -        -      -      -',
        'reap lag: startup       0       -        -      -      -',
        'reap lag: forceRemove   0       -        -      -      -',
        'reap lag: ttl           1       0        0      0      0',
        'idle tail               2       30.123   61     61     61',
        '',
      ].join('\n'),
    );
    expect(deadlineQueries).toEqual(['windowSeconds=3600']);
  });

  it('adds the live count and lifecycle per provider with -o wide', async () => {
    const run = await stats(ROUTES, '-o', 'wide');
    expect(run.code).toBe(0);
    expect(run.stdout.split('\n').slice(0, 4)).toEqual([
      'PROVIDER   TOTAL   CREATING   READY   BUSY   TERMINATING   TERMINATED   FAILED   LIVE   LIFECYCLE',
      '(all)      4       0          1       2      0             0            1',
      'docker     4       0          1       2      0             0            1        3      on',
      'k8s        0       0          0       0      0             0            0        0      off',
    ]);
  });

  it('prints both answers as one JSON document with -o json', async () => {
    const run = await stats(ROUTES, '-o', 'json', '--window', '15m');
    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(JSON.parse(run.stdout)).toEqual({ workers: WORKERS, deadlines: deadlines(900) });
  });

  it.each([
    ['90', 90, '1m30s'],
    ['1h30m', 5400, '1h30m'],
    ['24h', 86_400, '24h'],
    ['1s', 1, '1s'],
  ])('sends --window %s as windowSeconds=%i', async (window, seconds, shown) => {
    const run = await stats(ROUTES, '--window', window);
    expect(run.code).toBe(0);
    expect(deadlineQueries).toEqual([`windowSeconds=${seconds}`]);
    expect(run.stdout).toContain(`\nLast ${shown}, in seconds:\n`);
  });

  it.each(['0', '500ms', '1.5s', '25h', 'soon'])(
    'exits 2 on --window %s, before any request',
    async (window) => {
      const run = await stats(ROUTES, '--window', window);
      expect(run.code).toBe(2);
      expect(run.stdout).toBe('');
      expect(run.stderr).toContain(`"${window}" is not a`);
      expect(api?.requests).toEqual([]);
    },
  );

  it('prints the API error and exits 1', async () => {
    const run = await stats({
      ...ROUTES,
      'GET /v1/stats/deadlines': (_req, res) =>
        sendJson(res, 500, { error: 'InternalError', message: 'the window broke' }),
    });
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe('hodei: HTTP 500 InternalError: the window broke\n');
  });

  it('says the token was refused on a 401', async () => {
    const run = await stats({
      'GET /v1/stats/workers': (_req, res) =>
        sendJson(res, 401, { error: 'Unauthorized', message: 'no' }),
    });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('refused the API token (HTTP 401 Unauthorized)');
  });
});

describe('formatWindow', () => {
  it('writes seconds as hours, minutes and seconds', () => {
    expect([3600, 5400, 90, 59, 86_400, 3601].map(formatWindow)).toEqual([
      '1h',
      '1h30m',
      '1m30s',
      '59s',
      '24h',
      '1h1s',
    ]);
  });
});
