export type { Clock } from './ports/clock.port.js';
