/** FLOW SMS's shapes (../shared/seeds/000), from the services' records. */
import type { DirectSendResult } from '../../../services/campaigns/service.js';
import type { ContactRow } from '../../../services/contacts.js';
import type { MessageRow } from '../../../services/history.js';
import type { SenderId } from '../../../services/sender-ids.js';
import type { MessageState } from '../../../store/tables.js';
import { iso } from '../../core/route.js';

/** FLOW's message statuses: the document shows `sent`; the rest follow the same words. */
const STATUS: Record<MessageState, string> = {
  queued: 'queued', submitting: 'queued', paused: 'queued', sent: 'sent', delivered: 'delivered',
  undelivered: 'failed', expired: 'failed', rejected: 'failed', failed: 'failed', cancelled: 'cancelled', unconfirmed: 'unconfirmed',
};
const FAILED = new Set(['failed', 'cancelled']);

function flowMessageView(m: MessageRow & { contact_id: number }) {
  return {
    id: m.id,
    contact: { id: m.contact_id, phone_number: m.recipient },
    content: m.body,
    status: STATUS[m.status],
    sent_at: iso(m.sent_at),
    delivered_at: m.status === 'delivered' ? iso(m.done_at) : null,
    message_id: m.smsc_id,
    error_description: m.error,
  };
}

/** The documented answer: what was created and what was left out, true at answer time. */
export function flowSendView(r: DirectSendResult) {
  const messages = r.messages.map(flowMessageView);
  const failed = messages.filter((m) => FAILED.has(m.status));
  return {
    success: messages.length > failed.length,
    campaign_id: r.campaign.id,
    messages_sent: messages.length - failed.length,
    messages_failed: r.rejected.length + failed.length,
    failed_messages: [
      ...r.rejected.map((x) => ({ phone_number: x.recipient, reason: x.reason })),
      ...failed.map((m) => ({ phone_number: m.contact.phone_number, reason: m.error_description ?? m.status })),
    ],
    messages,
  };
}

export const flowSenderIdView = (s: SenderId) => ({ id: s.id, name: s.name, status: s.status, created_at: iso(s.created_at) });

export const flowContactView = (c: ContactRow) => ({
  id: c.id, name: c.name, phone_number: c.phone, email: c.email, tags: JSON.parse(c.tags) as string[], created_at: iso(c.created_at),
});
