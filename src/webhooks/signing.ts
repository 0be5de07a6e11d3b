/** HMAC-SHA256 of the exact raw body, hex: what receivers recompute to trust a delivery. */
import { createHmac } from 'node:crypto';

export const sign = (rawBody: string, secret: string): string => createHmac('sha256', secret).update(rawBody).digest('hex');
