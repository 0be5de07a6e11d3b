/** A dialect's words for field issues: its own sentence where it has one, the product's otherwise. */
import { FIELD_CODES, wordIssue, type FieldCode, type FieldIssue, type FieldIssues } from '../../services/errors.js';

export type FieldWording = Partial<Record<FieldCode, string | ((params: Record<string, string | number>) => string)>>;

export interface Wording {
  issue(field: string, issue: FieldIssue): string;
  /** Every field's issues in words, keyed by field (`rename` maps the keys, e.g. `_` → `non_field_errors`). */
  fields(fields: FieldIssues, rename?: (field: string) => string): Record<string, string[]>;
}

export function wording(table: FieldWording): Wording {
  const issue = (field: string, i: FieldIssue): string => {
    const w = table[i.code] ?? FIELD_CODES[i.code];
    return wordIssue(typeof w === 'function' ? w(i.params ?? {}) : w, field, i);
  };
  return {
    issue,
    fields: (fields, rename = (f) => f) => Object.fromEntries(Object.entries(fields).map(([field, issues]) => [rename(field), issues.map((i) => issue(field, i))])),
  };
}
