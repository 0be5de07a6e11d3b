/**
 * One SMPP connection to the simulator: its bind state machine and the answer to every PDU.
 *
 * Every PDU handler runs inside try/catch: an exception thrown from a `pdu` listener would
 * escape the smpp package's read loop, leave the session dead and crash the process.
 */
import { smpp, Status, EsmClass } from '../pdu.js';
import type { PDU, Session } from '../pdu.js';
import { decodeShortMessage } from '../codec.js';
import type { DelayQueue } from './delay-queue.js';
import { judgeBind, judgeSubmit, TpsGate, type SimulatorFaults } from './faults.js';
import type { SimulatorLogger, SimulatorOptions } from './options.js';
import { formatMessageId, receiptFor, type PendingReceipt, type ReceiptCourier, type ReceiptLink } from './receipts.js';
import { LastSecond, type ReceivedSubmit, type SimulatorStats } from './stats.js';
import { genericNack, submitSmResp } from './wire.js';

type BindType = 'transmitter' | 'receiver' | 'transceiver';

/** What the sessions of one simulator share. opts, faults and log change at runtime. */
export interface SessionContext {
  opts: SimulatorOptions;
  faults: SimulatorFaults;
  log: SimulatorLogger;
  readonly stats: SimulatorStats;
  readonly received: ReceivedSubmit[];
  readonly queue: DelayQueue;
  readonly receipts: ReceiptCourier;
  /** Timers destroying sessions that outstay an unbind: cleared when the simulator stops. */
  readonly lingerTimers: Set<NodeJS.Timeout>;
  /** The next submit_sm_resp message_id, as a number. */
  nextId: number;
}

/** A client unbinding, or never answering our unbind, gets this long before the link is cut. */
const UNBIND_LINGER_MS = 2000;

export class SimSession implements ReceiptLink {
  readonly remote: string;
  bindType: BindType | null = null;
  systemId = '';
  closed = false;
  /** The maxTps gate: reset by the simulator when the limit changes. */
  readonly tps = new TpsGate();
  private submits = 0;
  private corked = false;
  private readonly lastSecond = new LastSecond();
  /** Pending requests (injectMo parts, injected receipts): rejected if the session closes before they are answered. */
  private readonly pending = new Set<(err: Error) => void>();
  /** Receipts written and not yet answered: held again if the session dies before the resp. */
  private readonly unackedReceipts = new Map<number, PendingReceipt>();

  constructor(
    readonly session: Session,
    private readonly ctx: SessionContext,
  ) {
    const socket = session.socket;
    this.remote = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
    try {
      socket.setNoDelay(true);
    } catch {
      /* ignore */
    }
    ctx.log.debug({ remote: this.remote }, 'simulator session opened');
    this.listen();
  }

  // ----------------------------------------------------------------------------------------
  // state, as the simulator and the receipts see it

  isBound(): boolean {
    return this.bindType !== null && !this.closed;
  }

  /** Open and bound to receive (of `systemId`, when given). */
  canReceive(systemId?: string): boolean {
    const receives = this.bindType === 'receiver' || this.bindType === 'transceiver';
    return !this.closed && receives && (systemId === undefined || this.systemId === systemId);
  }

  /** Same sequence counter as session.send, so PDUs sent either way never collide. */
  nextSequence(): number {
    const session = this.session;
    if (session.sequence >= 0x7fffffff) session.sequence = 0;
    return ++session.sequence;
  }

  awaitAck(sequence: number, r: PendingReceipt): void {
    this.unackedReceipts.set(sequence, r);
  }

  /** Write pre-encoded bytes (the submit_sm_resp fast path) in order with session.send writes. */
  write(bytes: Buffer): boolean {
    const socket = this.session.socket;
    if (this.closed || !socket.writable) return false;
    this.cork();
    socket.write(bytes);
    return true;
  }

  /** Closed for good: unanswered receipts go back to the courier, pending MO parts fail. */
  close(err: Error): void {
    if (this.closed) return;
    this.closed = true;
    this.bindType = null;
    this.ctx.receipts.hold(this.unackedReceipts.values());
    this.unackedReceipts.clear();
    for (const fail of this.pending) fail(err);
    this.pending.clear();
  }

  drop(reason: string): void {
    this.close(new Error(reason));
    this.session.destroy();
  }

  /** Unbind from our side (the client is asked, then the link closes). */
  unbind(): void {
    this.bindType = null;
    const session = this.session;
    // Destroyed anyway if the client never answers unbind_resp or never closes its side.
    const timer = this.destroyLater();
    const sent = session.send(new smpp.PDU('unbind'), () => {
      session.close();
    });
    if (!sent) {
      clearTimeout(timer);
      this.ctx.lingerTimers.delete(timer);
      session.destroy();
    }
  }

  /** Send one MO part: settles with its deliver_sm_resp, fails if the session closes first. */
  deliverMo(pdu: PDU): Promise<void> {
    return this.request(pdu).then((resp) => {
      if (resp.command_status !== Status.ESME_ROK || resp.command !== 'deliver_sm_resp') throw moRefused(resp);
    });
  }

  /** Send a request PDU of ours: settles with the client's answer, fails if the session closes first. */
  request(pdu: PDU): Promise<PDU> {
    return new Promise<PDU>((resolve, reject) => {
      const fail = (err: Error) => reject(err);
      this.pending.add(fail);
      const sent = this.session.send(pdu, (resp: PDU) => {
        this.pending.delete(fail);
        resolve(resp);
      });
      if (!sent) {
        this.pending.delete(fail);
        reject(new Error('session not writable'));
      }
    });
  }

  // ----------------------------------------------------------------------------------------
  // the link

  private listen(): void {
    const { session, ctx } = this;
    // The package re-emits socket errors (and codec errors: PDU too large, bad length) as
    // session 'error'; after a codec error the session reads nothing more, so drop it.
    session.on('error', (err: Error) => {
      ctx.log.debug({ remote: this.remote, err: err.message }, 'simulator session error');
      this.close(err);
      session.destroy();
    });
    session.on('close', () => {
      this.close(new Error('session closed'));
      ctx.log.debug({ remote: this.remote }, 'simulator session closed');
    });
    session.on('pdu', (pdu: PDU) => {
      if (this.closed) return;
      this.cork();
      try {
        this.onPdu(pdu);
      } catch (err) {
        ctx.log.warn({ remote: this.remote, err }, 'simulator failed to handle a PDU');
        this.send(genericNack(pdu.sequence_number, Status.ESME_RSYSERR));
      }
    });
  }

  /** Batch the responses written during one read burst into one socket write. */
  private cork(): void {
    if (this.corked) return;
    const socket = this.session.socket;
    this.corked = true;
    socket.cork();
    process.nextTick(() => {
      this.corked = false;
      socket.uncork();
    });
  }

  private send(pdu: PDU, onResponse?: (resp: PDU) => void): boolean {
    if (this.closed) return false;
    try {
      this.cork();
      return this.session.send(pdu, onResponse);
    } catch (err) {
      this.ctx.log.warn({ remote: this.remote, err, command: pdu.command }, 'simulator failed to send a PDU');
      return false;
    }
  }

  private destroyLater(): NodeJS.Timeout {
    const { session, ctx } = this;
    const timer = setTimeout(() => {
      ctx.lingerTimers.delete(timer);
      session.destroy();
    }, UNBIND_LINGER_MS);
    ctx.lingerTimers.add(timer);
    session.socket.once('close', () => {
      clearTimeout(timer);
      ctx.lingerTimers.delete(timer);
    });
    return timer;
  }

  // ----------------------------------------------------------------------------------------
  // PDUs

  private onPdu(pdu: PDU): void {
    if (pdu.malformed) {
      // Its body did not decode (the framing held): answered as an SMSC does, the session kept.
      if (pdu.isResponse()) return;
      this.ctx.stats.genericNacks++;
      this.send(genericNack(pdu.sequence_number, Status.ESME_RINVCMDLEN));
      return;
    }
    switch (pdu.command) {
      case 'submit_sm':
        this.onSubmit(pdu);
        return;
      case 'enquire_link':
        this.ctx.stats.enquireLinks++;
        this.send(pdu.response());
        return;
      case 'bind_transmitter':
      case 'bind_receiver':
      case 'bind_transceiver':
        this.onBind(pdu);
        return;
      case 'unbind':
        this.onUnbind(pdu);
        return;
      case 'deliver_sm_resp':
      case 'data_sm_resp':
        this.onReceiptResp(pdu);
        return;
      case 'enquire_link_resp':
      case 'unbind_resp':
      case 'generic_nack':
        // Callbacks by sequence number are run by the session itself.
        return;
      default:
        if (pdu.isResponse() && pdu.command !== 'unknown') return; // stray response: ignore
        this.ctx.stats.genericNacks++;
        this.send(genericNack(pdu.sequence_number, Status.ESME_RINVCMDID));
    }
  }

  private onBind(pdu: PDU): void {
    const { stats, log } = this.ctx;
    if (this.bindType) {
      stats.bindsRefused++;
      this.send(pdu.response({ command_status: Status.ESME_RALYBND }));
      return;
    }
    const systemId = String(pdu.system_id ?? '');
    const status = judgeBind(this.ctx.faults) || this.checkCredentials(systemId, String(pdu.password ?? ''));
    if (status !== Status.ESME_ROK) {
      stats.bindsRefused++;
      log.info({ remote: this.remote, systemId, status }, 'simulator refused a bind');
      this.send(pdu.response({ command_status: status }));
      return;
    }
    this.bindType = (pdu.command as string).slice('bind_'.length) as BindType;
    this.systemId = systemId;
    stats.bindsAccepted++;
    log.info({ remote: this.remote, systemId, bindType: this.bindType }, 'simulator bind accepted');
    this.send(pdu.response({ system_id: 'RelaisSim', sc_interface_version: 0x34 }));
    if (this.bindType !== 'transmitter') this.ctx.receipts.releaseAfterBind(systemId);
  }

  /** ESME_ROK, or why the bind is refused (only the credentials that are configured are checked). */
  private checkCredentials(systemId: string, password: string): number {
    const opts = this.ctx.opts;
    if (opts.systemId !== undefined && systemId !== opts.systemId) return Status.ESME_RINVSYSID;
    if (opts.password !== undefined && password !== opts.password) return Status.ESME_RINVPASWD;
    return Status.ESME_ROK;
  }

  private onUnbind(pdu: PDU): void {
    this.ctx.stats.unbinds++;
    this.bindType = null;
    this.send(pdu.response());
    this.session.close();
    // A client that never closes its side must not keep the socket forever.
    this.destroyLater();
  }

  private onReceiptResp(pdu: PDU): void {
    const receipt = this.unackedReceipts.get(pdu.sequence_number);
    if (!receipt) return;
    this.unackedReceipts.delete(pdu.sequence_number);
    if (pdu.command_status !== Status.ESME_ROK) this.ctx.receipts.refused(receipt);
  }

  private onSubmit(pdu: PDU): void {
    if (this.bindType !== 'transmitter' && this.bindType !== 'transceiver') {
      this.send(pdu.response({ command_status: Status.ESME_RINVBNDSTS }));
      return;
    }
    const { opts, stats } = this.ctx;
    const now = Date.now();
    const record = this.readSubmit(pdu, now);
    if (opts.recordReceived ?? true) this.ctx.received.push(record);
    stats.submits++;
    this.submits++;
    const inLastSecond = this.lastSecond.add(now);
    if (inLastSecond > stats.maxSubmitsInOneSecond) stats.maxSubmitsInOneSecond = inLastSecond;

    const verdict = judgeSubmit(this.ctx.faults, this.submits, this.tps, now);
    stats[verdict.counter]++;
    if (verdict.action === 'drop-link') this.dropLink();
    if (verdict.action !== 'answer') return;
    record.status = verdict.status;
    if (verdict.status === Status.ESME_ROK) this.accept(pdu, record, now);
    else {
      const resp = submitSmResp(pdu.sequence_number, verdict.status);
      this.afterRespDelay(() => this.write(resp));
    }
  }

  /** The submit_sm as the tests see it; text stays '' when the body does not decode. */
  private readSubmit(pdu: PDU, now: number): ReceivedSubmit {
    const esmClass = (pdu.esm_class as number) ?? 0;
    const dataCoding = (pdu.data_coding as number) ?? 0;
    let body: Buffer = Buffer.isBuffer(pdu.short_message) ? pdu.short_message : Buffer.alloc(0);
    if (body.length === 0 && Buffer.isBuffer(pdu.message_payload)) body = pdu.message_payload;
    const record: ReceivedSubmit = {
      seq: pdu.sequence_number,
      at: now,
      systemId: this.systemId,
      source: String(pdu.source_addr ?? ''),
      destination: String(pdu.destination_addr ?? ''),
      dataCoding,
      esmClass,
      registeredDelivery: (pdu.registered_delivery as number) ?? 0,
      text: '',
      status: -1,
    };
    try {
      const decoded = decodeShortMessage(body, dataCoding, (esmClass & EsmClass.UDHI) !== 0);
      record.text = decoded.text;
      if (decoded.concat) record.concat = decoded.concat;
    } catch (err) {
      this.ctx.log.debug({ remote: this.remote, err }, 'simulator could not decode a short_message');
    }
    return record;
  }

  /** dropAfterSubmits: cut the link, leaving this submit unanswered. */
  private dropLink(): void {
    this.ctx.log.debug({ remote: this.remote, submits: this.submits }, 'simulator drops the link (dropAfterSubmits)');
    this.close(new Error('session dropped (dropAfterSubmits)'));
    // Flush the answers to the earlier submits of this read burst before cutting the link.
    const socket = this.session.socket;
    while (socket.writableCorked > 0) socket.uncork();
    this.session.destroy();
  }

  /** Answer an accepted submit with a message_id, and schedule its receipt if one was asked for. */
  private accept(pdu: PDU, record: ReceivedSubmit, now: number): void {
    const { opts, receipts } = this.ctx;
    const id = this.ctx.nextId++;
    const messageId = formatMessageId(id, opts.idFormat ?? 'hex');
    record.messageId = messageId;
    const resp = submitSmResp(pdu.sequence_number, Status.ESME_ROK, messageId);
    const receipt = (opts.receipts ?? true) ? receiptFor(pdu, this, { systemId: this.systemId, messageId: id, submitAt: now, text: record.text }) : null;
    if (receipt && opts.receiptBeforeResp) {
      this.afterRespDelay(() => {
        receipts.send(receipt);
        this.write(resp);
      });
      return;
    }
    this.afterRespDelay(() => this.write(resp));
    if (receipt) receipts.sendLater(opts.receiptDelayMs ?? 50, receipt);
  }

  private afterRespDelay(run: () => void): void {
    const delay = this.ctx.opts.respDelayMs ?? 0;
    if (delay > 0) this.ctx.queue.push(delay, run);
    else run();
  }
}

function moRefused(resp: PDU): Error {
  const err = new Error(`MO deliver_sm answered ${resp.command} status 0x${resp.command_status.toString(16)}`);
  (err as Error & { status?: number }).status = resp.command_status;
  return err;
}
