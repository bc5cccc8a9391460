import { WORKER_STATES, type FleetSummary } from '../api/types';

/** How many workers are in each state, in all and per provider. */
export function SummaryPanel({ summary }: { readonly summary: FleetSummary | null }) {
  return (
    <section class="panel" aria-labelledby="counts-title">
      <h2 id="counts-title">Workers by state</h2>
      {summary === null ? (
        <p>Loading the counts…</p>
      ) : (
        <>
          <ul class="counts" aria-label="All providers">
            <li class="count count-total">
              <span class="count-value" data-count="total">
                {summary.total}
              </span>
              <span class="count-label">tracked</span>
            </li>
            {WORKER_STATES.map((s) => (
              <li key={s} class={`count state-${s}`}>
                <span class="count-value" data-count={s}>
                  {summary.byState[s]}
                </span>
                <span class="count-label">{s}</span>
              </li>
            ))}
          </ul>
          <div class="table-scroll" tabIndex={0} role="region" aria-label="Counts per provider">
            <table>
              <caption>Per provider</caption>
              <thead>
                <tr>
                  <th scope="col">Provider</th>
                  <th scope="col">Lifecycle</th>
                  <th scope="col">Live</th>
                  {WORKER_STATES.map((s) => (
                    <th key={s} scope="col">
                      {s}
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {summary.providers.map((p) => (
                  <tr key={p.id}>
                    <th scope="row">{p.id}</th>
                    <td>{p.lifecycle ? 'managed' : 'off'}</td>
                    <td>{p.live}</td>
                    {WORKER_STATES.map((s) => (
                      <td key={s}>{p.byState[s]}</td>
                    ))}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}
    </section>
  );
}
