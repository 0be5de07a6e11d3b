/** Input rules the Mifumo documents state: strict E.164, uuids for contacts, ids that may come as strings. */
import { z } from 'zod';

/** E.164 as the Mifumo documents require it: `+`, a country code, no national form (0751234567 and 255123456789 are refused). */
export const e164 = z.string().trim().regex(/^\+[1-9]\d{7,14}$/, 'e164');

/** A contact's uuid. */
export const contactUuid = z.string().trim().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, 'format');

/** A numeric id sent as a number or a string ("12"). */
export const numericId = z.union([z.number().int().positive(), z.string().trim().regex(/^\d{1,15}$/).transform(Number)]);

/** Comma-separated tags in a query string. */
export const tagList = z.string().trim().max(500).transform((s) => s.split(',').map((t) => t.trim()).filter(Boolean));

export { timeZone as timezone } from '../../core/validate.js';
