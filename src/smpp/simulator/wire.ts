/**
 * The simulator's PDU building: the hot answers (submit_sm_resp, receipts) encoded by hand, the
 * rarer ones (MO deliver_sm, generic_nack) through the package's encoder.
 */
import { smpp, EsmClass } from '../pdu.js';
import type { PDU } from '../pdu.js';

const SUBMIT_SM_RESP = 0x80000004;
const DELIVER_SM = 0x00000005;
const DATA_SM = 0x00000103;

const TLV_RECEIPTED_MESSAGE_ID = 0x001e;
const TLV_MESSAGE_PAYLOAD = 0x0424;
const TLV_MESSAGE_STATE = 0x0427;

/**
 * submit_sm_resp encoded by hand: the hot path of the simulator, several times cheaper than the
 * package's generic PDU encoder. An error answer has no body (like the package's encoder).
 */
export function submitSmResp(sequence: number, status: number, messageId?: string): Buffer {
  const idLength = status === 0 ? Buffer.byteLength(messageId ?? '', 'ascii') + 1 : 0;
  const buf = Buffer.alloc(16 + idLength);
  writeHeader(buf, SUBMIT_SM_RESP, status, sequence);
  if (idLength > 0) buf.write(messageId ?? '', 16, 'ascii'); // the trailing NUL is already 0
  return buf;
}

export interface ReceiptPduFields {
  sourceTon: number;
  sourceNpi: number;
  source: string;
  destTon: number;
  destNpi: number;
  destination: string;
  /** Receipt text, sent as ASCII with data_coding 0. */
  text: string;
  receiptedMessageId?: string;
  messageState?: number;
}

/**
 * A receipt deliver_sm (text in short_message) or data_sm (text in message_payload) with
 * esm_class 0x04, encoded by hand: the package's generic encoder costs several times more and
 * receipts are half of the simulator's traffic. Byte-identical to `new smpp.PDU(...).toBuffer()`
 * (checked by the unit tests).
 */
export function encodeReceiptPdu(via: 'deliver_sm' | 'data_sm', sequence: number, f: ReceiptPduFields): Buffer {
  const src = f.source.length > 255 ? f.source.slice(0, 255) : f.source;
  const dst = f.destination.length > 255 ? f.destination.slice(0, 255) : f.destination;
  const text = via === 'deliver_sm' && f.text.length > 254 ? f.text.slice(0, 254) : f.text;
  const buf = Buffer.alloc(receiptPduSize(via, src, dst, text, f)); // zero-filled: NUL terminators and zero fields are free
  writeHeader(buf, via === 'deliver_sm' ? DELIVER_SM : DATA_SM, 0, sequence);
  let o = 17; // service_type '' is a single NUL at 16
  buf[o++] = f.sourceTon & 0xff;
  buf[o++] = f.sourceNpi & 0xff;
  o += buf.write(src, o, 'latin1') + 1;
  buf[o++] = f.destTon & 0xff;
  buf[o++] = f.destNpi & 0xff;
  o += buf.write(dst, o, 'latin1') + 1;
  buf[o++] = EsmClass.RECEIPT;
  o = via === 'deliver_sm' ? writeShortMessage(buf, o, text) : writePayload(buf, o, text);
  if (f.receiptedMessageId !== undefined) {
    buf.writeUInt16BE(TLV_RECEIPTED_MESSAGE_ID, o);
    buf.writeUInt16BE(f.receiptedMessageId.length + 1, o + 2);
    o += 4;
    o += buf.write(f.receiptedMessageId, o, 'latin1') + 1;
  }
  if (f.messageState !== undefined) {
    buf.writeUInt16BE(TLV_MESSAGE_STATE, o);
    buf.writeUInt16BE(1, o + 2);
    buf[o + 4] = f.messageState & 0xff;
  }
  return buf;
}

function receiptPduSize(via: 'deliver_sm' | 'data_sm', src: string, dst: string, text: string, f: ReceiptPduFields): number {
  let size = 16 + 1 + 2 + src.length + 1 + 2 + dst.length + 1;
  size += via === 'deliver_sm' ? 10 + text.length : 3 + 4 + text.length;
  if (f.receiptedMessageId !== undefined) size += 4 + f.receiptedMessageId.length + 1;
  if (f.messageState !== undefined) size += 5;
  return size;
}

function writeHeader(buf: Buffer, commandId: number, status: number, sequence: number): void {
  buf.writeUInt32BE(buf.length, 0);
  buf.writeUInt32BE(commandId, 4);
  buf.writeUInt32BE(status >>> 0, 8);
  buf.writeUInt32BE(sequence >>> 0, 12);
}

/** deliver_sm body after esm_class: the text in short_message. Returns the next offset. */
function writeShortMessage(buf: Buffer, o: number, text: string): number {
  // protocol_id, priority_flag, schedule_delivery_time '', validity_period '',
  // registered_delivery, replace_if_present_flag, data_coding 0, sm_default_msg_id: all 0
  o += 8;
  buf[o++] = text.length;
  return o + buf.write(text, o, 'latin1');
}

/** data_sm body after esm_class: the text in a message_payload TLV. Returns the next offset. */
function writePayload(buf: Buffer, o: number, text: string): number {
  o += 2; // registered_delivery, data_coding
  buf.writeUInt16BE(TLV_MESSAGE_PAYLOAD, o);
  buf.writeUInt16BE(text.length, o + 2);
  o += 4;
  return o + buf.write(text, o, 'latin1');
}

/** One part of a mobile-originated message, addressed the way an SMSC would. */
export function moDeliverSm(mo: { from: string; to: string }, part: Buffer, dataCoding: number, udhi: boolean): PDU {
  return new smpp.PDU('deliver_sm', {
    source_addr: mo.from,
    source_addr_ton: addrTon(mo.from),
    source_addr_npi: addrNpi(mo.from),
    destination_addr: mo.to,
    dest_addr_ton: addrTon(mo.to),
    dest_addr_npi: addrNpi(mo.to),
    esm_class: udhi ? EsmClass.UDHI : 0,
    data_coding: dataCoding,
    short_message: part,
  });
}

export function genericNack(sequence: number, status: number): PDU {
  return new smpp.PDU('generic_nack', { sequence_number: sequence, command_status: status });
}

/** TON for an address we originate: international for long numbers, alphanumeric for names. */
function addrTon(addr: string): number {
  if (/^\+?\d{7,}$/.test(addr)) return 1;
  if (/^\d+$/.test(addr)) return 0;
  return 5;
}

function addrNpi(addr: string): number {
  return /^\+?\d+$/.test(addr) ? 1 : 0;
}
