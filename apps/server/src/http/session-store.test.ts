import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { SessionStore, type HeldStream } from './session-store.js';

/** A stream that records being destroyed, and says `close` then, as a response does. */
class FakeStream extends EventEmitter implements HeldStream {
  destroyed = false;
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.emit('close');
  }
}

describe('SessionStore', () => {
  it('evicts the least recently used session past its bound, not a browser that keeps calling', () => {
    const store = new SessionStore({ maxSessions: 3 });
    const browser = store.issue();
    const stream = new FakeStream();
    store.holdStream(browser.id, stream);
    // A script signs in again and again; the browser keeps reading between its sign-ins.
    const scripted = [];
    for (let i = 0; i < 1_000; i++) {
      scripted.push(store.issue().id);
      expect(store.find(browser.id)).toBeDefined();
    }
    expect(store.size).toBe(3);
    expect(store.find(browser.id)?.csrfToken).toBe(browser.csrfToken);
    expect(stream.destroyed).toBe(false);
    expect(store.find(scripted[0])).toBeUndefined();
    expect(store.find(scripted.at(-1))).toBeDefined();
  });

  it('destroys the streams a session holds when it is forgotten or evicted', () => {
    const store = new SessionStore({ maxSessions: 1 });
    const a = store.issue();
    const [s1, s2] = [new FakeStream(), new FakeStream()];
    store.holdStream(a.id, s1);
    store.holdStream(a.id, s2);
    s2.destroy();
    store.forget(a.id);
    expect(s1.destroyed).toBe(true);
    const b = store.issue();
    const s3 = new FakeStream();
    store.holdStream(b.id, s3);
    store.issue();
    expect(s3.destroyed).toBe(true);
    const none = new FakeStream();
    store.holdStream('no-such-session', none);
    expect(none.destroyed).toBe(true);
  });

  it('destroys a held stream once its session has expired', () => {
    let now = 1_000;
    const store = new SessionStore({ ttlMs: 60_000, now: () => now });
    const s = store.issue();
    const stream = new FakeStream();
    store.holdStream(s.id, stream);
    now += 60_000;
    expect(store.find(s.id)).toBeUndefined();
    expect(stream.destroyed).toBe(true);
  });
});
