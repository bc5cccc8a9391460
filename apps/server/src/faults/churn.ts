import { randomBytes } from 'node:crypto';

/** Where the churn sends its requests. */
export interface ChurnTarget {
  readonly baseUrl: string;
  readonly token: string;
}

export interface ChurnOptions {
  /** Creates to acknowledge (201) before the churn ends on its own; default 120. */
  readonly workers?: number;
  /** Requests in flight at once; default 8. */
  readonly concurrency?: number;
  /** Distinct worker ids, reused life after life; default 40. */
  readonly ids?: number;
  /** The id prefix; default a fresh one. */
  readonly prefix?: string;
  /** Ends the churn after this long even if `workers` were not all created; default 3 min. */
  readonly maxDurationMs?: number;
  /** How long a finished worker is kept before its cleanup; default 1 s. */
  readonly ttlAfterCompletionSeconds?: number;
}

/** One answer of the API (or the lack of one). */
export interface ChurnAnswer {
  readonly route: string;
  /** 0: no answer (connection refused or reset, or a timeout). */
  readonly status: number;
  /** The body's `error`, or the network error's code. */
  readonly error?: string;
  readonly at: number;
}

/** An operation the API acknowledged, so its event must be in the log. */
export interface AcknowledgedOperation {
  readonly kind: 'create' | 'ready' | 'busy' | 'delete';
  readonly workerId: string;
  readonly mode: 'job' | 'agent';
  /** The life it belongs to: the worker's `resourceId` in the answer. */
  readonly resourceId?: string;
  readonly status: number;
  /** A job's exit code (the command it runs exits with it). */
  readonly exitCode?: number;
  readonly at: number;
}

export interface ChurnReport {
  readonly answers: readonly ChurnAnswer[];
  readonly acknowledged: readonly AcknowledgedOperation[];
  /** Answers that are not 2xx, 4xx or a documented 503, and requests that timed out. */
  readonly undocumented: readonly ChurnAnswer[];
  /** Requests that found no server (refused or reset): expected only while it is down. */
  readonly connectionErrors: number;
  readonly created: number;
  readonly durationMs: number;
}

/**
 * The 503s the worker routes document (their OpenAPI responses, docs/operations.md) and the
 * server sends (`statusOf`, the write gate): retry later. Every other 503 breaks the promise.
 */
export const DOCUMENTED_503 = new Set([
  // Not recovered yet, or not acting: lock lost, database down, shutting down (the write gate).
  'ProviderNotRecovered',
  // The event log cannot take the change's event; nothing was changed.
  'PublisherBackpressure',
  // The provider cannot be reached, timed out, or failed (an image pull, an engine error).
  'ProviderUnavailable',
  'ProviderTimeout',
  'ProviderFailure',
]);

const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET']);
const REQUEST_TIMEOUT_MS = 30_000;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

interface Sent {
  readonly status: number;
  readonly body: Record<string, unknown> | undefined;
}

/** Whether an answer keeps the API's promise: 2xx, 4xx, or a 503 the docs name. */
export function isDocumented(answer: ChurnAnswer): boolean {
  if (answer.status >= 200 && answer.status < 300) return true;
  if (answer.status >= 400 && answer.status < 500) return true;
  return answer.status === 503 && answer.error !== undefined && DOCUMENTED_503.has(answer.error);
}

const codeOf = (cause: unknown): string => {
  const inner = (cause as { cause?: { code?: string } }).cause;
  if (typeof inner?.code === 'string') return inner.code;
  const name = (cause as { name?: string }).name;
  return name === 'TimeoutError' ? 'Timeout' : String(name ?? 'Error');
};

class Recorder {
  readonly answers: ChurnAnswer[] = [];
  readonly acknowledged: AcknowledgedOperation[] = [];
  constructor(private readonly target: ChurnTarget) {}

  async send(method: string, path: string, route: string, body?: unknown): Promise<Sent> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.target.token}` };
    if (body !== undefined) headers['content-type'] = 'application/json';
    try {
      const response = await fetch(`${this.target.baseUrl}${path}`, {
        method,
        headers,
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await response.text();
      let parsed: Record<string, unknown> | undefined;
      try {
        parsed = text === '' ? undefined : (JSON.parse(text) as Record<string, unknown>);
      } catch {
        parsed = undefined;
      }
      const error = typeof parsed?.['error'] === 'string' ? parsed['error'] : undefined;
      this.answers.push({
        route: `${method} ${route}`,
        status: response.status,
        ...(error === undefined ? {} : { error }),
        at: Date.now(),
      });
      return { status: response.status, body: parsed };
    } catch (cause) {
      this.answers.push({
        route: `${method} ${route}`,
        status: 0,
        error: codeOf(cause),
        at: Date.now(),
      });
      return { status: 0, body: undefined };
    }
  }

  ack(op: Omit<AcknowledgedOperation, 'at'>): void {
    this.acknowledged.push({ ...op, at: Date.now() });
  }
}

const resourceOf = (body: Record<string, unknown> | undefined): string | undefined =>
  typeof body?.['resourceId'] === 'string' ? body['resourceId'] : undefined;

const JOB_POLICY = {
  gracefulTerminationTimeoutSeconds: 1,
  maxLifetimeSeconds: 60,
  idleTimeoutSeconds: 20,
  startupTimeoutSeconds: 30,
};
const AGENT_POLICY = {
  gracefulTerminationTimeoutSeconds: 1,
  idleTimeoutSeconds: 20,
  maxLifetimeSeconds: 60,
  startupTimeoutSeconds: 30,
};

/** One life under `id`: create (retrying while the last life is still there), then drive it. */
async function live(
  rec: Recorder,
  id: string,
  n: number,
  stopped: () => boolean,
  ttlAfterCompletionSeconds = 1,
): Promise<boolean> {
  const mode = n % 3 === 0 ? 'agent' : 'job';
  const exitCode = n % 4;
  const ttl = { ttlAfterCompletionSeconds };
  const body =
    mode === 'agent'
      ? { id, mode, command: ['sleep', '600'], policy: { ...AGENT_POLICY, ...ttl } }
      : {
          id,
          command: ['sh', '-c', `sleep 0.${n % 8}; exit ${exitCode}`],
          policy: { ...JOB_POLICY, ...ttl },
        };
  let created: Sent | undefined;
  for (let attempt = 0; attempt < 40 && !stopped(); attempt += 1) {
    const r = await rec.send('POST', '/v1/workers', '/v1/workers', body);
    if (r.status === 201) {
      created = r;
      break;
    }
    // A request the API refuses as such is the churn's own bug: retrying cannot help.
    if (r.status === 400) return false;
    await sleep(r.status === 0 ? 250 : 150);
  }
  if (created === undefined) return false;
  const resourceId = resourceOf(created.body);
  const base = { workerId: id, mode, ...(resourceId === undefined ? {} : { resourceId }) } as const;
  rec.ack({ ...base, kind: 'create', status: 201, ...(mode === 'job' ? { exitCode } : {}) });
  if (mode === 'job') {
    await rec.send('GET', `/v1/workers/${id}`, '/v1/workers/:id');
    return true;
  }
  for (const to of ['ready', 'busy', 'ready'] as const) {
    const r = await rec.send('POST', `/v1/workers/${id}/${to}`, `/v1/workers/:id/${to}`);
    if (r.status === 200) rec.ack({ ...base, kind: to, status: 200 });
  }
  const gone = await rec.send('DELETE', `/v1/workers/${id}`, '/v1/workers/:id');
  if (gone.status === 200 || gone.status === 202)
    rec.ack({ ...base, kind: 'delete', status: gone.status });
  return true;
}

/**
 * Drives the API as a busy fleet would: jobs with short TTLs, agents marked ready and busy and
 * deleted, ids reused once their last life is cleaned up, `concurrency` lives at once. Every
 * answer and every acknowledged operation is recorded for the invariant checker.
 */
export function startChurn(
  target: ChurnTarget,
  o: ChurnOptions = {},
): { stop(): Promise<ChurnReport>; done: Promise<ChurnReport> } {
  const workers = o.workers ?? 120;
  const ids = o.ids ?? 40;
  const prefix = o.prefix ?? `churn-${randomBytes(3).toString('hex')}`;
  const deadline = Date.now() + (o.maxDurationMs ?? 180_000);
  const rec = new Recorder(target);
  const t0 = Date.now();
  let stopped = false;
  let next = 0;
  let created = 0;
  const isStopped = () => stopped || created >= workers || Date.now() > deadline;
  const loop = async () => {
    while (!isStopped()) {
      const n = next;
      next += 1;
      const id = `${prefix}-${n % ids}`;
      if (await live(rec, id, n, isStopped, o.ttlAfterCompletionSeconds)) created += 1;
    }
  };
  const done = Promise.all(Array.from({ length: o.concurrency ?? 8 }, loop)).then(
    (): ChurnReport => ({
      answers: rec.answers,
      acknowledged: rec.acknowledged,
      undocumented: rec.answers
        .filter((a) => a.status !== 0 && !isDocumented(a))
        .concat(rec.answers.filter((a) => a.status === 0 && !CONNECTION_CODES.has(a.error ?? ''))),
      connectionErrors: rec.answers.filter(
        (a) => a.status === 0 && CONNECTION_CODES.has(a.error ?? ''),
      ).length,
      created,
      durationMs: Date.now() - t0,
    }),
  );
  return {
    done,
    stop: () => {
      stopped = true;
      return done;
    },
  };
}

/** Runs a churn to its end (`workers` created, or its maximum duration). */
export const runChurn = (target: ChurnTarget, o: ChurnOptions = {}): Promise<ChurnReport> =>
  startChurn(target, o).done;
