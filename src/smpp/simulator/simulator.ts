/**
 * An SMSC simulator speaking real SMPP 3.4 over TCP, built on `smpp.createServer`.
 *
 * Used by the test suite, the daemon's demo mode (in-process) and the benchmark (separate
 * process): it must be fast, deterministic enough for tests, and never crash on bad input.
 * Every PDU handler runs inside try/catch: an exception thrown from a `pdu` listener would
 * escape the smpp package's read loop, leave the session dead and crash the process.
 */
import { smpp, Status, EsmClass } from '../pdu.js';
import type { PDU, Session, Server } from '../pdu.js';
import { decodeShortMessage, encodeMessage } from '../codec.js';
import { formatReceiptText, messageStateFromStat, type ReceiptStat } from '../receipt.js';

export interface SimulatorFaults {
  /** 0..1 share of submit_sm answered ESME_RTHROTTLED (0x58). */
  throttleShare?: number;
  /** 0..1 share answered ESME_RMSGQFUL (0x14). */
  queueFullShare?: number;
  /**
   * Submits above this rate in any sliding 1 s window (per session) are answered 0x58. Only the
   * submits that passed this gate count towards the window, so a client that keeps pushing still
   * gets `maxTps` per second through.
   */
  maxTps?: number;
  /** Destroy the TCP link after N submit_sm received on a session (the Nth is not answered). */
  dropAfterSubmits?: number;
  /** 0..1 share of submit_sm never answered at all. */
  noAnswerShare?: number;
  /** 0..1 share answered with a permanent error ESME_RINVDSTADR (0x0B). */
  rejectShare?: number;
}

export interface SimulatorLogger {
  info(o: object, msg?: string): void;
  warn(o: object, msg?: string): void;
  debug(o: object, msg?: string): void;
}

export interface SimulatorOptions {
  host?: string;
  port?: number;
  systemId?: string;
  password?: string;
  receipts?: boolean;
  receiptDelayMs?: number;
  receiptMix?: Partial<Record<ReceiptStat, number>>;
  receiptVia?: 'deliver_sm' | 'data_sm';
  idFormat?: 'hex' | 'decimal';
  receiptIdFormat?: 'hex' | 'decimal';
  receiptTlvs?: boolean;
  /**
   * Write the receipt immediately before the submit_sm_resp (both after respDelayMs;
   * receiptDelayMs is ignored for that submit).
   */
  receiptBeforeResp?: boolean;
  respDelayMs?: number;
  /**
   * Default true: keep every submit_sm in `received`. A long-running standalone simulator
   * (the CLI) turns it off so memory stays flat; stats are kept either way.
   */
  recordReceived?: boolean;
  faults?: SimulatorFaults;
  logger?: SimulatorLogger;
}

export interface ReceivedSubmit {
  seq: number;
  at: number;
  systemId: string;
  source: string;
  destination: string;
  dataCoding: number;
  esmClass: number;
  registeredDelivery: number;
  text: string;
  concat?: { reference: number; total: number; sequence: number };
  messageId?: string;
  /** command_status answered, -1 = never answered. */
  status: number;
}

export interface SimulatorStats {
  bindsAccepted: number;
  bindsRefused: number;
  submits: number;
  accepted: number;
  throttled: number;
  queueFull: number;
  rejected: number;
  unanswered: number;
  receiptsSent: number;
  /** Receipts that had no bound receiver/transceiver session of the same system_id. */
  receiptsDropped: number;
  moSent: number;
  enquireLinks: number;
  unbinds: number;
  /** TCP sessions accepted since start (cumulative). */
  sessions: number;
  genericNacks: number;
  /** Most submit_sm any one session sent in a sliding second, by arrival time: the SMSC's view of a bind's TPS. */
  maxSubmitsInOneSecond: number;
}

type BindType = 'transmitter' | 'receiver' | 'transceiver';

interface SessionState {
  readonly session: Session;
  readonly remote: string;
  bindType: BindType | null;
  systemId: string;
  submits: number;
  closed: boolean;
  corked: boolean;
  /** Ring of the last `maxTps` admission times (maxTps gate). */
  tpsRing: Float64Array | null;
  tpsIdx: number;
  /** Pending injectMo parts: rejected if the session closes before they are answered. */
  pending: Set<(err: Error) => void>;
  /** Receipts written and not yet answered: held again if the session dies before the resp. */
  unackedReceipts: Map<number, PendingReceipt>;
  /** Arrival times of this session's submits in the last second (a queue: times[head..]). */
  recent: { times: number[]; head: number };
}

interface PendingReceipt {
  from: SessionState;
  systemId: string;
  messageId: number;
  submitAt: number;
  source: string;
  sourceTon: number;
  sourceNpi: number;
  destination: string;
  destTon: number;
  destNpi: number;
  text: string;
  onlyOnFailure: boolean;
  /** Picked once, so a receipt sent again after a lost link reports the same state. */
  stat?: ReceiptStat;
}

const MAX_HELD_RECEIPTS = 100_000;
const RECEIPT_RETRY_MS = 1000;

const NOOP_LOGGER: SimulatorLogger = { info() {}, warn() {}, debug() {} };

const STAT_NAMES: readonly ReceiptStat[] = ['DELIVRD', 'UNDELIV', 'EXPIRED', 'REJECTD', 'DELETED', 'UNKNOWN', 'ACCEPTD', 'ENROUTE'];

/** Characters that are the same octet in ASCII and in unpacked GSM 03.38: safe in a receipt. */
const RECEIPT_SAFE = /[^A-Za-z0-9 !"#%&'()*+,\-./:;<=>?]/g;

function share(value: number | undefined): boolean {
  return value !== undefined && value > 0 && (value >= 1 || Math.random() < value);
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

const SUBMIT_SM_RESP = 0x80000004;

/**
 * submit_sm_resp encoded by hand: the hot path of the simulator, several times cheaper than the
 * package's generic PDU encoder. An error answer has no body (like the package's encoder).
 */
function submitSmResp(sequence: number, status: number, messageId?: string): Buffer {
  const idLength = status === 0 ? Buffer.byteLength(messageId ?? '', 'ascii') + 1 : 0;
  const buf = Buffer.alloc(16 + idLength);
  buf.writeUInt32BE(buf.length, 0);
  buf.writeUInt32BE(SUBMIT_SM_RESP, 4);
  buf.writeUInt32BE(status >>> 0, 8);
  buf.writeUInt32BE(sequence >>> 0, 12);
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

const TLV_RECEIPTED_MESSAGE_ID = 0x001e;
const TLV_MESSAGE_PAYLOAD = 0x0424;
const TLV_MESSAGE_STATE = 0x0427;

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
  const textLength = text.length;
  let size = 16 + 1 + 2 + src.length + 1 + 2 + dst.length + 1;
  size += via === 'deliver_sm' ? 10 + textLength : 3 + 4 + textLength;
  if (f.receiptedMessageId !== undefined) size += 4 + f.receiptedMessageId.length + 1;
  if (f.messageState !== undefined) size += 5;
  const buf = Buffer.alloc(size); // zero-filled: NUL terminators and zero fields are free
  buf.writeUInt32BE(size, 0);
  buf.writeUInt32BE(via === 'deliver_sm' ? 0x00000005 : 0x00000103, 4);
  buf.writeUInt32BE(0, 8);
  buf.writeUInt32BE(sequence >>> 0, 12);
  let o = 17; // service_type '' is a single NUL at 16
  buf[o++] = f.sourceTon & 0xff;
  buf[o++] = f.sourceNpi & 0xff;
  o += buf.write(src, o, 'latin1') + 1;
  buf[o++] = f.destTon & 0xff;
  buf[o++] = f.destNpi & 0xff;
  o += buf.write(dst, o, 'latin1') + 1;
  buf[o++] = EsmClass.RECEIPT;
  if (via === 'deliver_sm') {
    // protocol_id, priority_flag, schedule_delivery_time '', validity_period '',
    // registered_delivery, replace_if_present_flag, data_coding 0, sm_default_msg_id: all 0
    o += 8;
    buf[o++] = textLength;
    o += buf.write(text, o, 'latin1');
  } else {
    o += 2; // registered_delivery, data_coding
    buf.writeUInt16BE(TLV_MESSAGE_PAYLOAD, o);
    buf.writeUInt16BE(textLength, o + 2);
    o += 4;
    o += buf.write(text, o, 'latin1');
  }
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

function emptyStats(): SimulatorStats {
  return {
    bindsAccepted: 0,
    bindsRefused: 0,
    submits: 0,
    accepted: 0,
    throttled: 0,
    queueFull: 0,
    rejected: 0,
    unanswered: 0,
    receiptsSent: 0,
    receiptsDropped: 0,
    moSent: 0,
    enquireLinks: 0,
    unbinds: 0,
    sessions: 0,
    genericNacks: 0,
    maxSubmitsInOneSecond: 0,
  };
}

/**
 * Time-ordered queue of callbacks run by a single timer. Items usually arrive in due order
 * (constant delay), so insertion is O(1) at the tail; an out-of-order item (delay changed at
 * runtime) is inserted in place.
 */
class DelayQueue {
  private items: { due: number; run: () => void }[] = [];
  private head = 0;
  private timer: NodeJS.Timeout | null = null;
  private timerDue = Infinity;

  constructor(private readonly onError: (err: unknown) => void) {}

  push(delayMs: number, run: () => void): void {
    const due = Date.now() + Math.max(0, delayMs);
    const items = this.items;
    let i = items.length;
    while (i > this.head && (items[i - 1] as { due: number }).due > due) i--;
    if (i === items.length) items.push({ due, run });
    else items.splice(i, 0, { due, run });
    if (due < this.timerDue) this.arm(due);
  }

  private arm(due: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timerDue = due;
    this.timer = setTimeout(() => this.drain(), Math.max(0, due - Date.now()));
  }

  private drain(): void {
    this.timer = null;
    this.timerDue = Infinity;
    const now = Date.now();
    const items = this.items;
    while (this.head < items.length) {
      const item = items[this.head] as { due: number; run: () => void };
      if (item.due > now) break;
      this.head++;
      try {
        item.run();
      } catch (err) {
        this.onError(err);
      }
    }
    if (this.head >= items.length) {
      this.items = [];
      this.head = 0;
    } else {
      if (this.head > 1024 && this.head * 2 > items.length) {
        this.items = items.slice(this.head);
        this.head = 0;
      }
      this.arm((this.items[this.head] as { due: number }).due);
    }
  }

  clear(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.timerDue = Infinity;
    this.items = [];
    this.head = 0;
  }
}

export class SmscSimulator {
  readonly received: ReceivedSubmit[] = [];
  readonly stats: SimulatorStats = emptyStats();

  private opts: SimulatorOptions;
  private faults: SimulatorFaults = {};
  private log: SimulatorLogger;
  private server: Server | null = null;
  private listening: { host: string; port: number } | null = null;
  private readonly states = new Map<Session, SessionState>();
  private readonly queue: DelayQueue;
  private readonly unbindTimers = new Set<NodeJS.Timeout>();
  private nextId = 0x10000000 + Math.floor(Math.random() * 0x6fffffff);
  private moRef = Math.floor(Math.random() * 256);
  private moCursor = 0;
  private mixStats: ReceiptStat[] = ['DELIVRD'];
  private mixCumulative: number[] = [1];
  /** Receipts with no session to go to: kept, as an SMSC does, until one binds again. */
  private readonly heldReceipts: PendingReceipt[] = [];

  constructor(options: SimulatorOptions = {}) {
    this.opts = { ...options };
    this.log = options.logger ?? NOOP_LOGGER;
    this.queue = new DelayQueue((err) => this.log.warn({ err }, 'simulator timer task failed'));
    this.setFaults(options.faults ?? {});
    this.computeMix();
  }

  // ----------------------------------------------------------------------------------------
  // lifecycle

  async start(): Promise<{ host: string; port: number }> {
    if (this.listening) return this.listening;
    const host = this.opts.host ?? '127.0.0.1';
    const server = smpp.createServer({}, (session: Session) => this.onSession(session));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error) => {
        this.server = null;
        reject(err);
      };
      server.once('error', onError);
      server.listen(this.opts.port ?? 0, host, () => {
        server.off('error', onError);
        resolve();
      });
    });
    server.on('error', (err: Error) => this.log.warn({ err }, 'simulator server error'));
    const addr = server.address();
    const port = typeof addr === 'object' && addr ? addr.port : (this.opts.port ?? 0);
    this.listening = { host, port };
    this.log.info({ host, port }, 'SMSC simulator listening');
    return this.listening;
  }

  async stop(): Promise<void> {
    this.queue.clear();
    for (const t of this.unbindTimers) clearTimeout(t);
    this.unbindTimers.clear();
    for (const state of [...this.states.values()]) {
      this.closeState(state, new Error('simulator stopped'));
      try {
        state.session.destroy();
      } catch {
        /* already gone */
      }
    }
    const server = this.server;
    this.server = null;
    this.listening = null;
    if (!server) return;
    await new Promise<void>((resolve) => {
      try {
        server.close(() => resolve());
      } catch {
        resolve();
      }
    });
  }

  get port(): number {
    return this.listening?.port ?? 0;
  }

  setFaults(faults: SimulatorFaults): void {
    const tpsChanged = faults.maxTps !== this.faults.maxTps;
    this.faults = { ...faults };
    if (tpsChanged) {
      for (const state of this.states.values()) {
        state.tpsRing = null;
        state.tpsIdx = 0;
      }
    }
  }

  setOptions(partial: Partial<SimulatorOptions>): void {
    this.opts = { ...this.opts, ...partial };
    if (partial.logger) this.log = partial.logger;
    if (partial.faults) this.setFaults(partial.faults);
    if ('receiptMix' in partial) this.computeMix();
  }

  // ----------------------------------------------------------------------------------------
  // test helpers

  boundSessions(): number {
    let n = 0;
    for (const s of this.states.values()) if (s.bindType && !s.closed) n++;
    return n;
  }

  maxSubmitsInAnyWindow(windowMs = 1000, filter?: (r: ReceivedSubmit) => boolean): number {
    const list = filter ? this.received.filter(filter) : this.received;
    let max = 0;
    let i = 0;
    for (let j = 0; j < list.length; j++) {
      const at = (list[j] as ReceivedSubmit).at;
      while (i < j && (list[i] as ReceivedSubmit).at <= at - windowMs) i++;
      if (j - i + 1 > max) max = j - i + 1;
    }
    return max;
  }

  sendRaw(bytes: Buffer | PDU): void {
    const state = this.firstSession();
    if (!state) throw new Error('no session to send to');
    const buf = Buffer.isBuffer(bytes) ? bytes : bytes.toBuffer();
    state.session.socket.write(buf);
  }

  unbindAll(): void {
    for (const state of this.states.values()) {
      if (!state.bindType || state.closed) continue;
      state.bindType = null;
      const session = state.session;
      // Destroyed anyway if the client never answers unbind_resp or never closes its side.
      const timer = this.destroyLater(session, 2000);
      const sent = session.send(new smpp.PDU('unbind'), () => {
        session.close();
      });
      if (!sent) {
        clearTimeout(timer);
        this.unbindTimers.delete(timer);
        session.destroy();
      }
    }
  }

  private destroyLater(session: Session, ms: number): NodeJS.Timeout {
    const timer = setTimeout(() => {
      this.unbindTimers.delete(timer);
      session.destroy();
    }, ms);
    this.unbindTimers.add(timer);
    session.socket.once('close', () => {
      clearTimeout(timer);
      this.unbindTimers.delete(timer);
    });
    return timer;
  }

  dropAll(): void {
    for (const state of [...this.states.values()]) {
      this.closeState(state, new Error('session dropped'));
      state.session.destroy();
    }
  }

  injectMo(mo: { from: string; to: string; text: string }): Promise<void> {
    const receivers = [...this.states.values()].filter((s) => !s.closed && (s.bindType === 'receiver' || s.bindType === 'transceiver'));
    if (receivers.length === 0) return Promise.reject(new Error('no bound receiver/transceiver session'));
    const state = receivers[this.moCursor++ % receivers.length] as SessionState;
    let encoded: ReturnType<typeof encodeMessage>;
    try {
      encoded = encodeMessage(mo.text, this.moRef);
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
    if (encoded.udhi) this.moRef = (this.moRef + 1) & 0xff;
    this.stats.moSent++;
    const parts = encoded.parts.map(
      (part) =>
        new Promise<void>((resolve, reject) => {
          const fail = (err: Error) => reject(err);
          const pdu = new smpp.PDU('deliver_sm', {
            source_addr: mo.from,
            source_addr_ton: addrTon(mo.from),
            source_addr_npi: addrNpi(mo.from),
            destination_addr: mo.to,
            dest_addr_ton: addrTon(mo.to),
            dest_addr_npi: addrNpi(mo.to),
            esm_class: encoded.udhi ? EsmClass.UDHI : 0,
            data_coding: encoded.dataCoding,
            short_message: part,
          });
          state.pending.add(fail);
          const sent = state.session.send(pdu, (resp: PDU) => {
            state.pending.delete(fail);
            if (resp.command_status === Status.ESME_ROK && resp.command === 'deliver_sm_resp') resolve();
            else {
              const err = new Error(`MO deliver_sm answered ${resp.command} status 0x${resp.command_status.toString(16)}`);
              (err as Error & { status?: number }).status = resp.command_status;
              reject(err);
            }
          });
          if (!sent) {
            state.pending.delete(fail);
            reject(new Error('session not writable'));
          }
        }),
    );
    return Promise.all(parts).then(() => undefined);
  }

  // ----------------------------------------------------------------------------------------
  // sessions

  private firstSession(): SessionState | undefined {
    let fallback: SessionState | undefined;
    for (const s of this.states.values()) {
      if (s.closed) continue;
      if (s.bindType) return s;
      fallback ??= s;
    }
    return fallback;
  }

  private onSession(session: Session): void {
    const socket = session.socket;
    const state: SessionState = {
      session,
      remote: `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`,
      bindType: null,
      systemId: '',
      submits: 0,
      closed: false,
      corked: false,
      tpsRing: null,
      tpsIdx: 0,
      unackedReceipts: new Map(),
      recent: { times: [], head: 0 },
      pending: new Set(),
    };
    this.states.set(session, state);
    this.stats.sessions++;
    try {
      socket.setNoDelay(true);
    } catch {
      /* ignore */
    }
    this.log.debug({ remote: state.remote }, 'simulator session opened');
    // The package re-emits socket errors (and codec errors: PDU too large, bad length) as
    // session 'error'; after a codec error the session reads nothing more, so drop it.
    session.on('error', (err: Error) => {
      this.log.debug({ remote: state.remote, err: err.message }, 'simulator session error');
      this.closeState(state, err);
      session.destroy();
    });
    session.on('close', () => {
      this.closeState(state, new Error('session closed'));
      this.states.delete(session);
      this.log.debug({ remote: state.remote }, 'simulator session closed');
    });
    session.on('pdu', (pdu: PDU) => {
      if (state.closed) return;
      this.cork(state);
      try {
        this.onPdu(state, pdu);
      } catch (err) {
        this.log.warn({ remote: state.remote, err }, 'simulator failed to handle a PDU');
        this.safeSend(state, new smpp.PDU('generic_nack', { sequence_number: pdu.sequence_number, command_status: Status.ESME_RSYSERR }));
      }
    });
  }

  /** Batch the responses written during one read burst into one socket write. */
  private cork(state: SessionState): void {
    if (state.corked) return;
    const socket = state.session.socket;
    state.corked = true;
    socket.cork();
    process.nextTick(() => {
      state.corked = false;
      socket.uncork();
    });
  }

  private closeState(state: SessionState, err: Error): void {
    if (state.closed) return;
    state.closed = true;
    state.bindType = null;
    for (const r of state.unackedReceipts.values()) this.heldReceipts.push(r);
    state.unackedReceipts.clear();
    for (const fail of state.pending) fail(err);
    state.pending.clear();
  }

  private safeSend(state: SessionState, pdu: PDU, onResponse?: (resp: PDU) => void): boolean {
    if (state.closed) return false;
    try {
      this.cork(state);
      return state.session.send(pdu, onResponse);
    } catch (err) {
      this.log.warn({ remote: state.remote, err, command: pdu.command }, 'simulator failed to send a PDU');
      return false;
    }
  }

  /** Write pre-encoded bytes (the submit_sm_resp fast path) in order with session.send writes. */
  private writeRaw(state: SessionState, bytes: Buffer): boolean {
    const socket = state.session.socket;
    if (state.closed || !socket.writable) return false;
    this.cork(state);
    socket.write(bytes);
    return true;
  }

  private onPdu(state: SessionState, pdu: PDU): void {
    switch (pdu.command) {
      case 'submit_sm':
        this.onSubmit(state, pdu);
        return;
      case 'enquire_link':
        this.stats.enquireLinks++;
        this.safeSend(state, pdu.response());
        return;
      case 'bind_transmitter':
      case 'bind_receiver':
      case 'bind_transceiver':
        this.onBind(state, pdu);
        return;
      case 'unbind': {
        this.stats.unbinds++;
        state.bindType = null;
        const session = state.session;
        this.safeSend(state, pdu.response());
        session.close();
        // A client that never closes its side must not keep the socket forever.
        this.destroyLater(session, 2000);
        return;
      }
      case 'deliver_sm_resp':
      case 'data_sm_resp': {
        const receipt = state.unackedReceipts.get(pdu.sequence_number);
        if (!receipt) return;
        state.unackedReceipts.delete(pdu.sequence_number);
        // Refused (e.g. not bound yet, or a temporary error): try again, as an SMSC does.
        if (pdu.command_status !== Status.ESME_ROK) this.queue.push(RECEIPT_RETRY_MS, () => this.sendReceipt(receipt));
        return;
      }
      case 'enquire_link_resp':
      case 'unbind_resp':
      case 'generic_nack':
        // Callbacks by sequence number are run by the session itself.
        return;
      default:
        if (pdu.isResponse() && pdu.command !== 'unknown') return; // stray response: ignore
        this.stats.genericNacks++;
        this.safeSend(state, new smpp.PDU('generic_nack', { sequence_number: pdu.sequence_number, command_status: Status.ESME_RINVCMDID }));
    }
  }

  private onBind(state: SessionState, pdu: PDU): void {
    if (state.bindType) {
      this.stats.bindsRefused++;
      this.safeSend(state, pdu.response({ command_status: Status.ESME_RALYBND }));
      return;
    }
    const systemId = String(pdu.system_id ?? '');
    const password = String(pdu.password ?? '');
    let status: number = Status.ESME_ROK;
    if (this.opts.systemId !== undefined && systemId !== this.opts.systemId) status = Status.ESME_RINVSYSID;
    else if (this.opts.password !== undefined && password !== this.opts.password) status = Status.ESME_RINVPASWD;
    if (status !== Status.ESME_ROK) {
      this.stats.bindsRefused++;
      this.log.info({ remote: state.remote, systemId, status }, 'simulator refused a bind');
      this.safeSend(state, pdu.response({ command_status: status }));
      return;
    }
    state.bindType = (pdu.command as string).slice('bind_'.length) as BindType;
    state.systemId = systemId;
    this.stats.bindsAccepted++;
    this.log.info({ remote: state.remote, systemId, bindType: state.bindType }, 'simulator bind accepted');
    this.safeSend(state, pdu.response({ system_id: 'RelaisSim', sc_interface_version: 0x34 }));
    if (state.bindType !== 'transmitter') this.queue.push(20, () => this.releaseHeldReceipts(systemId));
  }

  private releaseHeldReceipts(systemId: string): void {
    const mine = this.heldReceipts.filter((r) => r.systemId === systemId);
    if (!mine.length) return;
    const others = this.heldReceipts.filter((r) => r.systemId !== systemId);
    this.heldReceipts.length = 0;
    this.heldReceipts.push(...others);
    for (const r of mine) this.sendReceipt(r);
  }

  private tpsAdmit(state: SessionState, maxTps: number, now: number): boolean {
    const size = Math.max(1, Math.floor(maxTps));
    let ring = state.tpsRing;
    if (!ring || ring.length !== size) {
      ring = state.tpsRing = new Float64Array(size).fill(-Infinity);
      state.tpsIdx = 0;
    }
    // ring[tpsIdx] is the oldest of the last `size` admissions.
    if (now - (ring[state.tpsIdx] as number) < 1000) return false;
    ring[state.tpsIdx] = now;
    state.tpsIdx = (state.tpsIdx + 1) % size;
    return true;
  }

  private countPerSecond(state: SessionState, now: number): void {
    const r = state.recent;
    r.times.push(now);
    while (now - r.times[r.head]! >= 1000) r.head++;
    if (r.head > 4096) {
      r.times = r.times.slice(r.head);
      r.head = 0;
    }
    const inWindow = r.times.length - r.head;
    if (inWindow > this.stats.maxSubmitsInOneSecond) this.stats.maxSubmitsInOneSecond = inWindow;
  }

  private onSubmit(state: SessionState, pdu: PDU): void {
    if (state.bindType !== 'transmitter' && state.bindType !== 'transceiver') {
      this.safeSend(state, pdu.response({ command_status: Status.ESME_RINVBNDSTS }));
      return;
    }
    const now = Date.now();
    const esmClass = (pdu.esm_class as number) ?? 0;
    const dataCoding = (pdu.data_coding as number) ?? 0;
    const registeredDelivery = (pdu.registered_delivery as number) ?? 0;
    let body: Buffer = Buffer.isBuffer(pdu.short_message) ? pdu.short_message : Buffer.alloc(0);
    if (body.length === 0 && Buffer.isBuffer(pdu.message_payload)) body = pdu.message_payload;
    let text = '';
    let concat: ReceivedSubmit['concat'];
    try {
      const decoded = decodeShortMessage(body, dataCoding, (esmClass & EsmClass.UDHI) !== 0);
      text = decoded.text;
      concat = decoded.concat;
    } catch (err) {
      this.log.debug({ remote: state.remote, err }, 'simulator could not decode a short_message');
    }
    const record: ReceivedSubmit = {
      seq: pdu.sequence_number,
      at: now,
      systemId: state.systemId,
      source: String(pdu.source_addr ?? ''),
      destination: String(pdu.destination_addr ?? ''),
      dataCoding,
      esmClass,
      registeredDelivery,
      text,
      status: -1,
    };
    if (concat) record.concat = concat;
    if (this.opts.recordReceived ?? true) this.received.push(record);
    this.stats.submits++;
    state.submits++;
    this.countPerSecond(state, now);

    const faults = this.faults;
    if (faults.dropAfterSubmits && faults.dropAfterSubmits > 0 && state.submits >= faults.dropAfterSubmits) {
      this.stats.unanswered++;
      this.log.debug({ remote: state.remote, submits: state.submits }, 'simulator drops the link (dropAfterSubmits)');
      this.closeState(state, new Error('session dropped (dropAfterSubmits)'));
      // Flush the answers to the earlier submits of this read burst before cutting the link.
      const socket = state.session.socket;
      while (socket.writableCorked > 0) socket.uncork();
      state.session.destroy();
      return;
    }
    if (share(faults.noAnswerShare)) {
      this.stats.unanswered++;
      return;
    }
    let status: number = Status.ESME_ROK;
    if (share(faults.throttleShare) || (faults.maxTps !== undefined && faults.maxTps > 0 && !this.tpsAdmit(state, faults.maxTps, now))) {
      status = Status.ESME_RTHROTTLED;
      this.stats.throttled++;
    } else if (share(faults.queueFullShare)) {
      status = Status.ESME_RMSGQFUL;
      this.stats.queueFull++;
    } else if (share(faults.rejectShare)) {
      status = Status.ESME_RINVDSTADR;
      this.stats.rejected++;
    }
    record.status = status;
    const respDelay = this.opts.respDelayMs ?? 0;
    if (status !== Status.ESME_ROK) {
      const resp = submitSmResp(pdu.sequence_number, status);
      if (respDelay > 0) this.queue.push(respDelay, () => this.writeRaw(state, resp));
      else this.writeRaw(state, resp);
      return;
    }

    this.stats.accepted++;
    const idNum = this.nextId++;
    const messageId = this.formatId(idNum, this.opts.idFormat ?? 'hex');
    record.messageId = messageId;
    const resp = submitSmResp(pdu.sequence_number, Status.ESME_ROK, messageId);

    const rd = registeredDelivery & 0x03;
    const wantReceipt = (this.opts.receipts ?? true) && rd !== 0;
    const receipt: PendingReceipt | null = wantReceipt
      ? {
          from: state,
          systemId: state.systemId,
          messageId: idNum,
          submitAt: now,
          source: record.source,
          sourceTon: (pdu.source_addr_ton as number) ?? 0,
          sourceNpi: (pdu.source_addr_npi as number) ?? 0,
          destination: record.destination,
          destTon: (pdu.dest_addr_ton as number) ?? 0,
          destNpi: (pdu.dest_addr_npi as number) ?? 0,
          text,
          onlyOnFailure: (rd & 0x01) === 0,
        }
      : null;

    if (receipt && this.opts.receiptBeforeResp) {
      const both = () => {
        this.sendReceipt(receipt);
        this.writeRaw(state, resp);
      };
      if (respDelay > 0) this.queue.push(respDelay, both);
      else both();
      return;
    }
    if (respDelay > 0) this.queue.push(respDelay, () => this.writeRaw(state, resp));
    else this.writeRaw(state, resp);
    if (receipt) this.queue.push(this.opts.receiptDelayMs ?? 50, () => this.sendReceipt(receipt));
  }

  // ----------------------------------------------------------------------------------------
  // receipts

  private formatId(n: number, format: 'hex' | 'decimal'): string {
    return format === 'decimal' ? String(n) : n.toString(16).toUpperCase();
  }

  private computeMix(): void {
    const mix = this.opts.receiptMix;
    const stats: ReceiptStat[] = [];
    const cumulative: number[] = [];
    let total = 0;
    if (mix) {
      for (const stat of STAT_NAMES) {
        const w = mix[stat];
        if (w !== undefined && Number.isFinite(w) && w > 0) {
          total += w;
          stats.push(stat);
          cumulative.push(total);
        }
      }
    }
    if (stats.length === 0) {
      this.mixStats = ['DELIVRD'];
      this.mixCumulative = [1];
    } else {
      this.mixStats = stats;
      this.mixCumulative = cumulative;
    }
  }

  private pickStat(): ReceiptStat {
    const stats = this.mixStats;
    if (stats.length === 1) return stats[0] as ReceiptStat;
    const cumulative = this.mixCumulative;
    const r = Math.random() * (cumulative[cumulative.length - 1] as number);
    for (let i = 0; i < cumulative.length; i++) if (r < (cumulative[i] as number)) return stats[i] as ReceiptStat;
    return stats[stats.length - 1] as ReceiptStat;
  }

  /** The submitting session if it can receive, else another rx/trx session with the same system_id. */
  private receiptTarget(r: PendingReceipt): SessionState | undefined {
    const from = r.from;
    if (!from.closed && (from.bindType === 'receiver' || from.bindType === 'transceiver') && from.systemId === r.systemId) return from;
    for (const s of this.states.values()) {
      if (!s.closed && (s.bindType === 'receiver' || s.bindType === 'transceiver') && s.systemId === r.systemId) return s;
    }
    return undefined;
  }

  private sendReceipt(r: PendingReceipt): void {
    const stat = (r.stat ??= this.pickStat());
    if (r.onlyOnFailure && (stat === 'DELIVRD' || stat === 'ACCEPTD' || stat === 'ENROUTE')) return;
    const target = this.receiptTarget(r);
    if (!target) {
      if (this.heldReceipts.length < MAX_HELD_RECEIPTS) this.heldReceipts.push(r);
      else this.stats.receiptsDropped++;
      return;
    }
    const respId = this.formatId(r.messageId, this.opts.idFormat ?? 'hex');
    const textId = this.formatId(r.messageId, this.opts.receiptIdFormat ?? this.opts.idFormat ?? 'hex');
    const receiptText = formatReceiptText({
      id: textId,
      stat,
      err: stat === 'DELIVRD' || stat === 'ACCEPTD' || stat === 'ENROUTE' ? '000' : '001',
      submitDate: new Date(r.submitAt),
      doneDate: new Date(),
      text: r.text.slice(0, 20).replace(RECEIPT_SAFE, '?'),
      sub: 1,
      dlvrd: stat === 'DELIVRD' ? 1 : 0,
    });
    const tlvs = this.opts.receiptTlvs ?? true;
    const session = target.session;
    // Same sequence counter as session.send, so PDUs sent either way never collide.
    if (session.sequence >= 0x7fffffff) session.sequence = 0;
    const bytes = encodeReceiptPdu(this.opts.receiptVia ?? 'deliver_sm', ++session.sequence, {
      sourceTon: r.destTon,
      sourceNpi: r.destNpi,
      source: r.destination,
      destTon: r.sourceTon,
      destNpi: r.sourceNpi,
      destination: r.source,
      text: receiptText,
      ...(tlvs ? { receiptedMessageId: respId, messageState: messageStateFromStat(stat) } : {}),
    });
    if (this.writeRaw(target, bytes)) {
      this.stats.receiptsSent++;
      target.unackedReceipts.set(session.sequence, r);
    } else {
      this.heldReceipts.push(r);
    }
  }
}
