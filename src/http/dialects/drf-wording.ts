/**
 * Django REST Framework's words for field errors: FLOW SMS and Mifumo are both Django
 * applications, and their clients display these sentences.
 */
import type { FieldIssues } from '../../services/errors.js';
import { wording, type FieldWording } from '../core/wording.js';

const TYPES: Record<string, string> = {
  string: 'Not a valid string.', number: 'A valid number is required.', integer: 'A valid integer is required.',
  boolean: 'Must be a valid boolean.', array: 'Expected a list of items.', object: 'Expected a dictionary of items.',
};

const DRF: FieldWording = {
  required: 'This field is required.',
  type: (p) => TYPES[String(p.expected)] ?? 'Invalid value.',
  min_length: 'Ensure this field has at least {min} characters.',
  max_length: 'Ensure this field has no more than {max} characters.',
  min_items: (p) => (Number(p.min) <= 1 ? 'This list may not be empty.' : 'Ensure this field has at least {min} elements.'),
  max_items: 'Ensure this field has no more than {max} elements.',
  min: 'Ensure this value is greater than or equal to {min}.',
  max: 'Ensure this value is less than or equal to {max}.',
  email: 'Enter a valid email address.',
  e164: 'Enter a valid phone number in E.164 format (+255123456789).',
  format: 'Invalid value.',
  date: 'Datetime has wrong format. Use one of these formats instead: YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z].',
  choice: 'Not a valid choice.',
  invalid: 'Invalid value.',
  taken: 'A record with this {field} already exists.',
  confirmed: "The two password fields didn't match.",
};

export const drf = wording(DRF);

/** `{field: ["…"]}`, with errors not about one field under DRF's `non_field_errors`. */
export const drfFields = (fields: FieldIssues, rename: (field: string) => string = (f) => f): Record<string, string[]> =>
  drf.fields(fields, (f) => (f === '_' ? 'non_field_errors' : rename(f)));
