import { sampleEvents } from '@hodei/domain/testing';
import { describe, expect, it } from 'vitest';
import { DEFAULT_MAX_EVENT_BYTES, streamIdOf, toEventRow } from './event-row.js';

describe('toEventRow', () => {
  it('serialises the row, its data and its metadata exactly as JSON.stringify does', () => {
    for (const event of sampleEvents('p-row', 'w-row')) {
      const out = toEventRow(event, DEFAULT_MAX_EVENT_BYTES)._unsafeUnwrap();
      expect(out.json).toBe(JSON.stringify(out.row));
      expect(out.dataJson).toBe(JSON.stringify(out.row.data));
      expect(out.metadataJson).toBe(JSON.stringify(out.row.metadata));
      expect(out.row.stream_id).toBe(streamIdOf(event));
    }
  });
});
