import { err, ok, type Result } from 'neverthrow';

/** One requirement of a Kubernetes label selector. */
export type LabelRequirement =
  | { readonly op: '='; readonly key: string; readonly value: string }
  | { readonly op: '!='; readonly key: string; readonly value: string }
  | { readonly op: 'in' | 'notin'; readonly key: string; readonly values: readonly string[] }
  | { readonly op: 'exists' | '!exists'; readonly key: string };

export type LabelSelector = readonly LabelRequirement[];

export interface InvalidSelector {
  readonly type: 'InvalidSelector';
  readonly selector: string;
  readonly message: string;
}

/** Splits on commas that are not inside `(…)`. */
function splitTerms(selector: string): string[] {
  const terms: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of selector) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      terms.push(current);
      current = '';
    } else {
      current += ch;
    }
  }
  terms.push(current);
  return terms.map((t) => t.trim()).filter((t) => t !== '');
}

const KEY = String.raw`[A-Za-z0-9][-A-Za-z0-9_./]*`;
const SET_TERM = new RegExp(String.raw`^(${KEY})\s+(in|notin)\s*\(([^)]*)\)$`);
const EQ_TERM = new RegExp(String.raw`^(${KEY})\s*(==|=|!=)\s*([-A-Za-z0-9_.]*)$`);
const EXISTS_TERM = new RegExp(String.raw`^(!?)(${KEY})$`);

/** Parses the equality-based and set-based selector syntax of `kubectl -l`. */
export function parseLabelSelector(selector: string): Result<LabelSelector, InvalidSelector> {
  const requirements: LabelRequirement[] = [];
  for (const term of splitTerms(selector)) {
    const set = SET_TERM.exec(term);
    if (set) {
      const [, key = '', op, list = ''] = set;
      const values = list
        .split(',')
        .map((v) => v.trim())
        .filter((v) => v !== '');
      requirements.push({ op: op === 'in' ? 'in' : 'notin', key, values });
      continue;
    }
    const eq = EQ_TERM.exec(term);
    if (eq) {
      const [, key = '', op, value = ''] = eq;
      requirements.push({ op: op === '!=' ? '!=' : '=', key, value });
      continue;
    }
    const exists = EXISTS_TERM.exec(term);
    if (exists) {
      const [, bang, key = ''] = exists;
      requirements.push({ op: bang === '!' ? '!exists' : 'exists', key });
      continue;
    }
    return err({
      type: 'InvalidSelector',
      selector,
      message: `unable to parse requirement ${JSON.stringify(term)}`,
    });
  }
  return ok(requirements);
}

export function matchesSelector(
  labels: Readonly<Record<string, string>> | undefined,
  selector: LabelSelector,
): boolean {
  const l = labels ?? {};
  return selector.every((r) => {
    const value = Object.hasOwn(l, r.key) ? l[r.key] : undefined;
    switch (r.op) {
      case '=':
        return value === r.value;
      case '!=':
        return value !== r.value;
      case 'in':
        return value !== undefined && r.values.includes(value);
      case 'notin':
        return value === undefined || !r.values.includes(value);
      case 'exists':
        return value !== undefined;
      case '!exists':
        return value === undefined;
    }
  });
}
