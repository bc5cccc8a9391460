import type Docker from 'dockerode';
import {
  isOwnedBy,
  OWNERSHIP_LABELS,
  parseWorkerId,
  type Logger,
  type ProviderId,
  type ProviderWatchEvent,
  type WatchSubscription,
} from '@hodei/domain';
import { dockerCall, messageOf } from './docker-call.js';
import { ownedBy } from './list-managed-workers.js';
import { healthOf } from './map-container-state.js';

/** One line of Docker's `/events` stream, as far as the adapter reads it. */
export interface DockerEventMessage {
  readonly Type?: string;
  readonly Action?: string;
  readonly Actor?: { readonly ID?: string; readonly Attributes?: Record<string, string> };
  readonly time?: number;
  readonly timeNano?: number;
}

export interface DockerEventWatchOptions {
  readonly docker: Docker;
  readonly providerId: ProviderId;
  readonly connectTimeoutMs: number;
  readonly initialBackoffMs: number;
  readonly maxBackoffMs: number;
  /** Epoch milliseconds; a reconnection before any event asks for events since then. */
  readonly now: () => number;
  readonly logger: Logger;
}

/** How far before the watch began a reconnection with no event seen yet looks back. */
const RECONNECT_SLACK_MS = 5_000;
/** Handled events remembered for deduplication: at least the last minute, at most this many. */
const SEEN_LIMIT = 4_096;
const SEEN_HORIZON_NS = 60_000_000_000n;

/**
 * Maps one event to a notification, remembering OOM kills until the `die` that follows them.
 * Returns undefined for events that are not ours or not about the lifecycle.
 */
export function toWatchEvent(
  message: DockerEventMessage,
  providerId: ProviderId,
  oomKilled: Set<string>,
): ProviderWatchEvent | undefined {
  const attributes = message.Actor?.Attributes ?? {};
  const resourceId = message.Actor?.ID;
  if (message.Type !== 'container' || resourceId === undefined) return undefined;
  if (!isOwnedBy(attributes, providerId)) return undefined;
  const workerId = parseWorkerId(attributes[OWNERSHIP_LABELS.workerId]);
  if (workerId.isErr()) return undefined;
  const action = message.Action ?? '';
  const base = { workerId: workerId.value, resourceId };
  if (action === 'start') return { type: 'started', ...base };
  if (action === 'oom') {
    oomKilled.add(resourceId);
    return undefined;
  }
  if (action === 'die') {
    const code = Number.parseInt(attributes['exitCode'] ?? '', 10);
    const oom = oomKilled.delete(resourceId);
    const finishedAt =
      typeof message.timeNano === 'number'
        ? Math.floor(message.timeNano / 1_000_000)
        : typeof message.time === 'number'
          ? message.time * 1_000
          : undefined;
    return {
      type: 'exited',
      ...base,
      exitCode: Number.isNaN(code) ? null : code,
      oomKilled: oom,
      ...(finishedAt === undefined ? {} : { finishedAt }),
    };
  }
  if (action === 'destroy') {
    oomKilled.delete(resourceId);
    return { type: 'removed', ...base };
  }
  if (action.startsWith('health_status')) {
    return { type: 'health', ...base, health: healthOf(action.split(':')[1]?.trim()) };
  }
  return undefined;
}

/**
 * Docker's events stream for one provider's containers. It reconnects with backoff while the
 * daemon is gone, asking for the events `since` the last one seen and dropping the replayed
 * ones; what the daemon no longer holds (it keeps 256) is left to reconciliation.
 */
export class DockerEventWatch implements WatchSubscription {
  #closed = false;
  #stream: (NodeJS.ReadableStream & { destroy?: () => void }) | undefined;
  #timer: NodeJS.Timeout | undefined;
  #backoff: number;
  /** Nanoseconds of the newest event handled (the daemon's clock). */
  #lastNano = 0n;
  #connected = false;
  readonly #startedAt: number;
  /** Events handled recently, by time, actor and action, to drop the replayed ones. */
  readonly #seen = new Map<string, bigint>();
  readonly #oomKilled = new Set<string>();

  constructor(
    private readonly options: DockerEventWatchOptions,
    private readonly listener: (event: ProviderWatchEvent) => void,
  ) {
    this.#backoff = options.initialBackoffMs;
    this.#startedAt = options.now();
    this.#connect();
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#stream?.destroy?.();
    this.#stream = undefined;
  }

  #connect(): void {
    if (this.#closed) return;
    const { docker, providerId, connectTimeoutMs } = this.options;
    // The first connection takes live events only. A reconnection asks the daemon (by its own
    // clock) for what it holds since the last event seen, or since a little before the watch
    // began (allowing for clock skew); the replayed ones are dropped below.
    const since = !this.#connected
      ? undefined
      : this.#lastNano > 0n
        ? Number(this.#lastNano / 1_000_000_000n) - 1
        : Math.floor((this.#startedAt - RECONNECT_SLACK_MS) / 1_000);
    void dockerCall(
      'events',
      connectTimeoutMs,
      (signal) =>
        docker.getEvents({
          ...(since === undefined ? {} : { since }),
          filters: {
            type: ['container'],
            label: ownedBy(providerId),
          },
          abortSignal: signal,
        }) as Promise<NodeJS.ReadableStream & { destroy?: () => void }>,
    ).match(
      (stream) => {
        if (this.#closed) {
          stream.destroy?.();
          return;
        }
        this.#backoff = this.options.initialBackoffMs;
        const reconnected = this.#connected;
        this.#connected = true;
        this.#stream = stream;
        this.#read(stream);
        // What the engine no longer holds (it keeps 256 events) only a listing can tell.
        if (reconnected) this.listener({ type: 'resynced' });
      },
      (failure) => {
        this.options.logger.warn('docker events stream unavailable, retrying', {
          providerId,
          kind: failure.kind,
          retryInMs: this.#backoff,
        });
        this.#retry();
      },
    );
  }

  #read(stream: NodeJS.ReadableStream & { destroy?: () => void }): void {
    let buffered = '';
    let ended = false;
    const onEnd = (): void => {
      if (ended) return;
      ended = true;
      if (this.#stream === stream) this.#stream = undefined;
      this.#retry();
    };
    stream.on('data', (chunk: Buffer | string) => {
      buffered += chunk.toString();
      let newline = buffered.indexOf('\n');
      while (newline >= 0) {
        const line = buffered.slice(0, newline).trim();
        buffered = buffered.slice(newline + 1);
        if (line !== '') this.#handle(line);
        newline = buffered.indexOf('\n');
      }
    });
    stream.on('error', (error: unknown) => {
      if (!this.#closed) {
        this.options.logger.warn('docker events stream broke', { error: messageOf(error) });
      }
      onEnd();
    });
    stream.on('end', onEnd);
    stream.on('close', onEnd);
  }

  #retry(): void {
    if (this.#closed) return;
    clearTimeout(this.#timer);
    const delay = this.#backoff;
    this.#backoff = Math.min(this.#backoff * 2, this.options.maxBackoffMs);
    this.#timer = setTimeout(() => this.#connect(), delay);
  }

  #handle(line: string): void {
    let message: DockerEventMessage;
    try {
      message = JSON.parse(line) as DockerEventMessage;
    } catch {
      this.options.logger.warn('unreadable docker event', { line });
      return;
    }
    const nano =
      typeof message.timeNano === 'number'
        ? BigInt(Math.trunc(message.timeNano))
        : BigInt(Math.trunc(message.time ?? 0)) * 1_000_000_000n;
    // A reconnection replays from a little before the last event: skip what was handled.
    // Never drop by time alone: the daemon may publish concurrent events slightly out of order.
    const key = `${nano}/${message.Actor?.ID ?? ''}/${message.Action ?? ''}`;
    if (this.#seen.has(key)) return;
    this.#seen.set(key, nano);
    if (nano > this.#lastNano) this.#lastNano = nano;
    if (this.#seen.size > SEEN_LIMIT) {
      const horizon = this.#lastNano - SEEN_HORIZON_NS;
      for (const [k, at] of this.#seen) {
        if (at >= horizon && this.#seen.size <= SEEN_LIMIT) break;
        this.#seen.delete(k);
      }
    }
    const event = toWatchEvent(message, this.options.providerId, this.#oomKilled);
    if (event === undefined) return;
    try {
      this.listener(event);
    } catch (error) {
      this.options.logger.error('watch listener threw', { error: messageOf(error) });
    }
  }
}
