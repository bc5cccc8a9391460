import type { Clock } from '../ports/clock.port.js';

export const systemClock: Clock = { now: () => Date.now() };
