import type { LifecycleEvent, LogLine, WorkerMode, WorkerState } from '@hodei/domain';
import { err, ok, type Result } from 'neverthrow';
import { compareKey, decodeCursor, encodeCursor, type Row } from './list-cursor.js';
import { capLogLines, DEFAULT_LOG_LIMITS, type LogLimits } from './log-response.js';
import { validationFailed, workerNotFound, type WorkerServiceError } from './service.errors.js';
import type { WorkerLookup } from './worker-lookup.js';
import { resourceView, workerView, type WorkerView } from './worker-view.js';

export interface ListRequest {
  readonly state?: WorkerState;
  readonly providerId?: string;
  readonly mode?: WorkerMode;
  readonly limit: number;
  readonly cursor?: string;
}

export interface LogsRequest {
  readonly follow: boolean;
  /** The last N lines, or `all`; absent: the limits' default tail. */
  readonly tail?: number | 'all';
  readonly signal?: AbortSignal;
}

export interface Page {
  readonly items: readonly WorkerView[];
  readonly nextCursor: string | null;
}

/** Where a worker's history comes from: the event store, or the live stream's memory. */
export interface HistorySource {
  eventsOfWorker(workerId: string): Promise<Result<readonly LifecycleEvent[], WorkerServiceError>>;
}

/** What can be read of workers, changing nothing: listing, one worker, its logs and history. */
export class WorkerQueries {
  constructor(
    private readonly lookup: WorkerLookup,
    private readonly historySource: HistorySource,
    private readonly logLimits: LogLimits = DEFAULT_LOG_LIMITS,
  ) {}

  async list(request: ListRequest): Promise<Result<Page, WorkerServiceError>> {
    const after = request.cursor === undefined ? undefined : decodeCursor(request.cursor);
    if (after === null)
      return err(
        validationFailed([{ path: 'cursor', message: 'not a cursor this server issued' }]),
      );
    // Sorted by (creation time, id) on the raw records; only the page is turned into views.
    const rows = await this.#rows(request);
    if (rows.isErr()) return err(rows.error);
    const sorted = rows.value.sort((a, b) => compareKey(a, [b.createdAt, b.id]));
    const start = after === undefined ? 0 : sorted.findIndex((row) => compareKey(row, after) > 0);
    const from = start === -1 ? sorted.length : start;
    const page = sorted.slice(from, from + request.limit);
    const items = page.map((row) => row.view());
    const last = page.at(-1);
    const more = from + request.limit < sorted.length;
    return ok({ items, nextCursor: more && last !== undefined ? encodeCursor(last) : null });
  }

  async get(workerId: string): Promise<Result<WorkerView, WorkerServiceError>> {
    const found = this.lookup.find(workerId);
    if (found !== undefined) return ok(workerView(found.worker));
    for (const entry of this.lookup.providers) {
      if (entry.lifecycle !== undefined) continue;
      const view = await this.lookup.bareView(entry, workerId);
      if (view !== undefined) return ok(view);
    }
    return err(workerNotFound(workerId));
  }

  /**
   * The worker's output as it is read, the last `defaultTail` lines unless told otherwise,
   * cut at `maxBytes` with a closing truncation line (a followed stream too).
   */
  async logs(
    workerId: string,
    options: LogsRequest,
  ): Promise<Result<AsyncIterable<LogLine>, WorkerServiceError>> {
    const handle = await this.lookup.handle(workerId);
    if (handle === undefined) return err(workerNotFound(workerId));
    const tail = options.tail ?? this.logLimits.defaultTail;
    const lines = await handle.provider.logs(handle.handle, {
      follow: options.follow,
      ...(tail === 'all' ? {} : { tail }),
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    });
    return lines.map((source) => capLogLines(source, this.logLimits.maxBytes));
  }

  async history(workerId: string): Promise<Result<readonly LifecycleEvent[], WorkerServiceError>> {
    const events = await this.historySource.eventsOfWorker(workerId);
    if (events.isErr()) return err(events.error);
    if (events.value.length === 0 && this.lookup.find(workerId) === undefined)
      return err(workerNotFound(workerId));
    return ok(events.value);
  }

  /** Every worker the request's filters let through, in no order. */
  async #rows(request: ListRequest): Promise<Result<Row[], WorkerServiceError>> {
    const rows: Row[] = [];
    for (const entry of this.lookup.providers) {
      if (request.providerId !== undefined && entry.id !== request.providerId) continue;
      if (entry.lifecycle !== undefined) {
        for (const w of entry.lifecycle.manager.listWorkers({
          ...(request.state === undefined ? {} : { state: request.state }),
          ...(request.mode === undefined ? {} : { mode: request.mode }),
        })) {
          rows.push({ createdAt: w.createdAt, id: w.id, view: () => workerView(w) });
        }
      } else {
        const listed = await entry.provider.listManagedWorkers();
        if (listed.isErr()) return err(listed.error);
        for (const r of listed.value) {
          const view = resourceView(r, entry.id, entry.policy);
          if (view === undefined) continue;
          if (request.state !== undefined && view.state !== request.state) continue;
          if (request.mode !== undefined && view.mode !== request.mode) continue;
          rows.push({ createdAt: Date.parse(view.createdAt), id: view.id, view: () => view });
        }
      }
    }
    return ok(rows);
  }
}
