import { shortType, type DeadLetterJson, type WebhookJson } from './api-types.js';
import type { Paint, Style } from './colour.js';
import { ageOf } from './format-age.js';
import type { Cell } from './table.js';

/** How `hodei webhooks …` prints webhooks and dead letters. */

export const WEBHOOK_HEADERS = [
  'ID',
  'URL',
  'TYPES',
  'DELIVERED',
  'FAILURES',
  'DEAD LETTERS',
  'LAST DELIVERED',
];
export const WEBHOOK_WIDE_HEADERS = [...WEBHOOK_HEADERS, 'ACTIVE', 'CURSOR', 'AGE', 'LAST ERROR'];

/** Every type when the webhook names none. */
const typesOf = (w: WebhookJson): string =>
  w.types === null || w.types.length === 0 ? 'all' : w.types.map(shortType).join(',');

const countCell = (n: number, style: Style): Cell => ({
  text: String(n),
  style: n > 0 ? style : undefined,
});

export function webhookRow(w: WebhookJson, now: number, wide: boolean): Cell[] {
  const d = w.delivery;
  const row: Cell[] = [
    w.id,
    w.url,
    typesOf(w),
    String(d.delivered),
    countCell(d.failures, 'yellow'),
    countCell(d.deadLettered, 'red'),
    ageOf(d.lastDeliveredAt, now),
  ];
  if (!wide) return row;
  return [
    ...row,
    { text: d.active ? 'yes' : 'no', style: d.active ? undefined : 'yellow' },
    d.cursor,
    ageOf(w.createdAt, now),
    d.lastError ?? '-',
  ];
}

/** `webhooks inspect`: the webhook and all its delivery state, a field a line. */
export function describeWebhook(w: WebhookJson, now: number, paint: Paint): string {
  const at = (iso: string | null) => (iso === null ? '-' : `${iso} (${ageOf(iso, now)} ago)`);
  const d = w.delivery;
  const fields: [string, string][] = [
    ['ID', w.id],
    ['URL', w.url],
    ['Types', typesOf(w)],
    ['Created', at(w.createdAt)],
  ];
  const delivery: [string, string][] = [
    ['Active', d.active ? 'yes' : paint('yellow', 'no')],
    ['Cursor', d.cursor],
    ['Delivered', String(d.delivered)],
    ['Last delivered', at(d.lastDeliveredAt)],
    ['Failures', d.failures > 0 ? paint('yellow', String(d.failures)) : '0'],
    ['Dead letters', d.deadLettered > 0 ? paint('red', String(d.deadLettered)) : '0'],
    ['Last error', d.lastError ?? '-'],
  ];
  const pad = Math.max(...[...fields, ...delivery].map(([k]) => k.length)) + 4;
  return [
    ...fields.map(([k, v]) => `${`${k}:`.padEnd(pad)}${v}`),
    'Delivery:',
    ...delivery.map(([k, v]) => `  ${`${k}:`.padEnd(pad - 2)}${v}`),
  ].join('\n');
}

export const DEAD_LETTER_HEADERS = ['EVENT', 'TYPE', 'WORKER', 'ATTEMPTS', 'AGE', 'LAST ERROR'];
export const DEAD_LETTER_WIDE_HEADERS = [
  'EVENT',
  'TYPE',
  'WORKER',
  'ATTEMPTS',
  'AGE',
  'FIRST FAILED',
  'GIVEN UP',
  'CURSOR',
  'LAST ERROR',
];

export function deadLetterRow(d: DeadLetterJson, now: number, wide: boolean): Cell[] {
  return [
    d.eventId,
    shortType(d.type),
    d.workerId ?? '-',
    String(d.attempts),
    ageOf(d.deadLetteredAt, now),
    ...(wide ? [d.firstFailedAt, d.deadLetteredAt, d.cursor] : []),
    { text: d.lastError, style: 'red' },
  ];
}
