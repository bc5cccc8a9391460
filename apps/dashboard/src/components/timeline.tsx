import { shortType } from '../api/live-events';
import type { CloudEvent } from '../api/types';
import { shortTypeName, whyOf } from '../lib/event-text';
import { formatClock, formatDuration, formatTime } from '../lib/format';

/** A worker's life, event by event: when, how long after the one before, who acted and why. */
export function Timeline({ events }: { readonly events: readonly CloudEvent[] }) {
  return (
    <section class="panel" aria-labelledby="timeline-title">
      <h2 id="timeline-title">Timeline</h2>
      {events.length === 0 ? (
        <p>No event recorded yet.</p>
      ) : (
        <ol class="timeline" aria-live="polite" aria-relevant="additions">
          {events.map((event, i) => {
            const before = i === 0 ? undefined : events[i - 1];
            const gap =
              before === undefined ? null : Date.parse(event.time) - Date.parse(before.time);
            const type = shortType(event);
            const why = whyOf(event);
            return (
              <li key={event.id} class="timeline-item" data-event-type={type}>
                <span class="timeline-type">{shortTypeName(type)}</span>
                <time class="timeline-time" dateTime={event.time} title={formatTime(event.time)}>
                  {formatClock(event.time)}
                </time>
                <span class="timeline-gap">
                  {gap === null ? 'first' : `+${formatDuration(gap)}`}
                </span>
                <span class="timeline-actor">
                  by <strong>{event.actor ?? 'unknown'}</strong>
                </span>
                {why.length > 0 && <span class="timeline-why">{why.join('; ')}</span>}
              </li>
            );
          })}
        </ol>
      )}
    </section>
  );
}
