/**
 * One invalid setting: the variable (or, for a value from the configuration file, its key
 * there, with the file and line), its value (redacted where secret) and what it accepts.
 */
export interface ConfigProblem {
  readonly variable: string;
  readonly value: string;
  readonly accepts: string;
  readonly file?: string;
  readonly line?: number;
  /** A variable or key that names no setting; its value is never shown. */
  readonly unknown?: true;
}

export type Env = Readonly<Record<string, string | undefined>>;

/** Where a value of the configuration file is: to name it, not its variable, in a problem. */
export interface FileOrigin {
  readonly file: string;
  /** `httpPort`, `providers[0].workerDefaults.memoryMb`, … */
  readonly key: string;
  readonly line: number;
}

export interface FileValue {
  readonly value: string;
  readonly origin: FileOrigin;
}

/**
 * What the readers see: the environment over the configuration file's values (both by
 * variable name; a blank variable counts as unset), which names they asked for, and the
 * problems, each listed once.
 */
export class ConfigValues {
  readonly problems: ConfigProblem[] = [];
  readonly #env: Env;
  readonly #file: ReadonlyMap<string, FileValue>;
  readonly #asked = new Set<string>();
  readonly #reported = new Set<string>();

  constructor(env: Env, file: ReadonlyMap<string, FileValue> = new Map()) {
    this.#env = env;
    this.#file = file;
  }

  /** The trimmed value; blank counts as unset. */
  get(name: string): string | undefined {
    this.#asked.add(name);
    const value = this.#env[name];
    if (value !== undefined && value.trim() !== '') return value.trim();
    const fromFile = this.#file.get(name)?.value.trim();
    return fromFile === '' ? undefined : fromFile;
  }

  /** Whether a reader asked for `name`, set or not. */
  asked(name: string): boolean {
    return this.#asked.has(name);
  }

  /** Where the value of `name` is in the file, when the file (not the environment) gave it. */
  origin(name: string): FileOrigin | undefined {
    const value = this.#env[name];
    return value !== undefined && value.trim() !== '' ? undefined : this.#file.get(name)?.origin;
  }

  report(name: string, value: string, accepts: string): void {
    this.#reported.add(name);
    const origin = this.origin(name);
    const problem: ConfigProblem =
      origin === undefined
        ? { variable: name, value, accepts }
        : { variable: origin.key, value, accepts, file: origin.file, line: origin.line };
    this.add(problem);
  }

  /** A problem as it is, listed once however many readers find it. */
  add(problem: ConfigProblem): void {
    const same = (p: ConfigProblem) =>
      p.variable === problem.variable &&
      p.value === problem.value &&
      p.accepts === problem.accepts &&
      p.file === problem.file &&
      p.line === problem.line;
    if (!this.problems.some(same)) this.problems.push(problem);
  }

  reported(name: string): boolean {
    return this.#reported.has(name);
  }
}

/**
 * Reads settings one by one and collects every problem, each naming what it accepts. A
 * reader for one provider (`forProvider`) looks for each variable under the provider's own
 * name first and names whichever gave the value in a problem.
 */
export class EnvReader {
  readonly values: ConfigValues;
  readonly #names: (name: string) => readonly string[];
  /** Which name gave each variable's value, for a reader with several names per variable. */
  readonly #supplier = new Map<string, string>();

  constructor(
    source: Env | ConfigValues,
    names: (name: string) => readonly string[] = (name) => [name],
  ) {
    this.values = source instanceof ConfigValues ? source : new ConfigValues(source);
    this.#names = names;
  }

  get problems(): ConfigProblem[] {
    return this.values.problems;
  }

  /** A reader that tries `names(variable)` in order, sharing this one's values and problems. */
  forProvider(names: (name: string) => readonly string[]): EnvReader {
    return new EnvReader(this.values, names);
  }

  /** The trimmed value; blank counts as unset. */
  read(name: string): string | undefined {
    for (const candidate of this.#names(name)) {
      const value = this.values.get(candidate);
      if (value !== undefined) {
        this.#supplier.set(name, candidate);
        return value;
      }
    }
    this.#supplier.delete(name);
    return undefined;
  }

  /** Names the variable that gave the value or, when none did, the most specific name. */
  problem(variable: string, value: string, accepts: string): void {
    this.values.report(this.#nameOf(variable), value, accepts);
  }

  /** Whether the value read for `name` was reported already. */
  hasProblem(name: string): boolean {
    return this.values.reported(this.#nameOf(name));
  }

  /** Where in the file the value read for `variable` is, when the file gave it. */
  originOf(variable: string): FileOrigin | undefined {
    return this.values.origin(this.#nameOf(variable));
  }

  #nameOf(variable: string): string {
    return this.#supplier.get(variable) ?? this.#names(variable)[0] ?? variable;
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
