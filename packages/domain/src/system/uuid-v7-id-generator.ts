import { randomBytes } from 'node:crypto';
import type { IdGenerator } from '../ports/id-generator.port.js';
import type { Clock } from '../ports/clock.port.js';
import type { WorkerId } from '../worker/ids.js';
import { systemClock } from './system-clock.js';

/** RFC 9562 UUIDv7: 48 bits of Unix milliseconds, version 7, variant 10, random bits. */
export function uuidv7(now: number = Date.now()): string {
  const bytes = randomBytes(16);
  let ms = BigInt(now);
  for (let i = 5; i >= 0; i--) {
    bytes[i] = Number(ms & 0xffn);
    ms >>= 8n;
  }
  bytes[6] = (bytes[6]! & 0x0f) | 0x70;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

const BASE36 = '0123456789abcdefghijklmnopqrstuvwxyz';

/** Event ids are UUIDv7; worker ids are 9 base-36 time digits and 6 random ones: short, time-ordered. */
export class UuidV7IdGenerator implements IdGenerator {
  constructor(private readonly clock: Clock = systemClock) {}

  eventId(): string {
    return uuidv7(this.clock.now());
  }

  workerId(): WorkerId {
    const time = this.clock.now().toString(36).padStart(9, '0');
    const random = Array.from(randomBytes(6), (b) => BASE36[b % 36]).join('');
    return `${time}${random}` as WorkerId;
  }
}
