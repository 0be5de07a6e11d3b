/** Row types of the tables, as Kysely sees them. Times are epoch milliseconds (UTC). */
import type { Generated } from 'kysely';

export const MESSAGE_STATES = ['queued', 'submitting', 'sent', 'delivered', 'undelivered', 'expired', 'rejected', 'failed'] as const;
export type MessageState = (typeof MESSAGE_STATES)[number];
export const FINAL_STATES: readonly MessageState[] = ['delivered', 'undelivered', 'expired', 'rejected', 'failed'];

export interface MessagesTable {
  id: Generated<number>;
  account_id: number | null;
  sender: string;
  recipient: string;
  body: string;
  encoding: 'gsm7' | 'ucs2';
  parts: number;
  operator: string;
  failover: string | null;
  status: MessageState;
  attempts: Generated<number>;
  not_before: number;
  expires_at: number;
  /** Bit i set: part i+1 was accepted by the SMSC (so a retry resends only the others). */
  acked_mask: Generated<number>;
  final_parts: Generated<number>;
  delivered_parts: Generated<number>;
  /** The first non-delivered final state a part reported: the message's state once all parts are final. */
  failed_state: MessageState | null;
  bind: string | null;
  smsc_id: string | null;
  error_code: number | null;
  error: string | null;
  cost: Generated<number>;
  created_at: number;
  submitted_at: number | null;
  sent_at: number | null;
  done_at: number | null;
}

export interface MessagePartsTable {
  message_id: number;
  part_no: number;
  operator: string;
  smsc_id: string;
  state: string;
  sent_at: number;
  receipt_at: number | null;
  receipt_err: string | null;
}

export interface PendingReceiptsTable {
  operator: string;
  smsc_id: string;
  stat: string;
  err: string | null;
  received_at: number;
}

export interface MoMessagesTable {
  id: Generated<number>;
  operator: string;
  bind: string;
  sender: string;
  recipient: string;
  body: string;
  opt_out: Generated<number>;
  received_at: number;
}

export interface BlacklistTable {
  id: Generated<number>;
  account_id: Generated<number>;
  phone: string;
  reason: string | null;
  source: 'api' | 'mo' | 'admin';
  created_at: number;
}

export interface Database {
  messages: MessagesTable;
  message_parts: MessagePartsTable;
  pending_receipts: PendingReceiptsTable;
  mo_messages: MoMessagesTable;
  blacklist: BlacklistTable;
}
