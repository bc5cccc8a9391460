/** The JSON the server answers (SPEC §8), as the CLI reads it. */

export interface WorkerJson {
  readonly id: string;
  readonly providerId: string;
  readonly mode: string;
  readonly state: string;
  readonly resourceId: string;
  readonly image: string;
  readonly createdAt: string;
  readonly readyAt: string | null;
  readonly terminatedAt: string | null;
  readonly exitCode: number | null;
  readonly terminationReason: string | null;
  readonly policy: Readonly<Record<string, number | null>>;
}

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
