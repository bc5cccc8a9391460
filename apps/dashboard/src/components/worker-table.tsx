import { shortTypeName } from '../lib/event-text';
import type { FleetRow } from '../lib/fleet-rows';
import { workerHref } from '../lib/route';
import { RelativeTime } from './relative-time';
import { StateBadge } from './state-badge';

const FLAG_TEXT: Record<NonNullable<FleetRow['flag']>, string> = {
  new: 'new',
  'left-filter': 'no longer matches the filters',
  'cleaned-up': 'cleaned up',
};

/**
 * The page of workers; each id opens the worker. Scrolls sideways on a narrow screen. Its
 * relative times tick by themselves (`RelativeTime`): the table renders when a row changes.
 */
export function WorkerTable({ rows }: { readonly rows: readonly FleetRow[] }) {
  return (
    <div class="table-scroll" tabIndex={0} role="region" aria-label="Workers table">
      <table class="workers">
        <thead>
          <tr>
            <th scope="col">Worker</th>
            <th scope="col">State</th>
            <th scope="col">Mode</th>
            <th scope="col">Provider</th>
            <th scope="col">Image</th>
            <th scope="col">Created</th>
            <th scope="col">Last event</th>
          </tr>
        </thead>
        <tbody>
          {rows.length === 0 && (
            <tr>
              <td colSpan={7}>No worker matches.</td>
            </tr>
          )}
          {rows.map((row) => (
            <tr
              key={row.id}
              data-worker-id={row.id}
              class={row.flag === null ? '' : `row-${row.flag}`}
            >
              <th scope="row">
                <a href={workerHref(row.id)}>{row.id}</a>
                {row.flag !== null && <span class="flag"> ({FLAG_TEXT[row.flag]})</span>}
              </th>
              <td data-cell="state">
                <StateBadge state={row.state} />
              </td>
              <td>{row.mode}</td>
              <td>{row.providerId}</td>
              <td class="mono">{row.image}</td>
              <td>
                <RelativeTime iso={row.createdAt} />
              </td>
              <td>
                {row.lastEvent === null ? (
                  '—'
                ) : (
                  <RelativeTime
                    iso={row.lastEvent.time}
                    prefix={`${shortTypeName(row.lastEvent.type)}, `}
                  />
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
