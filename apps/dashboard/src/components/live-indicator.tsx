import { useEffect, useState } from 'preact/hooks';
import type { LiveEvents, LiveStatus } from '../api/live-events';

const LABELS: Record<LiveStatus, string> = {
  connecting: 'Connecting…',
  live: 'Live',
  reconnecting: 'Reconnecting…',
  closed: 'Not live',
};

/** Whether the page receives events as they happen. */
export function LiveIndicator({ live }: { readonly live: LiveEvents }) {
  const [status, setStatus] = useState<LiveStatus>(live.status);
  useEffect(() => {
    setStatus(live.status);
    return live.subscribe({ status: setStatus });
  }, [live]);
  return (
    <p class={`live live-${status}`} role="status" data-live-status={status}>
      <span class="live-dot" aria-hidden="true" />
      {LABELS[status]}
    </p>
  );
}
