/** Characters of log kept on screen: past it the oldest lines go. */
export const MAX_LOG_CHARS = 1024 * 1024;
/** Lines kept on screen while following; the oldest go first. */
export const MAX_LOG_LINES = 2000;
/** A line without its end yet longer than this is shown as it is: the rest follows as another. */
export const MAX_PARTIAL_CHARS = 64 * 1024;

/**
 * Splits streamed text into lines. A partial line is held until its newline, but never more
 * than `maxPartial` characters: a log with no newline cannot grow the page's memory.
 */
export class LineSplitter {
  private partial = '';

  constructor(private readonly maxPartial = MAX_PARTIAL_CHARS) {}

  feed(chunk: string): string[] {
    const parts = (this.partial + chunk).split('\n');
    let partial = parts.pop() ?? '';
    while (partial.length > this.maxPartial) {
      parts.push(partial.slice(0, this.maxPartial));
      partial = partial.slice(this.maxPartial);
    }
    this.partial = partial;
    return parts;
  }

  /** What is left at the end of the stream. */
  end(): string[] {
    const rest = this.partial;
    this.partial = '';
    return rest === '' ? [] : [rest];
  }
}

/**
 * The lines shown, bounded by characters and by lines: the oldest go first. A line longer
 * than the whole bound keeps its end.
 */
export class LogBuffer {
  private lines: string[] = [];
  private start = 0;
  private chars = 0;

  constructor(
    private readonly maxChars = MAX_LOG_CHARS,
    private readonly maxLines = MAX_LOG_LINES,
  ) {}

  /** Characters held, a newline counted after each line. */
  get size(): number {
    return this.chars;
  }

  get lineCount(): number {
    return this.lines.length - this.start;
  }

  push(more: readonly string[]): void {
    for (const line of more) {
      const kept =
        line.length >= this.maxChars ? line.slice(line.length - this.maxChars + 1) : line;
      this.lines.push(kept);
      this.chars += kept.length + 1;
    }
    while (this.lineCount > 0 && (this.chars > this.maxChars || this.lineCount > this.maxLines)) {
      this.chars -= (this.lines[this.start] ?? '').length + 1;
      this.start++;
    }
    // Compact now and then, so dropped lines are freed.
    if (this.start > 1024 && this.start * 2 > this.lines.length) {
      this.lines = this.lines.slice(this.start);
      this.start = 0;
    }
  }

  text(): string {
    return this.lines.slice(this.start).join('\n');
  }

  clear(): void {
    this.lines = [];
    this.start = 0;
    this.chars = 0;
  }
}
