import type { QueryError } from '../store/event-store.errors.js';

/** A create request the engine refuses: the field named is missing or malformed. */
export interface InvalidWebhook {
  readonly type: 'InvalidWebhook';
  readonly field: 'url' | 'types' | 'secret';
  readonly message: string;
}

/** The target matches none of the operator's allowed URL prefixes. */
export interface WebhookUrlNotAllowed {
  readonly type: 'WebhookUrlNotAllowed';
  readonly url: string;
  readonly allowed: readonly string[];
  readonly message: string;
}

export interface WebhookNotFound {
  readonly type: 'WebhookNotFound';
  readonly id: string;
  readonly message: string;
}

/** `from` of a replay is no cursor, stored event id or ISO time. */
export interface InvalidReplayFrom {
  readonly type: 'InvalidReplayFrom';
  readonly from: string;
  readonly message: string;
}

/** The operator's cap on webhooks (`maxWebhooks`) is reached: delete one first. */
export interface WebhookLimitReached {
  readonly type: 'WebhookLimitReached';
  readonly limit: number;
  readonly message: string;
}

export type CreateWebhookError =
  InvalidWebhook | WebhookUrlNotAllowed | WebhookLimitReached | QueryError;
export type WebhookLookupError = WebhookNotFound | QueryError;
export type ReplayWebhookError = WebhookNotFound | InvalidReplayFrom | QueryError;

export const invalidWebhook = (
  field: InvalidWebhook['field'],
  message: string,
): InvalidWebhook => ({
  type: 'InvalidWebhook',
  field,
  message,
});

export const webhookNotFound = (id: string): WebhookNotFound => ({
  type: 'WebhookNotFound',
  id,
  message: `no webhook ${id}`,
});

export const invalidReplayFrom = (from: string, message: string): InvalidReplayFrom => ({
  type: 'InvalidReplayFrom',
  from,
  message,
});

export const webhookLimitReached = (limit: number): WebhookLimitReached => ({
  type: 'WebhookLimitReached',
  limit,
  message: `there are already ${limit} webhooks, the most allowed: delete one first`,
});
