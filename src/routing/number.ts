/**
 * Number normalization to E.164. The rules are the operator's numbering plan from config, not a
 * country metadata table: a gateway must accept new ranges the day an operator opens them.
 */
export interface NumberingPlan {
  country_code: string;
  national_prefix: string;
  international_prefix: string;
}

export type Normalized = { ok: true; e164: string } | { ok: false; reason: string };

const SEPARATORS = /[\s\-().\/]/g;

export function normalizeNumber(input: string, plan: NumberingPlan): Normalized {
  if (typeof input !== 'string') return { ok: false, reason: 'not a string' };
  const compact = input.trim().replace(SEPARATORS, '');
  if (!compact) return { ok: false, reason: 'empty number' };
  let digits: string;
  if (compact.startsWith('+')) digits = compact.slice(1);
  else if (compact.startsWith(plan.international_prefix)) digits = compact.slice(plan.international_prefix.length);
  else if (plan.national_prefix && compact.startsWith(plan.national_prefix)) digits = plan.country_code + compact.slice(plan.national_prefix.length);
  else if (compact.startsWith(plan.country_code)) digits = compact;
  else return { ok: false, reason: 'not an international or national number' };
  if (!/^\d+$/.test(digits)) return { ok: false, reason: 'contains characters other than digits' };
  if (digits.startsWith('0')) return { ok: false, reason: 'country code cannot start with 0' };
  // E.164: at most 15 digits; 8 is the shortest real international number we accept.
  if (digits.length < 8 || digits.length > 15) return { ok: false, reason: 'wrong length for an E.164 number' };
  return { ok: true, e164: `+${digits}` };
}
