import { useState } from 'preact/hooks';
import type { ApiResult } from '../api/client';
import type { HodeiApi } from '../api/hodei-api';
import type { Worker } from '../api/types';
import { formatTime } from '../lib/format';

const LIVE_STATES = new Set(['creating', 'ready', 'busy']);

/** The answer to an action, said in the status line. */
function answerText(what: string, r: ApiResult<Worker>): string {
  if (!r.ok) return `${what} refused (${r.error.status} ${r.error.error}): ${r.error.message}`;
  return `${what}: done (${r.status}); the worker is ${r.value.state}.`;
}

/** Delete asks once more, in the page, before it acts. */
function DeleteControl({
  id,
  pending,
  onDelete,
}: {
  readonly id: string;
  readonly pending: boolean;
  readonly onDelete: () => void;
}) {
  const [confirming, setConfirming] = useState(false);
  if (!confirming)
    return (
      <button
        type="button"
        class="button-danger"
        disabled={pending}
        onClick={() => setConfirming(true)}
      >
        Delete…
      </button>
    );
  return (
    <span class="confirm" role="group" aria-label="Confirm the delete">
      <span>Stop and remove {id}?</span>
      <button
        type="button"
        class="button-danger"
        disabled={pending}
        onClick={() => {
          setConfirming(false);
          onDelete();
        }}
      >
        Yes, delete it
      </button>
      <button type="button" onClick={() => setConfirming(false)}>
        Cancel
      </button>
    </span>
  );
}

/** The new maximum lifetime, in whole minutes counted from the worker's creation. */
function ExtendForm({
  worker,
  pending,
  onExtend,
  onInvalid,
}: {
  readonly worker: Worker;
  readonly pending: boolean;
  readonly onExtend: (minutes: number) => void;
  readonly onInvalid: (message: string) => void;
}) {
  const [minutes, setMinutes] = useState(() =>
    String(Math.ceil(worker.policy.maxLifetimeSeconds / 60) + 30),
  );
  const submit = (event: Event) => {
    event.preventDefault();
    const n = Number(minutes);
    if (Number.isInteger(n) && n >= 1) onExtend(n);
    else onInvalid('Extend: give the lifetime as a whole number of minutes, 1 or more.');
  };
  return (
    <form class="extend" onSubmit={submit}>
      <label for="lifetime-minutes">Maximum lifetime, in minutes from its creation</label>
      <input
        id="lifetime-minutes"
        type="number"
        min={1}
        step={1}
        inputMode="numeric"
        value={minutes}
        onInput={(e) => setMinutes(e.currentTarget.value)}
      />
      <button type="submit" disabled={pending}>
        Extend
      </button>
    </form>
  );
}

/** The actions the worker's state allows; each says in the status line what the server answered. */
export function WorkerActions({
  api,
  worker,
  onChanged,
}: {
  readonly api: HodeiApi;
  readonly worker: Worker;
  readonly onChanged: (worker: Worker) => void;
}) {
  const [status, setStatus] = useState('');
  const [pending, setPending] = useState(false);

  const act = async (
    what: string,
    call: () => Promise<ApiResult<Worker>>,
    said: (w: Worker, status: number) => string = (w, status) =>
      answerText(what, { ok: true, status, value: w }),
  ) => {
    setPending(true);
    setStatus(`${what}…`);
    const r = await call();
    setPending(false);
    setStatus(r.ok ? said(r.value, r.status) : answerText(what, r));
    if (r.ok) onChanged(r.value);
  };
  const mark = (to: 'ready' | 'busy') => void act(`Mark ${to}`, () => api.mark(worker.id, to));
  const extend = (minutes: number) =>
    void act(
      'Extend',
      () => api.changePolicy(worker.id, { maxLifetimeSeconds: minutes * 60 }),
      (w, status) =>
        `Extend: done (${status}); its lifetime is now ${minutes} minutes, so it stops for its lifetime at ${
          w.deadlines.lifetimeAt === null ? '—' : formatTime(w.deadlines.lifetimeAt)
        }.`,
    );
  const destroy = () =>
    void act(
      'Delete',
      () => api.destroy(worker.id),
      (w, status) =>
        w.state === 'terminating'
          ? `Delete: accepted (${status}); the worker is terminating and will be removed.`
          : `Delete: done (${status}); the worker is ${w.state}.`,
    );

  const agent = worker.mode === 'agent';
  return (
    <section class="panel" aria-labelledby="actions-title">
      <h2 id="actions-title">Actions</h2>
      <div class="toolbar">
        {agent && (worker.state === 'busy' || worker.state === 'creating') && (
          <button type="button" disabled={pending} onClick={() => mark('ready')}>
            Mark ready
          </button>
        )}
        {agent && worker.state === 'ready' && (
          <button type="button" disabled={pending} onClick={() => mark('busy')}>
            Mark busy
          </button>
        )}
        {worker.state !== 'terminating' && (
          <DeleteControl id={worker.id} pending={pending} onDelete={destroy} />
        )}
      </div>
      {LIVE_STATES.has(worker.state) && (
        <ExtendForm
          // A new lifetime (an extend, here or elsewhere) gives the form a new default.
          key={worker.policy.maxLifetimeSeconds}
          worker={worker}
          pending={pending}
          onExtend={extend}
          onInvalid={setStatus}
        />
      )}
      <p class="status-line" role="status" data-status-line>
        {status}
      </p>
    </section>
  );
}
