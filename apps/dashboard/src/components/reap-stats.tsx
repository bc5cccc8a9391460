import type { DeadlineRule, DeadlineStats, LagFigures } from '../api/types';
import { formatDuration, formatSeconds } from '../lib/format';

const RULES: readonly { readonly rule: DeadlineRule; readonly label: string }[] = [
  { rule: 'lifetime', label: 'Lifetime' },
  { rule: 'idle', label: 'Idle timeout' },
  { rule: 'startup', label: 'Startup timeout' },
  { rule: 'forceRemove', label: 'Forced removal' },
  { rule: 'ttl', label: 'Retention (TTL)' },
];

function FiguresRow({ label, figures }: { readonly label: string; readonly figures: LagFigures }) {
  return (
    <tr>
      <th scope="row">{label}</th>
      <td>{figures.count}</td>
      <td>{formatSeconds(figures.p50)}</td>
      <td>{formatSeconds(figures.p90)}</td>
      <td>{formatSeconds(figures.p99)}</td>
      <td>{formatSeconds(figures.max)}</td>
    </tr>
  );
}

/**
 * How late the deadline pass acts (removal minus deadline, per rule) and how long agents sat
 * idle before they stopped, over the server's recent window.
 */
export function ReapStats({ stats }: { readonly stats: DeadlineStats | null }) {
  return (
    <section class="panel" aria-labelledby="reap-title">
      <h2 id="reap-title">
        Reap lag and idle tail
        {stats !== null && ` (last ${formatDuration(stats.windowSeconds * 1000)})`}
      </h2>
      {stats === null ? (
        <p>Loading the figures…</p>
      ) : (
        <>
          <p class="muted">
            Reap lag: how long after its deadline a worker was stopped or removed. Idle tail: how
            long after its last activity an idle agent was stopped. Kept in the server's memory
            since it started.
          </p>
          <div class="table-scroll" tabIndex={0} role="region" aria-label="Reap lag per rule">
            <table>
              <caption>Seconds, per rule</caption>
              <thead>
                <tr>
                  <th scope="col">Rule</th>
                  <th scope="col">Count</th>
                  <th scope="col">p50</th>
                  <th scope="col">p90</th>
                  <th scope="col">p99</th>
                  <th scope="col">max</th>
                </tr>
              </thead>
              <tbody>
                {RULES.map(({ rule, label }) => (
                  <FiguresRow key={rule} label={label} figures={stats.reapLag[rule]} />
                ))}
                <FiguresRow label="Idle tail" figures={stats.idleTail} />
              </tbody>
            </table>
          </div>
        </>
      )}
    </section>
  );
}
