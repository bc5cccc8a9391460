/** One invalid variable: its name, its value (redacted where secret) and what it accepts. */
export interface ConfigProblem {
  readonly variable: string;
  readonly value: string;
  readonly accepts: string;
}

export type Env = Readonly<Record<string, string | undefined>>;

/** Reads variables one by one and collects every problem, each naming what it accepts. */
export class EnvReader {
  readonly problems: ConfigProblem[] = [];

  constructor(private readonly env: Env) {}

  /** The trimmed value; blank counts as unset. */
  read(name: string): string | undefined {
    const value = this.env[name];
    return value === undefined || value.trim() === '' ? undefined : value.trim();
  }

  problem(variable: string, value: string, accepts: string): void {
    this.problems.push({ variable, value, accepts });
  }

  integer(name: string, fallback: number, min: number, max: number, accepts: string): number {
    const raw = this.read(name);
    if (raw === undefined) return fallback;
    if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
      this.problem(name, raw, accepts);
      return fallback;
    }
    return Number(raw);
  }

  /** Whole seconds from 1 to 3600, as milliseconds. */
  seconds(name: string, fallbackMs: number): number {
    return this.integer(name, fallbackMs / 1000, 1, 3600, 'whole seconds from 1 to 3600') * 1000;
  }

  boolean(name: string, fallback: boolean): boolean {
    const raw = this.read(name);
    if (raw === undefined) return fallback;
    const lower = raw.toLowerCase();
    if (['true', '1', 'yes', 'on'].includes(lower)) return true;
    if (['false', '0', 'no', 'off'].includes(lower)) return false;
    this.problem(name, raw, 'true or false (also 1/0, yes/no, on/off)');
    return fallback;
  }
}
