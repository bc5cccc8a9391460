import type { DeadlineRule, Deadlines, Worker } from '../api/types';
import { formatDuration, formatRelative, formatTime } from '../lib/format';

const RULE_TEXT: Record<DeadlineRule, string> = {
  lifetime: 'its maximum lifetime',
  idle: 'the idle timeout (no activity)',
  startup: 'the startup timeout (not ready in time)',
  forceRemove: 'forced removal (its grace period is over)',
  ttl: 'cleanup (its retention after finishing is over)',
};

const ROWS: readonly {
  readonly key: keyof Omit<Deadlines, 'next'>;
  readonly label: string;
  readonly rule: string;
}[] = [
  { key: 'lifetimeAt', label: 'Lifetime', rule: 'terminated for LifetimeExceeded' },
  {
    key: 'idleAt',
    label: 'Idle',
    rule: 'terminated for IdleTimeout: last activity plus idle timeout',
  },
  { key: 'startupAt', label: 'Startup', rule: 'terminated for StartupTimeout while creating' },
  { key: 'forceRemoveAt', label: 'Forced removal', rule: 'removed by force while terminating' },
  { key: 'cleanupAt', label: 'Cleanup', rule: 'cleaned up once its retention is over' },
  { key: 'expiryWarningAt', label: 'Expiry warning', rule: 'WorkerEphemeralExpiring goes out' },
];

function When({
  at,
  now,
  id,
}: {
  readonly at: string;
  readonly now: number;
  readonly id?: string;
}) {
  return (
    <>
      <time id={id} dateTime={at}>
        {formatTime(at)}
      </time>{' '}
      <span class="relative">({formatRelative(at, now)})</span>
    </>
  );
}

/** What stops the worker next and when, each deadline that applies, and its last activity. */
export function DeadlinesPanel({ worker, now }: { readonly worker: Worker; readonly now: number }) {
  const { deadlines, lastActivity, policy } = worker;
  const next = deadlines.next;
  return (
    <section class="panel" aria-labelledby="deadlines-title">
      <h2 id="deadlines-title">Deadlines</h2>
      <p class="next-deadline" data-next-rule={next?.rule ?? ''}>
        {next === null ? (
          'No deadline applies: nothing will stop it on its own.'
        ) : (
          <>
            <strong>Next:</strong> stops for {RULE_TEXT[next.rule]} at{' '}
            <When at={next.at} now={now} />
          </>
        )}
      </p>
      <dl class="facts">
        {ROWS.map(({ key, label, rule }) => {
          const at = deadlines[key];
          return (
            <div key={key} class="fact">
              <dt>{label}</dt>
              <dd data-deadline={key}>
                {at === null ? (
                  <span class="muted">does not apply</span>
                ) : (
                  <When at={at} now={now} id={`deadline-${key}`} />
                )}
                <span class="hint"> — {rule}</span>
              </dd>
            </div>
          );
        })}
        <div class="fact">
          <dt>Last activity</dt>
          <dd>
            {lastActivity === null ? (
              <span class="muted">not tracked</span>
            ) : (
              <>
                <When at={lastActivity.at} now={now} /> by {lastActivity.by}
              </>
            )}
          </dd>
        </div>
        <div class="fact">
          <dt>Policy</dt>
          <dd>
            lifetime {formatDuration(policy.maxLifetimeSeconds * 1000)}, idle{' '}
            {formatDuration(policy.idleTimeoutSeconds * 1000)}, startup{' '}
            {formatDuration(policy.startupTimeoutSeconds * 1000)}, grace{' '}
            {formatDuration(policy.gracefulTerminationTimeoutSeconds * 1000)}, retention{' '}
            {policy.ttlAfterCompletionSeconds === null
              ? 'none'
              : formatDuration(policy.ttlAfterCompletionSeconds * 1000)}
          </dd>
        </div>
      </dl>
    </section>
  );
}
