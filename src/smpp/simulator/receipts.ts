/**
 * Delivery receipts, as an SMSC sends them: a final state picked from the configured mix, the
 * receipt text and its deliver_sm / data_sm, sent back on a bound receiver of the same system_id,
 * held while there is none, and sent again when the client refuses one or the link dies first.
 */
import type { PDU } from '../pdu.js';
import { formatReceiptText, messageStateFromStat, type ReceiptStat } from '../receipt.js';
import type { DelayQueue } from './delay-queue.js';
import type { SimulatorOptions } from './options.js';
import type { SimulatorStats } from './stats.js';
import { encodeReceiptPdu } from './wire.js';

/** A session as far as receipts are concerned. */
export interface ReceiptLink {
  /** Bound as receiver or transceiver with this system_id, and open. */
  canReceive(systemId: string): boolean;
  /** The next sequence_number of this session's outgoing PDUs. */
  nextSequence(): number;
  /** Writes bytes; false when the link is closed or not writable. */
  write(bytes: Buffer): boolean;
  /** Keeps the receipt until its deliver_sm_resp, to hold it again if the link dies first. */
  awaitAck(sequence: number, r: PendingReceipt): void;
}

/** The addresses of a submit_sm (a receipt goes the other way). */
interface SubmitAddresses {
  source: string;
  sourceTon: number;
  sourceNpi: number;
  destination: string;
  destTon: number;
  destNpi: number;
}

/** A receipt owed for an accepted submit_sm. */
export interface PendingReceipt extends SubmitAddresses {
  /** The session that submitted: the receipt goes back there when it can receive. */
  from: ReceiptLink;
  systemId: string;
  messageId: number;
  submitAt: number;
  text: string;
  onlyOnFailure: boolean;
  /** Picked once, so a receipt sent again after a lost link reports the same state. */
  stat?: ReceiptStat;
}

const MAX_HELD_RECEIPTS = 100_000;
const RECEIPT_RETRY_MS = 1000;
/** After a bind, so the client has handled its bind_resp before the held receipts arrive. */
const RELEASE_AFTER_BIND_MS = 20;

const STAT_NAMES: readonly ReceiptStat[] = ['DELIVRD', 'UNDELIV', 'EXPIRED', 'REJECTD', 'DELETED', 'UNKNOWN', 'ACCEPTD', 'ENROUTE'];

/** Characters that are the same octet in ASCII and in unpacked GSM 03.38: safe in a receipt. */
const RECEIPT_SAFE = /[^A-Za-z0-9 !"#%&'()*+,\-./:;<=>?]/g;

export function formatMessageId(n: number, format: 'hex' | 'decimal'): string {
  return format === 'decimal' ? String(n) : n.toString(16).toUpperCase();
}

/** The receipt a submit_sm asks for (registered_delivery), or null when it asks for none. */
export function receiptFor(pdu: PDU, from: ReceiptLink, o: { systemId: string; messageId: number; submitAt: number; text: string }): PendingReceipt | null {
  const rd = ((pdu.registered_delivery as number) ?? 0) & 0x03;
  if (rd === 0) return null;
  return {
    from,
    ...o,
    source: String(pdu.source_addr ?? ''),
    sourceTon: (pdu.source_addr_ton as number) ?? 0,
    sourceNpi: (pdu.source_addr_npi as number) ?? 0,
    destination: String(pdu.destination_addr ?? ''),
    destTon: (pdu.dest_addr_ton as number) ?? 0,
    destNpi: (pdu.dest_addr_npi as number) ?? 0,
    onlyOnFailure: (rd & 0x01) === 0,
  };
}

function isSuccess(stat: ReceiptStat): boolean {
  return stat === 'DELIVRD' || stat === 'ACCEPTD' || stat === 'ENROUTE';
}

/** What a receipt reports, about a submit from `source` to `destination`. */
interface ReceiptAbout extends SubmitAddresses {
  /** The message id in the receipt text, and in the receipted_message_id TLV. */
  textId: string;
  tlvId: string;
  stat: ReceiptStat;
  submitAt: number;
  text: string;
}

/** The receipt's deliver_sm / data_sm: from the destination back to the source. */
function encodeReceipt(r: ReceiptAbout, sequence: number, opts: SimulatorOptions): Buffer {
  const text = formatReceiptText({
    id: r.textId,
    stat: r.stat,
    err: isSuccess(r.stat) ? '000' : '001',
    submitDate: new Date(r.submitAt),
    doneDate: new Date(),
    text: r.text.slice(0, 20).replace(RECEIPT_SAFE, '?'),
    sub: 1,
    dlvrd: r.stat === 'DELIVRD' ? 1 : 0,
  });
  const tlvs = opts.receiptTlvs ?? true;
  return encodeReceiptPdu(opts.receiptVia ?? 'deliver_sm', sequence, {
    sourceTon: r.destTon,
    sourceNpi: r.destNpi,
    source: r.destination,
    destTon: r.sourceTon,
    destNpi: r.sourceNpi,
    destination: r.source,
    text,
    ...(tlvs ? { receiptedMessageId: r.tlvId, messageState: messageStateFromStat(r.stat) } : {}),
  });
}

function receiptPdu(r: PendingReceipt, stat: ReceiptStat, sequence: number, opts: SimulatorOptions): Buffer {
  const idFormat = opts.idFormat ?? 'hex';
  return encodeReceipt({ ...r, stat, textId: formatMessageId(r.messageId, opts.receiptIdFormat ?? idFormat), tlvId: formatMessageId(r.messageId, idFormat) }, sequence, opts);
}

/** A receipt the simulator is told to send, for any message id (one it never issued, say). */
export interface InjectedReceipt {
  /** Written as is, in the text and in the receipted_message_id TLV. */
  messageId: string;
  stat?: ReceiptStat;
  /** The original submit's source (default "Relais") and destination (default "24162999999"). */
  source?: string;
  destination?: string;
  /** Only a session bound with this system_id (default: any receiver or transceiver). */
  systemId?: string;
}

export function injectedReceiptPdu(r: InjectedReceipt, sequence: number, opts: SimulatorOptions): Buffer {
  const source = r.source ?? 'Relais';
  const numeric = /^\d+$/.test(source);
  return encodeReceipt({
    textId: r.messageId, tlvId: r.messageId, stat: r.stat ?? 'DELIVRD', submitAt: Date.now(), text: '',
    source, sourceTon: numeric ? 1 : 5, sourceNpi: numeric ? 1 : 0, destination: r.destination ?? '24162999999', destTon: 1, destNpi: 1,
  }, sequence, opts);
}

/** Weighted random pick of a receipt's final state. */
class StatMix {
  private readonly stats: ReceiptStat[] = [];
  private readonly cumulative: number[] = [];

  constructor(weights: Partial<Record<ReceiptStat, number>> = {}) {
    let total = 0;
    for (const stat of STAT_NAMES) {
      const w = weights[stat];
      if (w !== undefined && Number.isFinite(w) && w > 0) {
        total += w;
        this.stats.push(stat);
        this.cumulative.push(total);
      }
    }
    if (this.stats.length === 0) {
      this.stats.push('DELIVRD');
      this.cumulative.push(1);
    }
  }

  pick(): ReceiptStat {
    const stats = this.stats;
    if (stats.length === 1) return stats[0] as ReceiptStat;
    const cumulative = this.cumulative;
    const r = Math.random() * (cumulative[cumulative.length - 1] as number);
    for (let i = 0; i < cumulative.length; i++) if (r < (cumulative[i] as number)) return stats[i] as ReceiptStat;
    return stats[stats.length - 1] as ReceiptStat;
  }
}

/** Sends receipts to the right session, and keeps those no session can take yet. */
export class ReceiptCourier {
  /** Built on first use, so the options are read once the simulator is set up. */
  private mix: StatMix | null = null;
  /** Receipts with no session to go to: kept, as an SMSC does, until one binds again. */
  private readonly held: PendingReceipt[] = [];

  constructor(
    private readonly options: () => SimulatorOptions,
    private readonly stats: SimulatorStats,
    private readonly queue: DelayQueue,
    private readonly links: () => Iterable<ReceiptLink>,
  ) {}

  /** The receipt mix option changed. */
  remix(): void {
    this.mix = null;
  }

  sendLater(delayMs: number, r: PendingReceipt): void {
    this.queue.push(delayMs, () => this.send(r));
  }

  /** Refused (e.g. not bound yet, or a temporary error): try again, as an SMSC does. */
  refused(r: PendingReceipt): void {
    this.sendLater(RECEIPT_RETRY_MS, r);
  }

  /** Keep receipts whose session died before answering them. */
  hold(receipts: Iterable<PendingReceipt>): void {
    for (const r of receipts) this.held.push(r);
  }

  /** A receiver of `systemId` bound: send it what was held for it. */
  releaseAfterBind(systemId: string): void {
    this.queue.push(RELEASE_AFTER_BIND_MS, () => this.release(systemId));
  }

  send(r: PendingReceipt): void {
    const stat = (r.stat ??= this.pickStat());
    if (r.onlyOnFailure && isSuccess(stat)) return;
    const target = this.target(r);
    if (!target) {
      if (this.held.length < MAX_HELD_RECEIPTS) this.held.push(r);
      else this.stats.receiptsDropped++;
      return;
    }
    const sequence = target.nextSequence();
    if (target.write(receiptPdu(r, stat, sequence, this.options()))) {
      this.stats.receiptsSent++;
      target.awaitAck(sequence, r);
    } else {
      this.held.push(r);
    }
  }

  private pickStat(): ReceiptStat {
    this.mix ??= new StatMix(this.options().receiptMix);
    return this.mix.pick();
  }

  private release(systemId: string): void {
    const mine = this.held.filter((r) => r.systemId === systemId);
    if (!mine.length) return;
    const others = this.held.filter((r) => r.systemId !== systemId);
    this.held.length = 0;
    this.held.push(...others);
    for (const r of mine) this.send(r);
  }

  /** The submitting session if it can receive, else another rx/trx session with the same system_id. */
  private target(r: PendingReceipt): ReceiptLink | undefined {
    if (r.from.canReceive(r.systemId)) return r.from;
    for (const link of this.links()) if (link.canReceive(r.systemId)) return link;
    return undefined;
  }
}
