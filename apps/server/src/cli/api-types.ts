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
