import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import type { ListFilter } from '../api/hodei-api';
import type { CloudEvent, DeadlineStats, FleetSummary } from '../api/types';
import type { Services } from '../app';
import { FleetFilters } from '../components/fleet-filters';
import { ReapStats } from '../components/reap-stats';
import { SummaryPanel } from '../components/summary-panel';
import { WorkerTable } from '../components/worker-table';
import { applyEvents, rowsOf, type FleetRows } from '../lib/fleet-rows';
import { FrameBatcher } from '../lib/next-frame';

/** Counts and figures are re-read this long after the last event, not once per event. */
const REFRESH_DEBOUNCE_MS = 750;

/** The counts and reap figures, re-read shortly after events arrive. */
function useFleetFigures(services: Services) {
  const { api, live } = services;
  const [summary, setSummary] = useState<FleetSummary | null>(null);
  const [stats, setStats] = useState<DeadlineStats | null>(null);
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    let active = true;
    const refresh = async () => {
      timer = undefined;
      const [s, d] = await Promise.all([api.summary(), api.deadlineStats(3600)]);
      if (!active) return;
      if (s.ok) setSummary(s.value);
      if (d.ok) setStats(d.value);
    };
    void refresh();
    const off = live.subscribe({
      event: () => {
        timer ??= setTimeout(() => void refresh(), REFRESH_DEBOUNCE_MS);
      },
      reset: () => void refresh(),
    });
    return () => {
      active = false;
      off();
      if (timer !== undefined) clearTimeout(timer);
    };
  }, [api, live]);
  return { summary, stats };
}

interface PageState {
  readonly rows: FleetRows;
  readonly nextCursor: string | null;
  readonly problem: string | null;
  readonly loading: boolean;
}

const EMPTY_ROWS: FleetRows = { byId: new Map(), newBeyond: 0 };

/** One page of the table, listed on demand and then kept current by the live events. */
function useWorkerPage(
  services: Services,
  filter: ListFilter,
  pageSize: number,
  cursor: string | undefined,
) {
  const { api, live } = services;
  const [page, setPage] = useState<PageState>({
    rows: EMPTY_ROWS,
    nextCursor: null,
    problem: null,
    loading: true,
  });
  const [reloads, setReloads] = useState(0);
  const context = useRef({ filter, onFirstPage: cursor === undefined, pageSize });
  context.current = { filter, onFirstPage: cursor === undefined, pageSize };

  useEffect(() => {
    let active = true;
    setPage((p) => ({ ...p, loading: true }));
    void api.listWorkers(filter, pageSize, cursor).then((r) => {
      if (!active) return;
      setPage(
        r.ok
          ? {
              rows: rowsOf(r.value.items, pageSize),
              nextCursor: r.value.nextCursor,
              problem: null,
              loading: false,
            }
          : {
              rows: EMPTY_ROWS,
              nextCursor: null,
              problem: `${r.error.message} (${r.error.status})`,
              loading: false,
            },
      );
    });
    return () => {
      active = false;
    };
  }, [api, filter, pageSize, cursor, reloads]);

  useEffect(() => {
    // Applied in batches, once a frame: a burst of events is one render, not one each.
    const batcher = new FrameBatcher<CloudEvent>((events) =>
      setPage((p) => ({ ...p, rows: applyEvents(p.rows, events, context.current) })),
    );
    const off = live.subscribe({
      event: (event) => batcher.push(event),
      reset: () => setReloads((n) => n + 1),
    });
    return () => {
      off();
      batcher.dispose();
    };
  }, [live]);
  const reload = useCallback(() => setReloads((n) => n + 1), []);
  return { page, reload };
}

/** The fleet: counts by state and provider, the reap figures, and the live table of workers. */
export function FleetView({ services }: { readonly services: Services }) {
  const { summary, stats } = useFleetFigures(services);
  const [filter, setFilter] = useState<ListFilter>({});
  const [pageSize, setPageSize] = useState(50);
  // The cursors of the pages before this one, so "previous" needs no server support.
  const [cursors, setCursors] = useState<readonly (string | undefined)[]>([undefined]);
  const cursor = cursors[cursors.length - 1];
  const { page, reload } = useWorkerPage(services, filter, pageSize, cursor);

  useEffect(() => {
    document.title = 'Fleet · Hodei Lifecycle';
  }, []);

  const changeFilter = (f: ListFilter) => {
    setFilter(f);
    setCursors([undefined]);
  };
  const nextCursor = page.nextCursor;
  const rows = [...page.rows.byId.values()];
  const shown = rows.length;
  const newBeyond = page.rows.newBeyond;
  return (
    <>
      <h1>Fleet</h1>
      <div class="fleet-panels">
        <SummaryPanel summary={summary} />
        <ReapStats stats={stats} />
      </div>
      <section class="panel" aria-labelledby="workers-title">
        <h2 id="workers-title">Workers</h2>
        <FleetFilters
          filter={filter}
          providers={summary?.providers.map((p) => p.id) ?? []}
          pageSize={pageSize}
          onFilter={changeFilter}
          onPageSize={(n) => {
            setPageSize(n);
            setCursors([undefined]);
          }}
        />
        {page.problem !== null && (
          <p class="problem" role="alert">
            Could not list the workers: {page.problem}
          </p>
        )}
        <p class="table-note" aria-live="polite">
          {page.loading
            ? 'Loading…'
            : `Page ${cursors.length}: ${shown} worker${shown === 1 ? '' : 's'}, oldest first; new ones appear at the top as they are created, while the page has room.`}
        </p>
        {newBeyond > 0 && (
          <p class="new-workers" role="status" data-new-workers={newBeyond}>
            {newBeyond} new worker{newBeyond === 1 ? '' : 's'} —{' '}
            <button type="button" class="button-quiet" onClick={reload}>
              Reload
            </button>
          </p>
        )}
        <WorkerTable rows={rows} />
        <nav class="pager" aria-label="Pages of workers">
          <button
            type="button"
            disabled={cursors.length === 1}
            onClick={() => setCursors((c) => c.slice(0, -1))}
          >
            Previous page
          </button>
          <button type="button" onClick={reload}>
            Reload
          </button>
          <button
            type="button"
            disabled={nextCursor === null}
            onClick={() => {
              if (nextCursor !== null) setCursors((c) => [...c, nextCursor]);
            }}
          >
            Next page
          </button>
        </nav>
      </section>
    </>
  );
}
