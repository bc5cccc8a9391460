import { randomBytes } from 'node:crypto';
import type { DockerConnection } from '@hodei/docker-adapter';
import pg from 'pg';
import type { ChurnReport, ChurnTarget } from './churn.js';
import {
  lifeProblems,
  livesOf,
  lostEvents,
  orderFindings,
  type Finding,
  type LoggedEvent,
} from './life-histories.js';

/** Two containers that are not ours: the checker makes sure nothing touched them. */
export interface Decoys {
  /** No hodei labels at all. */
  readonly unlabelled: string;
  /** Our labels, but another provider id's. */
  readonly otherProvider: string;
}

export interface InvariantReport {
  readonly leaks: number;
  readonly ghosts: number;
  readonly overdue: number;
  readonly decoysTouched: number;
  readonly invalidHistories: number;
  readonly duplicateEventIds: number;
  readonly orderViolations: number;
  readonly lostEvents: number;
  readonly undocumentedAnswers: number;
  /** The first findings of each kind, to say what broke. */
  readonly findings: readonly {
    readonly kind: string;
    readonly subject: string;
    readonly problem: string;
  }[];
}

export interface CheckInput {
  readonly engine: { readonly docker: Docker; readonly image: string };
  readonly server: ChurnTarget;
  readonly databaseUrl: string;
  readonly providerId: string;
  readonly decoys: Decoys;
  readonly churn: ChurnReport | readonly ChurnReport[];
  /** How far past its next deadline a worker may still be (a pass, a graceful stop); default 15 s. */
  readonly escalationMs?: number;
  /** The scenario's name, printed with the report. */
  readonly scenario?: string;
}

interface TrackedWorker {
  readonly id: string;
  readonly state: string;
  readonly resourceId: string;
  readonly deadlines?: { readonly next?: { readonly at: string } | null };
}

type Docker = DockerConnection['docker'];

const LIVE = new Set(['creating', 'ready', 'busy', 'terminating']);
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Starts the two decoys on the engine: an unlabelled container and one labelled as another
 * provider's worker. The server must never stop or remove either.
 */
export async function createDecoys(engine: { docker: Docker; image: string }): Promise<Decoys> {
  const start = async (labels: Record<string, string>) => {
    const c = await engine.docker.createContainer({
      Image: engine.image,
      Cmd: ['sleep', '3600'],
      Labels: labels,
      // An engine restart stops every container; only the engine itself brings decoys back.
      HostConfig: { NetworkMode: 'none', RestartPolicy: { Name: 'unless-stopped' } },
    });
    await c.start();
    return c.id;
  };
  const other = `other-${randomBytes(3).toString('hex')}`;
  return {
    unlabelled: await start({}),
    otherProvider: await start({
      'hodei.managed': 'true',
      'hodei.provider-id': other,
      'hodei.worker-id': 'decoy',
      'hodei.mode': 'agent',
    }),
  };
}

/**
 * Starts the decoys again where an engine crash stopped them (the crash, not the server, did):
 * the checker then sees whether the server stops or removes them afterwards.
 */
export async function restartDecoys(engine: { docker: Docker }, decoys: Decoys): Promise<void> {
  for (const id of [decoys.unlabelled, decoys.otherProvider]) {
    const c = engine.docker.getContainer(id);
    if ((await c.inspect()).State.Running) continue;
    // 304: its restart policy started it meanwhile.
    await c.start().catch((e: { statusCode?: number }) => {
      if (e.statusCode !== 304) throw e;
    });
  }
}

async function api(
  server: ChurnTarget,
  method: string,
  path: string,
): Promise<{ status: number; body: unknown }> {
  const r = await fetch(`${server.baseUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${server.token}` },
    signal: AbortSignal.timeout(60_000),
  });
  const text = await r.text();
  return { status: r.status, body: text === '' ? undefined : (JSON.parse(text) as unknown) };
}

async function trackedWorkers(server: ChurnTarget, providerId: string): Promise<TrackedWorker[]> {
  const all: TrackedWorker[] = [];
  let cursor: string | null = null;
  do {
    const query: string = cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`;
    const page = await api(
      server,
      'GET',
      `/v1/workers?providerId=${providerId}&limit=1000${query}`,
    );
    if (page.status !== 200)
      throw new Error(`listing workers answered ${page.status}: ${JSON.stringify(page.body)}`);
    const body = page.body as { items: TrackedWorker[]; nextCursor: string | null };
    all.push(...body.items);
    cursor = body.nextCursor;
  } while (cursor !== null);
  return all;
}

/** Every event of the provider's streams in `hodei.events`, in log order. */
export async function loggedEvents(
  databaseUrl: string,
  providerId: string,
): Promise<LoggedEvent[]> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const rows = await client.query<{
      event_id: string;
      type: string;
      stream_id: string;
      stream_position: string;
      global_position: string;
      time: Date;
      data: Record<string, unknown>;
    }>(
      `SELECT event_id, type, stream_id, stream_position, global_position, time, data
         FROM hodei.events WHERE provider_id = $1 ORDER BY global_position`,
      [providerId],
    );
    return rows.rows.map((r) => ({
      eventId: r.event_id,
      type: r.type,
      streamId: r.stream_id,
      streamPosition: Number(r.stream_position),
      globalPosition: Number(r.global_position),
      time: r.time.toISOString(),
      data: r.data,
    }));
  } finally {
    await client.end();
  }
}

async function decoysTouched(docker: Docker, decoys: Decoys): Promise<Finding[]> {
  const findings: Finding[] = [];
  for (const [name, id] of Object.entries(decoys) as [string, string][]) {
    try {
      const state = (await docker.getContainer(id).inspect()).State;
      if (!state.Running || state.Paused) {
        findings.push({
          subject: name,
          problem: `now ${state.Status} (exit ${state.ExitCode}, finished ${state.FinishedAt})`,
        });
      }
    } catch {
      findings.push({ subject: name, problem: 'removed' });
    }
  }
  return findings;
}

const isReportList = (c: ChurnReport | readonly ChurnReport[]): c is readonly ChurnReport[] =>
  Array.isArray(c);

const sameResource = (a: string, b: string) =>
  a !== '' && b !== '' && (a.startsWith(b) || b.startsWith(a));

/** Containers versus tracked workers: leaks, ghosts, and workers past their deadlines. */
async function trackingFindings(
  input: CheckInput,
  workers: readonly TrackedWorker[],
): Promise<{ leaks: Finding[]; ghosts: Finding[]; overdue: Finding[] }> {
  const containers = await input.engine.docker.listContainers({
    all: true,
    filters: { label: [`hodei.provider-id=${input.providerId}`] },
  });
  const leaks = containers
    .filter((c) => !workers.some((w) => sameResource(w.resourceId, c.Id)))
    .map((c) => ({
      subject: c.Labels['hodei.worker-id'] ?? c.Id,
      problem: `untracked container, ${c.State}`,
    }));
  const ghosts = workers
    .filter((w) => LIVE.has(w.state) && !containers.some((c) => sameResource(w.resourceId, c.Id)))
    .map((w) => ({ subject: w.id, problem: `${w.state} without its container ${w.resourceId}` }));
  const now = Date.now();
  const escalation = input.escalationMs ?? 15_000;
  const overdue = workers
    .filter((w) => {
      const at = w.deadlines?.next?.at;
      return at !== undefined && Date.parse(at) + escalation < now;
    })
    .map((w) => ({ subject: w.id, problem: `${w.state}, due ${w.deadlines?.next?.at}` }));
  return { leaks, ghosts, overdue };
}

/**
 * Checks every promise of the README after a scenario (issue 11): two passes run first (on
 * the API), then containers, tracked workers, decoys, the event log and the churn's answers
 * are compared. Prints the counts, so a run's log says what each scenario saw.
 */
export async function checkInvariants(input: CheckInput): Promise<InvariantReport> {
  for (let pass = 0; pass < 2; pass += 1) {
    await api(input.server, 'POST', '/v1/gc');
    await sleep(1500);
  }
  const workers = await trackedWorkers(input.server, input.providerId);
  const tracking = await trackingFindings(input, workers);
  const events = await loggedEvents(input.databaseUrl, input.providerId);
  const trackedResources = new Set(workers.map((w) => w.resourceId));
  const { lives, findings: splitFindings } = livesOf(events);
  const histories = [...splitFindings];
  for (const life of lives) {
    const tracked = [...trackedResources].some((r) => sameResource(r, life.resourceId));
    for (const problem of lifeProblems(life, tracked)) {
      histories.push({ subject: `${life.workerId}/${life.resourceId.slice(0, 12)}`, problem });
    }
  }
  const { duplicates, order } = orderFindings(events);
  const churns: readonly ChurnReport[] = isReportList(input.churn) ? input.churn : [input.churn];
  const lost = lostEvents(
    churns.flatMap((c) => c.acknowledged),
    lives,
    trackedResources,
  );
  const undocumented = churns
    .flatMap((c) => c.undocumented)
    .map((a) => ({ subject: a.route, problem: `${a.status} ${a.error ?? ''}` }));
  const touched = await decoysTouched(input.engine.docker, input.decoys);
  const kinds: Record<string, Finding[]> = {
    leak: tracking.leaks,
    ghost: tracking.ghosts,
    overdue: tracking.overdue,
    decoy: touched,
    history: histories,
    duplicate: duplicates,
    order,
    lost,
    undocumented,
  };
  const report: InvariantReport = {
    leaks: tracking.leaks.length,
    ghosts: tracking.ghosts.length,
    overdue: tracking.overdue.length,
    decoysTouched: touched.length,
    invalidHistories: histories.length,
    duplicateEventIds: duplicates.length,
    orderViolations: order.length,
    lostEvents: lost.length,
    undocumentedAnswers: undocumented.length,
    findings: Object.entries(kinds).flatMap(([kind, list]) =>
      list.slice(0, 8).map((f) => ({ kind, ...f })),
    ),
  };
  printReport(input, report, churns, events.length, lives.length);
  return report;
}

function printReport(
  input: CheckInput,
  report: InvariantReport,
  churns: readonly ChurnReport[],
  events: number,
  lives: number,
): void {
  const { findings, ...counts } = report;
  const churn = {
    created: churns.reduce((n, c) => n + c.created, 0),
    answers: churns.reduce((n, c) => n + c.answers.length, 0),
    connectionErrors: churns.reduce((n, c) => n + c.connectionErrors, 0),
    status: Object.fromEntries(
      [
        ...new Set(
          churns.flatMap((c) => c.answers.map((a) => `${a.status}${a.error ? ` ${a.error}` : ''}`)),
        ),
      ].map((k) => [
        k,
        churns.reduce(
          (n, c) =>
            n + c.answers.filter((a) => `${a.status}${a.error ? ` ${a.error}` : ''}` === k).length,
          0,
        ),
      ]),
    ),
  };
  console.log(
    `fault checker [${input.scenario ?? input.providerId}]: ${JSON.stringify(counts)}\n` +
      `  churn: ${JSON.stringify(churn)}; events ${events}, lives ${lives}\n` +
      findings.map((f) => `  ${f.kind}: ${f.subject}: ${f.problem}`).join('\n'),
  );
}

/** The counts alone, to assert all zero with a readable diff. */
export const countsOf = ({ findings: _, ...counts }: InvariantReport) => counts;

/** What every count must be. */
export const ALL_ZERO = {
  leaks: 0,
  ghosts: 0,
  overdue: 0,
  decoysTouched: 0,
  invalidHistories: 0,
  duplicateEventIds: 0,
  orderViolations: 0,
  lostEvents: 0,
  undocumentedAnswers: 0,
} as const;
