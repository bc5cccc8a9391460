/** The only way the domain learns the time. Milliseconds since the Unix epoch. */
export interface Clock {
  now(): number;
}
