import { describe, expect, it } from 'vitest';
import { SignInLimiter } from './sign-in-limiter.js';

describe('SignInLimiter', () => {
  it('locks an address after its wrong tokens and frees it when the window ends', () => {
    let now = 1_000_000;
    const limiter = new SignInLimiter({ maxWrong: 3, windowMs: 60_000, now: () => now });
    for (let i = 0; i < 3; i++) {
      expect(limiter.retryAfterSeconds('10.0.0.1')).toBe(0);
      limiter.wrongToken('10.0.0.1');
    }
    expect(limiter.retryAfterSeconds('10.0.0.1')).toBe(60);
    expect(limiter.retryAfterSeconds('10.0.0.2')).toBe(0);
    now += 59_001;
    expect(limiter.retryAfterSeconds('10.0.0.1')).toBe(1);
    now += 999;
    expect(limiter.retryAfterSeconds('10.0.0.1')).toBe(0);
  });

  it('forgets the oldest address past its bound, so memory stays bounded', () => {
    const limiter = new SignInLimiter({ maxWrong: 1, maxClients: 2, now: () => 0 });
    limiter.wrongToken('a');
    limiter.wrongToken('b');
    limiter.wrongToken('c');
    expect(limiter.retryAfterSeconds('a')).toBe(0);
    expect(limiter.retryAfterSeconds('b')).toBeGreaterThan(0);
    expect(limiter.retryAfterSeconds('c')).toBeGreaterThan(0);
  });
});
