import { useState } from 'preact/hooks';
import type { ListFilter } from '../api/hodei-api';
import { WORKER_STATES, type WorkerMode, type WorkerState } from '../api/types';
import { workerHref } from '../lib/route';

const ID_PATTERN = '[a-z0-9]([a-z0-9\\-]{0,48}[a-z0-9])?';

/** The filters of the table (applied as they change) and the search by exact id. */
export function FleetFilters({
  filter,
  providers,
  pageSize,
  onFilter,
  onPageSize,
}: {
  readonly filter: ListFilter;
  readonly providers: readonly string[];
  readonly pageSize: number;
  readonly onFilter: (filter: ListFilter) => void;
  readonly onPageSize: (size: number) => void;
}) {
  const [search, setSearch] = useState('');
  const open = (event: Event) => {
    event.preventDefault();
    const id = search.trim();
    if (id !== '') window.location.hash = workerHref(id);
  };
  const orUndefined = <T extends string>(value: string): T | undefined =>
    value === '' ? undefined : (value as T);

  return (
    <div class="filters">
      <form class="search" role="search" onSubmit={open}>
        <label for="search-id">Worker id</label>
        <input
          id="search-id"
          type="search"
          value={search}
          pattern={ID_PATTERN}
          placeholder="exact id"
          onInput={(e) => setSearch(e.currentTarget.value)}
        />
        <button type="submit">Open</button>
      </form>
      <fieldset>
        <legend>Filters</legend>
        <label>
          State
          <select
            value={filter.state ?? ''}
            onChange={(e) =>
              onFilter({ ...filter, state: orUndefined<WorkerState>(e.currentTarget.value) })
            }
          >
            <option value="">any</option>
            {WORKER_STATES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        <label>
          Provider
          <select
            value={filter.providerId ?? ''}
            onChange={(e) =>
              onFilter({ ...filter, providerId: orUndefined(e.currentTarget.value) })
            }
          >
            <option value="">any</option>
            {providers.map((p) => (
              <option key={p} value={p}>
                {p}
              </option>
            ))}
          </select>
        </label>
        <label>
          Mode
          <select
            value={filter.mode ?? ''}
            onChange={(e) =>
              onFilter({ ...filter, mode: orUndefined<WorkerMode>(e.currentTarget.value) })
            }
          >
            <option value="">any</option>
            <option value="job">job</option>
            <option value="agent">agent</option>
          </select>
        </label>
        <label>
          Per page
          <select
            value={String(pageSize)}
            onChange={(e) => onPageSize(Number(e.currentTarget.value))}
          >
            {[5, 25, 50, 100, 250].map((n) => (
              <option key={n} value={String(n)}>
                {n}
              </option>
            ))}
          </select>
        </label>
      </fieldset>
    </div>
  );
}
