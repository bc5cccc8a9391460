import { randomUUID } from 'node:crypto';
import { type Logger, silentLogger } from '@hodei/domain';
import { err, errAsync, ok, okAsync, type Result, ResultAsync } from 'neverthrow';
import { decodeCursor, encodeCursor, type LogPosition } from '../store/cursor.js';
import { UUID, type StoredEvent } from '../store/event-row.js';
import type { QueryError } from '../store/event-store.errors.js';
import { moveCheckpoint } from '../subscription/move-checkpoint.js';
import type { HandlerContext, SubscriptionHandle } from '../subscription/subscription.types.js';
import type { UrlAllowlist } from './url-allowlist.js';
import { postEvent } from './webhook-delivery.js';
import { subscriptionOf, WebhookQueries, type WebhookTarget } from './webhook-queries.js';
import { generateSecret, parseSecret } from './webhook-signature.js';
import { parseEventTypes } from './webhook-types.js';
import {
  type CreateWebhookError,
  invalidReplayFrom,
  invalidWebhook,
  type ReplayWebhookError,
  webhookLimitReached,
  type WebhookLookupError,
  webhookNotFound,
} from './webhook.errors.js';
import type {
  CreatedWebhook,
  NewWebhook,
  PostgresWebhooksOptions,
  Webhook,
  WebhookDeadLetter,
} from './webhook.types.js';

const ISO_TIME =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(?:Z|[+-](\d{2}):?(\d{2}))$/;

/** The largest xid8 (unsigned 64 bits) and bigint (signed 64 bits) PostgreSQL takes. */
const MAX_XID8 = 2n ** 64n - 1n;
const MAX_BIGINT = 2n ** 63n - 1n;

/** The deadline pass's reports: sent only to a webhook whose types name them. */
const PASS_REPORT_TYPES: readonly string[] = ['GarbageCollectionCompleted'];

/** Whether a webhook of `types` (null: every type but the pass reports) is sent `type`. */
const wants = (types: readonly string[] | null, type: string): boolean =>
  types === null ? !PASS_REPORT_TYPES.includes(type) : types.includes(type);

/** True when every part of an ISO time that matched `ISO_TIME` exists (no 30 February). */
function isRealTime(match: RegExpExecArray): boolean {
  const [, y, mo, d, h, mi, sec, oh, om] = match.map((part) => Number(part ?? '0'));
  const daysInMonth = new Date(Date.UTC(y ?? 0, mo ?? 0, 0)).getUTCDate();
  return (
    (mo ?? 0) >= 1 &&
    (mo ?? 0) <= 12 &&
    (d ?? 0) >= 1 &&
    (d ?? 0) <= daysInMonth &&
    (h ?? 0) <= 23 &&
    (mi ?? 0) <= 59 &&
    (sec ?? 0) <= 59 &&
    (oh ?? 0) <= 23 &&
    (om ?? 0) <= 59
  );
}

/** A cursor's position compared with another, in log order. */
const after = (a: LogPosition, b: LogPosition): boolean => {
  const [at, bt] = [BigInt(a.transactionId), BigInt(b.transactionId)];
  return at !== bt ? at > bt : BigInt(a.globalPosition) > BigInt(b.globalPosition);
};

/** A webhook this process delivers: its subscription and the target it was started with. */
interface Running {
  readonly handle: SubscriptionHandle;
  readonly target: WebhookTarget;
  /** Set before it is stopped: the abort that follows is no failure of the receiver. */
  retired: boolean;
}

/**
 * Webhooks stored in PostgreSQL, each delivered by a named subscription of the event bus
 * (`webhook:<id>`): in log order, at least once, retried with backoff, dead-lettered after the
 * last try, signed as the Standard Webhooks specification says. Every process that starts it
 * runs a subscription per webhook; the lease leaves one of them delivering, and the table is
 * read every `pollMs` for the webhooks created or deleted by the others. The targets are
 * cached from those reads (no query before each request); a webhook deleted by this process
 * is stopped before its row is deleted, one deleted by another is stopped at the next table read
 * or as soon as recording an outcome finds its row gone, whichever comes first.
 */
export class PostgresWebhooks {
  readonly #options: PostgresWebhooksOptions;
  readonly #queries: WebhookQueries;
  readonly #logger: Logger;
  readonly #running = new Map<string, Running>();
  #started = false;
  #timer: NodeJS.Timeout | null = null;
  /** create, delete, replay and the poll take turns, so none restarts what another stops. */
  #turn: Promise<unknown> = Promise.resolve();

  constructor(options: PostgresWebhooksOptions) {
    this.#options = options;
    this.#queries = new WebhookQueries(options.bus.db, options.bus.schema);
    this.#logger = options.logger ?? silentLogger;
  }

  get allowlist(): UrlAllowlist {
    return this.#options.allowlist;
  }

  /** Stores the webhook; its deliveries start with the events appended from now on. */
  create(input: NewWebhook): ResultAsync<CreatedWebhook, CreateWebhookError> {
    const target = this.#validate(input);
    if (target.isErr()) return errAsync(target.error);
    const limit = this.#options.maxWebhooks ?? 100;
    return this.#exclusive(() =>
      this.#queries
        .count()
        .andThen((n) => (n >= limit ? err(webhookLimitReached(limit)) : ok(undefined)))
        .andThen(() => this.#queries.insert(target.value))
        .map((webhook) => {
          if (this.#started) this.#run(target.value);
          return { ...webhook, secret: target.value.secret };
        }),
    );
  }

  list(): ResultAsync<Webhook[], QueryError> {
    return this.#queries.list();
  }

  /** Ids are UUIDs, in any case; answers show them in lower case. */
  get(id: string): ResultAsync<Webhook, WebhookLookupError> {
    if (!UUID.test(id)) return errAsync(webhookNotFound(id));
    return this.#queries.list(id.toLowerCase()).andThen((rows) => {
      const webhook = rows[0];
      return webhook === undefined ? err(webhookNotFound(id)) : ok(webhook);
    });
  }

  /**
   * Deletes the webhook; nothing is sent to it afterwards, its dead letters go with it. A
   * request in flight here is aborted (and not counted as a failure).
   */
  delete(anyCaseId: string): ResultAsync<void, WebhookLookupError> {
    if (!UUID.test(anyCaseId)) return errAsync(webhookNotFound(anyCaseId));
    const id = anyCaseId.toLowerCase();
    // Stopped first: no request of this process starts once the row is gone (no query runs
    // before a request). A failed delete leaves it stopped until the next table read.
    return this.#exclusive(() =>
      ResultAsync.fromSafePromise(this.#retire(id, false))
        .andThen(() => this.#queries.remove(id))
        .andThen((found) => {
          if (!found) return err(webhookNotFound(id));
          this.#logger.info('webhook deleted; delivery stopped', { webhook: id });
          return ok(undefined);
        })
        .andThen(() => this.#queries.removeLeftovers()),
    );
  }

  /**
   * Sends the events again from `from`: a cursor (the events after it), a stored event id (that
   * event and those after it) or an ISO time (the events from the first one, in log order, that
   * happened at or after it). Moves the webhook's checkpoint; it may also move it forward, but
   * not past the log head.
   */
  replay(anyCaseId: string, from: string): ResultAsync<Webhook, ReplayWebhookError> {
    const id = anyCaseId.toLowerCase();
    return this.get(id)
      .andThen(() => this.#replayPosition(from))
      .andThen((position) => this.#exclusive(() => this.#moveAndRestart(id, position)))
      .andThen(() => this.get(id));
  }

  /**
   * Stops this process's delivery, moves the checkpoint, and starts the delivery again whether
   * the move succeeded or not (a failed move must not leave the webhook stopped).
   */
  #moveAndRestart(id: string, position: LogPosition): ResultAsync<void, QueryError> {
    const cached = this.#running.get(id)?.target;
    const steps = async (): Promise<Result<void, QueryError>> => {
      await this.#retire(id, false);
      const moved = await moveCheckpoint(
        this.#options.bus.db,
        this.#options.bus.schema,
        subscriptionOf(id),
        position,
      );
      // Not delivered here before: read it (failing, the next table read starts it).
      const targets = cached === undefined ? await this.#queries.targets(id) : ok([cached]);
      if (targets.isOk()) for (const target of targets.value) if (this.#started) this.#run(target);
      return moved.andThen(() => targets.map(() => undefined));
    };
    return new ResultAsync(steps());
  }

  deadLetters(id: string): ResultAsync<WebhookDeadLetter[], WebhookLookupError> {
    return this.get(id).andThen(() => this.#queries.deadLetters(id));
  }

  /**
   * Starts delivering every stored webhook, then reads the table every `pollMs`. A failed
   * first read is returned, and the polls go on trying.
   */
  start(): ResultAsync<void, QueryError> {
    if (this.#started) return okAsync(undefined);
    this.#started = true;
    this.#timer = setInterval(() => void this.#sync(), this.#options.pollMs ?? 5_000);
    return this.#sync();
  }

  /** Stops every delivery of this process (saving the checkpoints, freeing the leases). */
  async stop(): Promise<void> {
    this.#started = false;
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
    await this.#turn;
    await Promise.all([...this.#running.keys()].map((id) => this.#retire(id, false)));
  }

  #validate(input: NewWebhook): Result<WebhookTarget, CreateWebhookError> {
    if (typeof input.url !== 'string') return err(invalidWebhook('url', 'url must be a string'));
    const url = this.#options.allowlist.check(input.url);
    if (url.isErr()) return err(url.error);
    const types = parseEventTypes(input.types);
    if (types.isErr()) return err(types.error);
    const secret = input.secret === undefined ? ok(generateSecret()) : parseSecret(input.secret);
    if (secret.isErr()) return err(secret.error);
    return ok({ id: randomUUID(), url: url.value, types: types.value, secret: secret.value });
  }

  #replayPosition(from: string): ResultAsync<LogPosition, ReplayWebhookError> {
    if (from.startsWith('c1.')) {
      const cursor = decodeCursor(from);
      if (cursor.isErr()) return errAsync(invalidReplayFrom(from, cursor.error.message));
      const { transactionId, globalPosition } = cursor.value;
      if (BigInt(transactionId) > MAX_XID8 || BigInt(globalPosition) > MAX_BIGINT) {
        return errAsync(invalidReplayFrom(from, 'not a cursor issued by this event bus'));
      }
      return this.#options.bus.store
        .headCursor()
        .andThen((head) => decodeCursor(head))
        .andThen((head) =>
          after(cursor.value, head)
            ? err(
                invalidReplayFrom(
                  from,
                  `the cursor ${from} is after the log head ${encodeCursor(head)}`,
                ),
              )
            : ok(cursor.value),
        );
    }
    if (UUID.test(from)) {
      return this.#options.bus.store.positionOf(from).andThen((position) =>
        position === undefined
          ? err(invalidReplayFrom(from, `no event ${from} in the log`))
          : ok({
              transactionId: position.transactionId,
              globalPosition: (BigInt(position.globalPosition) - 1n).toString(),
            }),
      );
    }
    const time = ISO_TIME.exec(from);
    if (time !== null && isRealTime(time) && !Number.isNaN(Date.parse(from))) {
      // No event is older than the epoch; PostgreSQL refuses some years JavaScript takes.
      const since = new Date(Math.max(Date.parse(from), 0)).toISOString();
      return this.#queries
        .positionBeforeTime(since)
        .andThen((position) =>
          position === undefined
            ? this.#options.bus.store.headCursor().andThen((head) => decodeCursor(head))
            : okAsync(position),
        );
    }
    return errAsync(
      invalidReplayFrom(from, 'from must be an event cursor, an event id or an ISO 8601 time'),
    );
  }

  /** Runs `step` after the steps called before it have settled. */
  #exclusive<T, E>(step: () => ResultAsync<T, E>): ResultAsync<T, E> {
    const result = this.#turn.then(() => step());
    this.#turn = result.catch(() => undefined);
    return new ResultAsync(result.then((r) => r));
  }

  #sync(): ResultAsync<void, QueryError> {
    return this.#exclusive(() =>
      this.#queries.targets().andThen((targets) => {
        if (!this.#started) return okAsync(undefined);
        const stored = new Set(targets.map((t) => t.id));
        for (const target of targets) if (!this.#running.has(target.id)) this.#run(target);
        const gone = [...this.#running.keys()].filter((id) => !stored.has(id));
        return ResultAsync.fromSafePromise(Promise.all(gone.map((id) => this.#retire(id)))).andThen(
          () => (gone.length > 0 ? this.#queries.removeLeftovers() : okAsync(undefined)),
        );
      }),
    ).orElse((error) => {
      this.#logger.warn('webhooks: reading the table failed; retrying at the next poll', {
        error: error.message,
      });
      return errAsync(error);
    });
  }

  #run(target: WebhookTarget): void {
    if (this.#running.has(target.id)) return;
    // Filled in once subscribed; the handler runs only after that.
    const running = { target, retired: false } as Running;
    const retry = this.#options.retry ?? {};
    const subscribed = this.#options.bus.subscriptions.subscribe({
      name: subscriptionOf(target.id),
      handler: (stored, context) => this.#deliver(running, stored, context),
      from: 'end',
      handlerTimeoutMs: this.#options.requestTimeoutMs ?? 10_000,
      retry: {
        maxAttempts: retry.maxAttempts ?? 8,
        initialDelayMs: retry.initialDelayMs ?? 1_000,
        maxDelayMs: retry.maxDelayMs ?? 300_000,
      },
      ...(this.#options.leaseMs === undefined ? {} : { leaseMs: this.#options.leaseMs }),
      idlePollMs: this.#options.idlePollMs ?? 10_000,
    });
    if (subscribed.isErr()) {
      this.#logger.warn('webhooks: subscription already running', { webhook: target.id });
      return;
    }
    Object.assign(running, { handle: subscribed.value });
    this.#running.set(target.id, running);
  }

  /** Stops this process's delivery of a webhook (and, when `gone`, the subscription's rows). */
  async #retire(id: string, gone = true): Promise<void> {
    const running = this.#running.get(id);
    this.#running.delete(id);
    if (running !== undefined) running.retired = true;
    await running?.handle.stop();
    if (gone) this.#logger.info('webhook deleted; delivery stopped', { webhook: id });
  }

  /**
   * One attempt, from the cached target: events of other types are acknowledged unsent (for a
   * webhook without types, the deadline pass's reports: they come every pass, and a receiver
   * asks for them by naming the type, as an SSE client does with heartbeats); the URL
   * is checked against the allowlist again, and one it no longer allows dead-letters the event
   * at once (retrying cannot help). An abort because this process stops or moves the delivery
   * is no failure of the receiver: it is not recorded. A webhook found deleted when recording
   * the outcome is stopped here.
   */
  async #deliver(
    running: Running,
    stored: StoredEvent,
    context: HandlerContext,
  ): Promise<Result<void, string>> {
    const { target } = running;
    if (!wants(target.types, stored.event.type)) return ok(undefined);
    const allowed = this.#options.allowlist.check(target.url);
    if (allowed.isErr()) {
      const reason = `url refused: ${allowed.error.message}`;
      await this.#record(running, this.#queries.recordFailure(target.id, reason));
      const parked = await this.#queries.deadLetter(target.id, stored, reason);
      if (parked.isErr()) return err(`dead-lettering: ${parked.error.message}`);
      this.#logger.warn('webhooks: url no longer allowed; event dead-lettered unsent', {
        webhook: target.id,
        eventId: stored.event.eventId,
      });
      return ok(undefined);
    }
    const sent = await postEvent(
      target.url,
      target.secret,
      stored,
      context,
      this.#options.userAgent ?? 'hodei',
    );
    if (sent.isErr() && running.retired) return err(sent.error);
    await this.#record(
      running,
      sent.isOk()
        ? this.#queries.recordSuccess(target.id, stored.event.eventId)
        : this.#queries.recordFailure(target.id, sent.error),
    );
    return sent.map(() => undefined);
  }

  /** Awaits an outcome's record; a row gone means deleted elsewhere: stop delivering it. */
  async #record(running: Running, recorded: ResultAsync<boolean, QueryError>): Promise<void> {
    const found = await recorded;
    if (found.isErr()) {
      this.#logger.debug('webhooks: could not record a delivery outcome', {
        webhook: running.target.id,
        error: found.error.message,
      });
      return;
    }
    if (found.value || running.retired) return;
    // Not awaited: stopping waits for this handler to return.
    void this.#exclusive(() =>
      ResultAsync.fromSafePromise(
        this.#running.get(running.target.id) === running
          ? this.#retire(running.target.id)
          : Promise.resolve(),
      ).andThen(() => this.#queries.removeLeftovers()),
    );
  }
}
