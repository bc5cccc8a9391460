import { useEffect, useState } from 'preact/hooks';
import { shortType } from '../api/live-events';
import type { CloudEvent, Worker } from '../api/types';
import type { Services } from '../app';
import { DeadlinesPanel } from '../components/deadlines-panel';
import { LogTail } from '../components/log-tail';
import { StateBadge } from '../components/state-badge';
import { Timeline } from '../components/timeline';
import { WorkerActions } from '../components/worker-actions';
import { formatTime } from '../lib/format';
import { FrameBatcher, onNextFrame } from '../lib/next-frame';
import { useNow } from '../lib/use-now';

/** The worker as last read: present, gone (cleaned up: only its history remains), or unknown yet. */
type WorkerRead =
  | { readonly kind: 'loading' }
  | { readonly kind: 'present'; readonly worker: Worker }
  | { readonly kind: 'gone' }
  | { readonly kind: 'problem'; readonly message: string };

const CLEANED_UP = 'WorkerEphemeralCleanedUp';

/** Events by id, oldest first: history and live events overlap around the load. */
function merge(a: readonly CloudEvent[], b: readonly CloudEvent[]): readonly CloudEvent[] {
  const byId = new Map<string, CloudEvent>();
  for (const e of [...a, ...b]) byId.set(e.id, e);
  return [...byId.values()].sort((x, y) => Date.parse(x.time) - Date.parse(y.time));
}

/**
 * The worker's history and state, kept current: live events are taken from the start (so
 * none falls between the history and the stream), applied in batches; a batch re-reads the
 * worker, at most once a frame.
 */
function useWorker(services: Services, id: string) {
  const { api, live } = services;
  const [events, setEvents] = useState<readonly CloudEvent[]>([]);
  const [read, setRead] = useState<WorkerRead>({ kind: 'loading' });
  const [historyProblem, setHistoryProblem] = useState<string | null>(null);

  useEffect(() => {
    let active = true;
    // Once cleaned up it stays gone: a late answer must not bring it back, nor a new GET 404.
    let gone = false;
    const markGone = () => {
      gone = true;
      setRead({ kind: 'gone' });
    };
    const readWorker = async () => {
      if (gone) return;
      const r = await api.getWorker(id);
      if (!active || gone) return;
      if (r.ok) setRead({ kind: 'present', worker: r.value });
      else if (r.error.status === 404) markGone();
      else setRead({ kind: 'problem', message: `${r.error.message} (${r.error.status})` });
    };
    // A burst of events is one read: at most one a frame, and never two at once (asked again
    // once the one under way answers, when more came meanwhile).
    let reading = false;
    let again = false;
    let cancelRead: (() => void) | null = null;
    const readSoon = () => {
      if (reading) {
        again = true;
        return;
      }
      cancelRead ??= onNextFrame(() => {
        cancelRead = null;
        reading = true;
        void readWorker().finally(() => {
          reading = false;
          if (again && active) {
            again = false;
            readSoon();
          }
        });
      });
    };
    const batcher = new FrameBatcher<CloudEvent>((batch) => {
      setEvents((e) => merge(e, batch));
      if (batch.some((event) => shortType(event) === CLEANED_UP)) markGone();
      else readSoon();
    });
    const off = live.subscribe({
      event: (event) => {
        if (event.subject === id) batcher.push(event);
      },
      // Events may have been missed (a reconnect): read the history and the worker again.
      reset: () => {
        void api.history(id).then((h) => {
          if (active && h.ok) setEvents((e) => merge(h.value.events, e));
        });
        readSoon();
      },
    });
    void api.history(id).then((h) => {
      if (!active) return;
      const history = h.ok ? h.value.events : [];
      setEvents((e) => merge(history, e));
      setHistoryProblem(h.ok ? null : `${h.error.message} (${h.error.status})`);
      // A cleaned-up worker's record is gone: its history is all there is to read.
      if (history.some((e) => shortType(e) === CLEANED_UP)) markGone();
      else void readWorker();
    });
    return () => {
      active = false;
      off();
      batcher.dispose();
      cancelRead?.();
    };
  }, [api, live, id]);

  const changed = (worker: Worker) => setRead({ kind: 'present', worker });
  return { events, read, historyProblem, changed };
}

function Facts({ worker }: { readonly worker: Worker }) {
  const rows: [string, string][] = [
    ['Mode', worker.mode],
    ['Provider', worker.providerId],
    ['Image', worker.image],
    ['Container', worker.resourceId],
    ['Created', formatTime(worker.createdAt)],
    ['Ready', worker.readyAt === null ? '—' : formatTime(worker.readyAt)],
    ['Terminated', worker.terminatedAt === null ? '—' : formatTime(worker.terminatedAt)],
    ['Exit code', worker.exitCode === null ? '—' : String(worker.exitCode)],
    ['Termination reason', worker.terminationReason ?? '—'],
  ];
  return (
    <dl class="facts facts-grid">
      {rows.map(([k, v]) => (
        <div key={k} class="fact">
          <dt>{k}</dt>
          <dd class={k === 'Image' || k === 'Container' ? 'mono' : ''}>{v}</dd>
        </div>
      ))}
    </dl>
  );
}

/** One worker: its state and facts, deadlines, actions, timeline and log. */
export function WorkerView({ id, services }: { readonly id: string; readonly services: Services }) {
  const now = useNow();
  const { events, read, historyProblem, changed } = useWorker(services, id);

  useEffect(() => {
    document.title = `${id} · Hodei Lifecycle`;
    document.getElementById('worker-title')?.focus();
  }, [id]);

  return (
    <>
      <p class="breadcrumb">
        <a href="#/">← Fleet</a>
      </p>
      <h1 id="worker-title" tabIndex={-1}>
        Worker <span class="mono">{id}</span>{' '}
        {read.kind === 'present' && <StateBadge state={read.worker.state} />}
        {read.kind === 'gone' && <span class="badge state-gone">cleaned up</span>}
      </h1>
      {read.kind === 'loading' && <p role="status">Loading…</p>}
      {read.kind === 'problem' && (
        <p class="problem" role="alert">
          Could not read the worker: {read.message}
        </p>
      )}
      {read.kind === 'gone' && (
        <p class="note" role="status">
          This worker is no longer tracked (cleaned up, or never existed here); its recorded history
          follows.
        </p>
      )}
      {historyProblem !== null && (
        <p class="problem" role="alert">
          Could not read its history: {historyProblem}
        </p>
      )}
      {read.kind === 'present' && (
        <div class="worker-panels">
          <section class="panel" aria-labelledby="facts-title">
            <h2 id="facts-title">Facts</h2>
            <Facts worker={read.worker} />
          </section>
          <DeadlinesPanel worker={read.worker} now={now} />
          <WorkerActions api={services.api} worker={read.worker} onChanged={changed} />
        </div>
      )}
      <Timeline events={events} />
      <LogTail api={services.api} workerId={id} available={read.kind === 'present'} />
    </>
  );
}
