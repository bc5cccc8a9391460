import type {
  CreatedWebhook,
  Webhook,
  WebhookDeadLetter,
  WebhookDelivery,
} from '@hodei/postgres-event-bus';
import type { ObservationSummary } from '../metrics/recent-observations.js';
import type { WorkerSummary } from '../workers/worker-summary.js';
import type { WorkerView } from '../workers/worker-view.js';

/** The JSON the server answers (SPEC §8), as the CLI reads it. */

/** A worker, as the server writes it (the server's own type). */
export type WorkerJson = WorkerView;

export interface WorkerPageJson {
  readonly items: readonly WorkerJson[];
  readonly nextCursor: string | null;
}

/** A lifecycle event's CloudEvents envelope. */
export interface CloudEventJson {
  readonly specversion: string;
  readonly id: string;
  readonly type: string;
  readonly source: string;
  readonly subject?: string;
  readonly time: string;
  readonly datacontenttype: string;
  readonly data: Readonly<Record<string, unknown>>;
  readonly correlationid?: string;
  readonly actor?: string;
}

export interface HistoryJson {
  readonly workerId: string;
  readonly events: readonly CloudEventJson[];
}

export interface GcStatsJson {
  readonly workersCleaned: number;
  readonly orphansDetected: number;
  readonly errors: number;
  readonly durationMs: number;
  readonly [reason: string]: number;
}

export interface GcJson {
  readonly workersCleaned: number;
  readonly orphansDetected: number;
  readonly errors: number;
  readonly durationMs: number;
  readonly byProvider: Readonly<Record<string, GcStatsJson>>;
}

/** `GET /v1/stats/workers`: the tracked workers by state, in all and per provider. */
export type WorkerSummaryJson = WorkerSummary;

/** `GET /v1/stats/deadlines`: seconds per series in the window, `null` figures at count 0. */
export interface DeadlineStatsJson {
  readonly windowSeconds: number;
  readonly reapLag: Readonly<
    Record<'lifetime' | 'idle' | 'startup' | 'forceRemove' | 'ttl', ObservationSummary>
  >;
  readonly idleTail: ObservationSummary;
}

/** Where a webhook's delivery stands (`GET /v1/webhooks/{id}`): the engine's own type. */
export type WebhookDeliveryJson = WebhookDelivery;

/** A webhook; `types` null: every event type. */
export type WebhookJson = Webhook;

/** `POST /v1/webhooks` answers the webhook with its secret, the only time it is shown. */
export type CreatedWebhookJson = CreatedWebhook;

export interface WebhookListJson {
  readonly items: readonly WebhookJson[];
}

/** An event a webhook gave up delivering after its last try. */
export type DeadLetterJson = WebhookDeadLetter;

export interface DeadLetterListJson {
  readonly items: readonly DeadLetterJson[];
}

export interface ErrorJson {
  readonly error: string;
  readonly message: string;
  readonly problems?: readonly { readonly path: string; readonly message: string }[];
}

export const TERMINAL_STATES: readonly string[] = ['terminated', 'failed'];

/** The prefix of every CloudEvents type the server sends. */
export const CLOUD_EVENT_TYPE_PREFIX = 'io.hodei.lifecycle.';

/** `io.hodei.lifecycle.WorkerEphemeralReady` → `WorkerEphemeralReady`. */
export const shortType = (type: string): string =>
  type.startsWith(CLOUD_EVENT_TYPE_PREFIX) ? type.slice(CLOUD_EVENT_TYPE_PREFIX.length) : type;
