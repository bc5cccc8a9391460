import { describe, expect, it } from 'vitest';
import type { CloudEvent, Worker } from '../api/types';
import { applyEvents, rowsOf, type PageContext } from './fleet-rows';

const event = (subject: string, type: string, data: Record<string, unknown> = {}): CloudEvent =>
  ({
    specversion: '1.0',
    id: `${subject}-${type}-${Math.random()}`,
    type: `io.hodei.lifecycle.${type}`,
    source: '/hodei/providers/p1',
    subject,
    time: '2026-12-01T10:00:00.000Z',
    datacontenttype: 'application/json',
    data,
  }) as unknown as CloudEvent;

const created = (id: string) => event(id, 'WorkerEphemeralCreated', { mode: 'agent', image: 'b' });

const worker = (id: string): Worker =>
  ({
    id,
    providerId: 'p1',
    mode: 'agent',
    state: 'ready',
    image: 'b',
    createdAt: '2026-12-01T09:00:00.000Z',
  }) as unknown as Worker;

const first: PageContext = { filter: {}, onFirstPage: true, pageSize: 5 };

describe('applyEvents', () => {
  it('adds new workers at the top while the page has room, then only counts them', () => {
    let rows = rowsOf([worker('old-1'), worker('old-2')], 5);
    rows = applyEvents(
      rows,
      Array.from({ length: 12 }, (_, i) => created(`new-${i}`)),
      first,
    );
    expect([...rows.byId.keys()]).toEqual(['new-2', 'new-1', 'new-0', 'old-1', 'old-2']);
    expect(rows.newBeyond).toBe(9);
    rows = applyEvents(rows, [created('new-12')], first);
    expect(rows.byId.size).toBe(5);
    expect(rows.newBeyond).toBe(10);
  });

  it('moves a known row to its new state and marks a cleanup, in one batch', () => {
    const rows = applyEvents(
      rowsOf([worker('w1'), worker('w2')], 5),
      [event('w1', 'WorkerEphemeralBusy'), event('w2', 'WorkerEphemeralCleanedUp')],
      first,
    );
    expect(rows.byId.get('w1')).toMatchObject({ state: 'busy', flag: null });
    expect(rows.byId.get('w2')?.flag).toBe('cleaned-up');
    expect([...rows.byId.keys()]).toEqual(['w1', 'w2']);
  });

  it('adds nothing off the first page or outside the filters, and keeps the same rows then', () => {
    const rows = rowsOf([worker('w1')], 5);
    expect(applyEvents(rows, [created('n1')], { ...first, onFirstPage: false })).toBe(rows);
    expect(applyEvents(rows, [created('n1')], { ...first, filter: { mode: 'job' } })).toBe(rows);
  });

  it('lists at most the page size', () => {
    expect(rowsOf([worker('a'), worker('b'), worker('c')], 2).byId.size).toBe(2);
  });
});
