/**
 * Django REST Framework's words for field errors: FLOW SMS and Mifumo are both Django
 * applications, and their clients display these sentences.
 */
import { FIELD_CODES, wordIssue, type FieldCode, type FieldIssue, type FieldIssues } from '../../services/errors.js';

const TYPES: Record<string, string> = {
  string: 'Not a valid string.', number: 'A valid number is required.', integer: 'A valid integer is required.',
  boolean: 'Must be a valid boolean.', array: 'Expected a list of items.', object: 'Expected a dictionary of items.',
};

const DRF: Partial<Record<FieldCode, string | ((p: Record<string, string | number>) => string)>> = {
  required: 'This field is required.',
  type: (p) => TYPES[String(p.expected)] ?? 'Invalid value.',
  min_length: 'Ensure this field has at least {min} characters.',
  max_length: 'Ensure this field has no more than {max} characters.',
  min_items: (p) => (Number(p.min) <= 1 ? 'This list may not be empty.' : 'Ensure this field has at least {min} elements.'),
  max_items: 'Ensure this field has no more than {max} elements.',
  min: 'Ensure this value is greater than or equal to {min}.',
  max: 'Ensure this value is less than or equal to {max}.',
  email: 'Enter a valid email address.',
  format: 'Invalid value.',
  date: 'Datetime has wrong format. Use one of these formats instead: YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z].',
  choice: 'Not a valid choice.',
  invalid: 'Invalid value.',
  taken: 'A record with this {field} already exists.',
  confirmed: "The two password fields didn't match.",
};

export function drfIssue(field: string, issue: FieldIssue): string {
  const w = DRF[issue.code] ?? FIELD_CODES[issue.code];
  return wordIssue(typeof w === 'function' ? w(issue.params ?? {}) : w, field, issue);
}

/** `{field: ["…"]}`, with errors not about one field under DRF's `non_field_errors`. */
export function drfFields(fields: FieldIssues): Record<string, string[]> {
  return Object.fromEntries(Object.entries(fields).map(([field, issues]) => [field === '_' ? 'non_field_errors' : field, issues.map((i) => drfIssue(field, i))]));
}
