import { describe, expect, it } from 'vitest';
import { EventTicketStore } from './event-ticket-store.js';

/** A store on a clock the test moves. */
function storeAt(options: { ttlMs?: number; maxTickets?: number } = {}) {
  let now = Date.parse('2025-06-01T12:00:00.000Z');
  const store = new EventTicketStore({ ...options, now: () => now });
  return { store, advance: (ms: number) => (now += ms) };
}

describe('event stream tickets', () => {
  it('issues a random ticket that opens streams until it expires, a minute by default', () => {
    const { store, advance } = storeAt();
    const a = store.issue();
    const b = store.issue();
    expect(a.ticket).not.toBe(b.ticket);
    expect(a.ticket).toMatch(/^[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]{43}$/);
    expect(a.expiresAt).toBe('2025-06-01T12:01:00.000Z');
    expect(store.isValid(a.ticket)).toBe(true);
    // An EventSource reconnecting within the minute reuses it.
    advance(59_999);
    expect(store.isValid(a.ticket)).toBe(true);
    advance(1);
    expect(store.isValid(a.ticket)).toBe(false);
    expect(store.isValid(b.ticket)).toBe(false);
  });

  it('refuses what it did not issue: another secret, a malformed or an empty ticket', () => {
    const { store } = storeAt();
    const { ticket } = store.issue();
    const [id, secret] = ticket.split('.') as [string, string];
    const other = `${secret.slice(0, -1)}${secret.endsWith('A') ? 'B' : 'A'}`;
    expect(store.isValid(`${id}.${other}`)).toBe(false);
    expect(store.isValid(`${id}.`)).toBe(false);
    expect(store.isValid(id)).toBe(false);
    expect(store.isValid('')).toBe(false);
    expect(store.isValid(`${ticket}x`)).toBe(false);
    // A wrong guess does not spend the ticket.
    expect(store.isValid(ticket)).toBe(true);
  });

  it('holds a bounded number: past it the oldest goes, and expired ones go at the next issue', () => {
    const { store, advance } = storeAt({ maxTickets: 3, ttlMs: 1_000 });
    const issued = [store.issue(), store.issue(), store.issue(), store.issue()];
    expect(store.size).toBe(3);
    expect(issued.map((t) => store.isValid(t.ticket))).toEqual([false, true, true, true]);
    advance(1_000);
    store.issue();
    expect(store.size).toBe(1);
  });
});
