/** Phone numbers as services take them: normalized to E.164 with the operator's numbering plan, or a 422 on the field. */
import { normalizeNumber, type NumberingPlan } from '../routing/number.js';
import { fieldError } from './errors.js';

export class Phones {
  constructor(private readonly plan: NumberingPlan) {}

  /** E.164, or a 422 naming `field`. */
  normalize(raw: string, field = 'phone'): string {
    const n = normalizeNumber(raw, this.plan);
    if (!n.ok) throw fieldError(field, 'invalid_phone', { reason: n.reason });
    return n.e164;
  }

  tryNormalize(raw: string): string | null {
    const n = normalizeNumber(raw, this.plan);
    return n.ok ? n.e164 : null;
  }

  /** Digits to search for: a whole number in any form (national 0…, 00…) becomes its E.164 digits. */
  searchDigits(raw: string): string {
    return this.tryNormalize(raw)?.slice(1) ?? raw.replace(/\D/g, '');
  }
}
