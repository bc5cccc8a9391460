import type { LifecycleEvent, LogLine, WorkerMode, WorkerState } from '@hodei/domain';
import { err, ok, type Result } from 'neverthrow';
import { compareKey, decodeCursor, encodeCursor, type CursorKey, type Row } from './list-cursor.js';
import type { ProviderEntry } from './provider-entry.js';
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
    /** The service's clock, for what the deadlines still have ahead. */
    private readonly now: () => number = Date.now,
  ) {}

  async list(request: ListRequest): Promise<Result<Page, WorkerServiceError>> {
    const after = request.cursor === undefined ? undefined : decodeCursor(request.cursor);
    if (after === null)
      return err(
        validationFailed([{ path: 'cursor', message: 'not a cursor this server issued' }]),
      );
    // Each provider gives its first `limit + 1` rows after the cursor, in (creation time, id)
    // order; the merge of those is the page, and one row beyond it says there is more.
    const rows = await this.#rowsAfter(request, after, request.limit + 1);
    if (rows.isErr()) return err(rows.error);
    const sorted = rows.value.sort((a, b) => compareKey(a, [b.createdAt, b.id]));
    const page = sorted.slice(0, request.limit);
    const items = page.map((row) => row.view());
    const last = page.at(-1);
    const more = sorted.length > request.limit;
    return ok({ items, nextCursor: more && last !== undefined ? encodeCursor(last) : null });
  }

  async get(workerId: string): Promise<Result<WorkerView, WorkerServiceError>> {
    const found = this.lookup.find(workerId);
    if (found !== undefined) return ok(workerView(found.worker, this.now()));
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

  /** Up to `count` rows of each provider after `after` that the request's filters let through. */
  async #rowsAfter(
    request: ListRequest,
    after: CursorKey | undefined,
    count: number,
  ): Promise<Result<Row[], WorkerServiceError>> {
    const rows: Row[] = [];
    for (const entry of this.lookup.providers) {
      if (request.providerId !== undefined && entry.id !== request.providerId) continue;
      if (entry.lifecycle !== undefined) {
        const page = entry.lifecycle.manager.listWorkersPage({
          limit: count,
          ...(after === undefined ? {} : { after }),
          ...(request.state === undefined ? {} : { state: request.state }),
          ...(request.mode === undefined ? {} : { mode: request.mode }),
        });
        for (const w of page)
          rows.push({ createdAt: w.createdAt, id: w.id, view: () => workerView(w, this.now()) });
      } else {
        const listed = await this.#bareRows(entry, request);
        if (listed.isErr()) return err(listed.error);
        const sorted = listed.value
          .filter((row) => after === undefined || compareKey(row, after) > 0)
          .sort((a, b) => compareKey(a, [b.createdAt, b.id]));
        rows.push(...sorted.slice(0, count));
      }
    }
    return ok(rows);
  }

  /** With lifecycle management off: the provider's labelled resources, read each time. */
  async #bareRows(
    entry: ProviderEntry,
    request: ListRequest,
  ): Promise<Result<Row[], WorkerServiceError>> {
    const listed = await entry.provider.listManagedWorkers();
    if (listed.isErr()) return err(listed.error);
    const rows: Row[] = [];
    for (const r of listed.value) {
      const view = resourceView(r, entry.id, entry.policy);
      if (view === undefined) continue;
      if (request.state !== undefined && view.state !== request.state) continue;
      if (request.mode !== undefined && view.mode !== request.mode) continue;
      rows.push({ createdAt: Date.parse(view.createdAt), id: view.id, view: () => view });
    }
    return ok(rows);
  }
}
