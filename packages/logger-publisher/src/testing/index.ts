export { MemoryDestination } from './memory-destination.js';
export { parseEventLog, parseLogLines, readEventLog, readLogLines } from './event-log-reader.js';
export type { LogLine } from './event-log-reader.js';
