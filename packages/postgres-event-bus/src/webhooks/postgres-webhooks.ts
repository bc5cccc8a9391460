import { randomUUID } from 'node:crypto';
import { type Logger, silentLogger } from '@hodei/domain';
import { err, errAsync, ok, okAsync, type Result, ResultAsync } from 'neverthrow';
import { decodeCursor, type LogPosition } from '../store/cursor.js';
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

const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/;

/**
 * Webhooks stored in PostgreSQL, each delivered by a named subscription of the event bus
 * (`webhook:<id>`): in log order, at least once, retried with backoff, dead-lettered after the
 * last try, signed as the Standard Webhooks specification says. Every process that starts it
 * runs a subscription per webhook; the lease leaves one of them delivering, and the table is
 * read every `pollMs` for the webhooks created or deleted by the others.
 */
export class PostgresWebhooks {
  readonly #options: PostgresWebhooksOptions;
  readonly #queries: WebhookQueries;
  readonly #logger: Logger;
  readonly #running = new Map<string, SubscriptionHandle>();
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
    return this.#exclusive(() =>
      this.#queries.insert(target.value).map((webhook) => {
        if (this.#started) this.#run(target.value);
        return { ...webhook, secret: target.value.secret };
      }),
    );
  }

  list(): ResultAsync<Webhook[], QueryError> {
    return this.#queries.list();
  }

  get(id: string): ResultAsync<Webhook, WebhookLookupError> {
    if (!UUID.test(id)) return errAsync(webhookNotFound(id));
    return this.#queries.list(id).andThen((rows) => {
      const webhook = rows[0];
      return webhook === undefined ? err(webhookNotFound(id)) : ok(webhook);
    });
  }

  /** Deletes the webhook; nothing is sent to it afterwards, its dead letters go with it. */
  delete(id: string): ResultAsync<void, WebhookLookupError> {
    if (!UUID.test(id)) return errAsync(webhookNotFound(id));
    return this.#exclusive(() =>
      this.#queries
        .remove(id)
        .andThen((found) => (found ? ok(undefined) : err(webhookNotFound(id))))
        .andThen(() => ResultAsync.fromSafePromise(this.#retire(id)))
        .andThen(() => this.#queries.removeLeftovers()),
    );
  }

  /**
   * Sends the events again from `from`: a cursor (the events after it), a stored event id (that
   * event and those after it) or an ISO time (the events from the first one, in log order, that
   * happened at or after it). Moves the webhook's checkpoint; it may also move it forward.
   */
  replay(id: string, from: string): ResultAsync<Webhook, ReplayWebhookError> {
    return this.get(id)
      .andThen(() => this.#replayPosition(from))
      .andThen((position) =>
        this.#exclusive(() =>
          ResultAsync.fromSafePromise(this.#retire(id, false))
            .andThen(() =>
              moveCheckpoint(
                this.#options.bus.db,
                this.#options.bus.schema,
                subscriptionOf(id),
                position,
              ),
            )
            .andThen(() => this.#queries.targets(id))
            .map((targets) => {
              for (const target of targets) if (this.#started) this.#run(target);
            }),
        ),
      )
      .andThen(() => this.get(id));
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
      return cursor.isOk()
        ? okAsync(cursor.value)
        : errAsync(invalidReplayFrom(from, cursor.error.message));
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
    if (ISO_TIME.test(from) && !Number.isNaN(Date.parse(from))) {
      // No event is older than the epoch; PostgreSQL refuses some years JavaScript takes.
      const time = new Date(Math.max(Date.parse(from), 0)).toISOString();
      return this.#queries
        .positionBeforeTime(time)
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
    const retry = this.#options.retry ?? {};
    const subscribed = this.#options.bus.subscriptions.subscribe({
      name: subscriptionOf(target.id),
      handler: (stored, context) => this.#deliver(target, stored, context),
      from: 'end',
      handlerTimeoutMs: this.#options.requestTimeoutMs ?? 10_000,
      retry: {
        maxAttempts: retry.maxAttempts ?? 8,
        initialDelayMs: retry.initialDelayMs ?? 1_000,
        maxDelayMs: retry.maxDelayMs ?? 300_000,
      },
      ...(this.#options.leaseMs === undefined ? {} : { leaseMs: this.#options.leaseMs }),
      ...(this.#options.idlePollMs === undefined ? {} : { idlePollMs: this.#options.idlePollMs }),
    });
    if (subscribed.isErr()) {
      this.#logger.warn('webhooks: subscription already running', { webhook: target.id });
      return;
    }
    this.#running.set(target.id, subscribed.value);
  }

  /** Stops this process's delivery of a webhook (and, when `gone`, the subscription's rows). */
  async #retire(id: string, gone = true): Promise<void> {
    const handle = this.#running.get(id);
    this.#running.delete(id);
    await handle?.stop();
    if (gone) this.#logger.info('webhook deleted; delivery stopped', { webhook: id });
  }

  /**
   * One attempt: events of other types are acknowledged unsent; the webhook is looked up again
   * (deleted elsewhere: nothing is sent) and its URL checked against the allowlist again.
   */
  async #deliver(
    target: WebhookTarget,
    stored: StoredEvent,
    context: HandlerContext,
  ): Promise<Result<void, string>> {
    if (target.types !== null && !target.types.includes(stored.event.type)) return ok(undefined);
    const current = await this.#queries.targets(target.id);
    if (current.isErr()) return err(`reading the webhook: ${current.error.message}`);
    if (current.value.length === 0) return ok(undefined);
    const allowed = this.#options.allowlist.check(target.url);
    const sent = allowed.isErr()
      ? err(`url refused: ${allowed.error.message}`)
      : await postEvent(target.url, target.secret, stored, context);
    const recorded = sent.isOk()
      ? await this.#queries.recordSuccess(target.id, stored.event.eventId)
      : await this.#queries.recordFailure(target.id, sent.error);
    if (recorded.isErr()) {
      this.#logger.debug('webhooks: could not record a delivery outcome', {
        webhook: target.id,
        error: recorded.error.message,
      });
    }
    return sent.map(() => undefined);
  }
}
