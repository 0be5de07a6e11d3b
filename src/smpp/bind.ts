/**
 * One SMPP session to an operator's SMSC, as an explicit state machine:
 *   disconnected → connecting → binding → bound → (unbinding) → disconnected … → stopped
 * It owns what the `smpp` package leaves out: the window of unanswered PDUs (p-queue
 * concurrency), TPS pacing, response timeouts, enquire_link both ways, reconnect with capped
 * exponential backoff and jitter, and turning every way a link can die into a clean rebind.
 * A bind the SMSC refuses (bad credentials, account barred) is retried on a far slower backoff
 * of its own: SMSCs lock accounts that retry refused binds like network failures.
 */
import { EventEmitter } from 'node:events';
import PQueue from 'p-queue';
import type { Logger } from 'pino';
import type { BindConfig, OperatorConfig } from '../config/schema.js';
import { decodeShortMessage, type DecodedShortMessage } from './codec.js';
import { RecentCounts } from './recent-counts.js';
import { Pacer } from './pacer.js';
import { ThrottleGovernor } from './throttle.js';
import { EsmClass, Status, smpp, type PDU, type Session } from './pdu.js';
import { normalizeReceiptId, normalizeSmscId, parseReceiptText, statFromMessageState, type ReceiptStat } from './receipt.js';

export type BindState = 'disconnected' | 'connecting' | 'binding' | 'bound' | 'unbinding' | 'stopped';

export interface SubmitPart {
  source: string;
  destination: string;
  dataCoding: number;
  udhi: boolean;
  shortMessage: Buffer;
  registeredDelivery: boolean;
}

export type SubmitOutcome =
  | { kind: 'accepted'; smscId: string; rawId: string; latencyMs: number }
  | { kind: 'transient'; status: number }
  | { kind: 'permanent'; status: number }
  | { kind: 'timeout' }
  | { kind: 'link_lost'; sent: boolean };

export interface InboundReceipt {
  operator: string;
  bind: string;
  /** Normalized so that it compares equal to the id stored from submit_sm_resp. */
  smscId: string;
  stat: ReceiptStat;
  err: string | null;
  /** The short_message as received (latin1, at most 255 characters); null when the receipt came in TLVs only. */
  text: string | null;
}

export interface InboundMo {
  operator: string;
  bind: string;
  from: string;
  to: string;
  text: string;
}

/** Ack sends the deliver_sm_resp / data_sm_resp: called once the event is durable. */
export type Ack = (status?: number) => void;

export interface BindCounters {
  submitted: number;
  accepted: number;
  throttled: number;
  failed: number;
  timeouts: number;
  receipts: number;
  mo: number;
  reconnects: number;
  /** bind_*_resp with a non-zero command_status. */
  refusals: number;
}

export interface BindEvents {
  state: [state: BindState, detail: { reason?: string }];
  /** The SMSC answered our bind with this non-zero command_status. */
  refused: [status: number];
  receipt: [receipt: InboundReceipt, ack: Ack];
  mo: [mo: InboundMo, ack: Ack];
}

/** How long an unbind waits for its unbind_resp: at most this, and at least a moment even past a shutdown deadline. */
const UNBIND_WAIT_MS = 2000;
const MIN_UNBIND_WAIT_MS = 200;
/** SMSC answers worth retrying later on the same or another bind. */
const TRANSIENT = new Set<number>([Status.ESME_RTHROTTLED, Status.ESME_RMSGQFUL, Status.ESME_RSYSERR, Status.ESME_RX_T_APPN, 0x45, Status.ESME_RINVBNDSTS]);
const THROTTLING = new Set<number>([Status.ESME_RTHROTTLED, Status.ESME_RMSGQFUL]);
const SWEEP_MS = 100;
const COUNTED: readonly (keyof BindCounters)[] = ['submitted', 'accepted', 'throttled', 'failed', 'timeouts', 'receipts', 'mo', 'reconnects', 'refusals'];

interface Inflight {
  resolve: (o: SubmitOutcome) => void;
  sentAt: number;
}

export class Bind extends EventEmitter<BindEvents> {
  readonly name: string;
  readonly operator: string;
  state: BindState = 'disconnected';
  lastError: string | null = null;
  boundSince: number | null = null;
  /** When the bind entered its current state. */
  stateSince = Date.now();
  readonly counters: BindCounters = { submitted: 0, accepted: 0, throttled: 0, failed: 0, timeouts: 0, receipts: 0, mo: 0, reconnects: 0, refusals: 0 };
  /** The same counts over the last 60 s, and per minute over the last 15 (charts). */
  readonly lastMinute = new RecentCounts<keyof BindCounters>(COUNTED, 1000, 60);
  readonly perMinute = new RecentCounts<keyof BindCounters>(COUNTED, 60_000, 15);

  private session: Session | null = null;
  private readonly queue: PQueue;
  private readonly pacer: Pacer;
  private governor: ThrottleGovernor;
  private readonly inflight = new Map<number, Inflight>();
  /** Connection attempts failed in a row (network), and binds refused in a row (SMSC). */
  private attempt = 0;
  private refusedInRow = 0;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private enquireTimer: NodeJS.Timeout | null = null;
  private sweepTimer: NodeJS.Timeout | null = null;
  private enquirePendingSince: number | null = null;
  private stopping = false;
  /** Settles when the bind stops: window slots held for commits are given back at once. */
  private holdsEnd = deferred();
  /** The session whose socket is corked until the end of this turn of the event loop. */
  private corked: Session | null = null;
  private readonly moParts = new Map<string, { parts: (string | undefined)[]; at: number }>();

  constructor(
    private current: BindConfig & { name: string },
    private readonly op: Pick<OperatorConfig, 'name' | 'receipt_id_format' | 'submit_id_format' | 'default_alphabet'>,
    private readonly log: Logger,
  ) {
    super();
    this.name = current.name;
    this.operator = op.name;
    this.queue = new PQueue({ concurrency: current.window });
    this.pacer = new Pacer(current.tps);
    this.governor = governorFor(current);
  }

  get cfg(): Readonly<BindConfig & { name: string }> {
    return this.current;
  }

  /**
   * A reload's new TPS, window, timeouts and backoff, on the running session (what identifies
   * the session — host, credentials, mode — is not changed here: the daemon replaces the bind).
   * A smaller window takes effect as answers come back; nothing in flight is touched.
   */
  retune(next: BindConfig & { name: string }): void {
    const was = this.current;
    this.current = next;
    this.queue.concurrency = next.window;
    if (next.tps !== was.tps || next.throttle_tolerance !== was.throttle_tolerance || next.throttle_backoff !== was.throttle_backoff) {
      this.pacer.retune(next.tps);
      this.governor = governorFor(next);
    }
    if (next.enquire_link_interval !== was.enquire_link_interval && this.session && this.state === 'bound') {
      if (this.enquireTimer) clearTimeout(this.enquireTimer);
      this.scheduleEnquireLink(this.session);
    }
  }

  get tps(): number {
    return this.cfg.tps;
  }

  /** Transmitters and transceivers send; receivers only receive. */
  get sends(): boolean {
    return this.cfg.mode !== 'receiver';
  }

  /** Not once stopping: a bind being removed or replaced takes no new part. */
  get canSubmit(): boolean {
    return this.state === 'bound' && this.sends && !this.stopping;
  }

  /** How many more parts the dispatcher may hand this bind now: a window plus ~½ s of pacing at its current rate. */
  get available(): number {
    if (!this.canSubmit) return 0;
    const budget = this.cfg.window + Math.ceil(this.governor.rate / 2);
    return Math.max(0, budget - this.queue.size - this.queue.pending);
  }

  get load(): number {
    return this.queue.size + this.queue.pending;
  }

  get windowUsed(): number {
    return this.inflight.size;
  }

  start(): void {
    this.stopping = false;
    this.holdsEnd = deferred();
    this.pacer.rearm();
    this.sweepTimer ??= setInterval(() => this.sweepTimeouts(), SWEEP_MS).unref();
    this.connect();
  }

  /**
   * Submit one PDU's worth (one part). Never rejects: every ending is an outcome. With `written`,
   * a part that went out keeps its window slot after the answer until `written` settles (its
   * message's outcome is committed) or the bind stops: so what a kill -9 can submit twice — sent
   * and not durably answered — stays within one window. While the database cannot write, the
   * window stays full: nothing more is sent that could not be recorded.
   */
  submit(part: SubmitPart, written?: Promise<unknown>): Promise<SubmitOutcome> {
    return new Promise<SubmitOutcome>((resolve) => {
      void this.queue.add(async () => {
        const outcome = await this.submitNow(part).catch((): SubmitOutcome => ({ kind: 'link_lost', sent: false }));
        resolve(outcome);
        if (written && wentOut(outcome)) await this.hold(written);
      });
    });
  }

  private async submitNow(part: SubmitPart): Promise<SubmitOutcome> {
    if (!this.canSubmit || this.stopping) return { kind: 'link_lost', sent: false };
    await this.pacer.acquire();
    if (!this.canSubmit || this.stopping) return { kind: 'link_lost', sent: false };
    return this.send(part);
  }

  /** No timer: the ledger settles every outcome (written, or given up at its close), and stop() ends the rest. */
  private async hold(written: Promise<unknown>): Promise<void> {
    await Promise.race([written.catch(() => undefined), this.holdsEnd.promise]);
  }

  /**
   * Stops taking parts at once — those still waiting for their turn end `link_lost` unsent, so
   * the dispatcher re-queues them as they were — waits for the window's answers until
   * `deadline` (default: one response timeout), gives up on the rest (sent, unanswered:
   * re-queued and counted as possible duplicates), then unbinds (within what is left of the
   * deadline, at least a moment) and closes.
   */
  async stop(deadline = Date.now() + this.cfg.response_timeout * 1000): Promise<void> {
    if (this.state === 'stopped') return;
    this.stopping = true;
    this.holdsEnd.resolve();
    this.clearReconnect();
    this.pacer.release();
    while (this.inflight.size > 0 && Date.now() < deadline && this.session) await delay(20);
    for (const [seq, entry] of this.inflight) {
      this.inflight.delete(seq);
      entry.resolve({ kind: 'link_lost', sent: true });
    }
    await this.queue.onIdle().catch(() => undefined);
    if (this.state === 'bound') await this.unbind(Math.min(UNBIND_WAIT_MS, Math.max(MIN_UNBIND_WAIT_MS, deadline - Date.now())));
    this.teardown(false);
    this.setState('stopped', {});
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    this.sweepTimer = null;
  }

  // ---- connection lifecycle -------------------------------------------------------------

  private connect(): void {
    if (this.stopping) return;
    this.setState('connecting', {});
    const session = smpp.connect({ host: this.cfg.host, port: this.cfg.port, tls: this.cfg.tls });
    this.session = session;
    const connectTimer = setTimeout(() => this.linkDown(session, 'connect timeout'), this.cfg.response_timeout * 1000);
    session.socket.setNoDelay(true);
    session.on(this.cfg.tls ? 'secureConnect' : 'connect', () => {
      clearTimeout(connectTimer);
      this.sendBind(session);
    });
    session.on('error', (err: Error) => {
      clearTimeout(connectTimer);
      this.linkDown(session, describeError(err));
    });
    session.on('close', () => {
      clearTimeout(connectTimer);
      this.linkDown(session, 'connection closed');
    });
    session.on('pdu', (pdu: PDU) => {
      // Thrown here, an error would escape the smpp package's read loop uncaught and end the process.
      try {
        this.onPdu(session, pdu);
      } catch (err) {
        this.log.warn({ bind: this.name, command: pdu.command, command_id: hex(pdu.command_id >>> 0), err: describeError(err) }, 'PDU from the SMSC could not be handled: ignored');
      }
    });
  }

  private sendBind(session: Session): void {
    this.setState('binding', {});
    const command = `bind_${this.cfg.mode}`;
    const pdu = new smpp.PDU(command, {
      system_id: this.cfg.system_id,
      password: this.cfg.password,
      system_type: this.cfg.system_type,
      interface_version: 0x34,
    });
    const timer = setTimeout(() => this.linkDown(session, 'bind timeout'), this.cfg.response_timeout * 1000);
    session.send(pdu, (resp: PDU) => {
      clearTimeout(timer);
      if (session !== this.session) return;
      if (resp.command_status !== Status.ESME_ROK) {
        this.refused(session, resp.command_status);
        return;
      }
      this.attempt = this.refusedInRow = 0;
      this.boundSince = Date.now();
      this.lastError = null;
      this.setState('bound', { reason: `bound as ${this.cfg.mode}` });
      this.scheduleEnquireLink(session);
    });
  }

  /**
   * The SMSC answered the bind with an error: not a network failure. Retrying at network pace
   * gets accounts locked, so the next attempt waits `refused_initial`, doubling to `refused_max`.
   */
  private refused(session: Session, status: number): void {
    if (session !== this.session) return;
    const { refused_initial: initial, refused_max: max, jitter } = this.cfg.reconnect;
    const ms = backoffMs(initial, max, jitter, this.refusedInRow);
    this.refusedInRow += 1;
    this.count('refusals');
    const reason = `bind refused by SMSC: ${statusName(status)}`;
    this.lastError = reason;
    this.teardown(false);
    this.emit('refused', status);
    // Never the password: the bind, the account name and the SMSC's answer.
    this.log.warn({ bind: this.name, operator: this.operator, system_id: this.cfg.system_id, status: statusName(status), command_status: hex(status), refusals: this.refusedInRow, retry_in_s: Math.round(ms / 1000) }, 'bind refused by SMSC: retrying on the refusal backoff');
    if (this.stopping) return;
    this.setState('disconnected', { reason });
    this.scheduleReconnect(ms);
  }

  /** Every way a link ends comes here once: fail the window, then reconnect with backoff. */
  private linkDown(session: Session, reason: string): void {
    if (session !== this.session) return;
    const wasBound = this.state === 'bound' || this.state === 'unbinding';
    if (this.state !== 'stopped') this.lastError = reason;
    this.teardown(this.state === 'bound');
    if (this.stopping) return;
    if (wasBound) this.log.warn({ bind: this.name, reason }, 'link lost');
    else this.log.warn({ bind: this.name, reason, attempt: this.attempt + 1 }, 'cannot bind');
    this.setState('disconnected', { reason });
    this.scheduleReconnect();
  }

  private teardown(graceful: boolean): void {
    const session = this.session;
    this.session = null;
    this.boundSince = null;
    if (this.enquireTimer) clearTimeout(this.enquireTimer);
    this.enquireTimer = null;
    this.enquirePendingSince = null;
    for (const [seq, entry] of this.inflight) {
      this.inflight.delete(seq);
      entry.resolve({ kind: 'link_lost', sent: true });
    }
    if (session) {
      session.removeAllListeners();
      session.on('error', () => undefined);
      if (graceful && session.socket.writable) {
        // Say goodbye before dropping a link we gave up on, so the SMSC frees the session and
        // does not answer our next bind with ESME_RALYBND.
        session.send(new smpp.PDU('unbind', {}));
        session.socket.end();
        setTimeout(() => session.destroy(), 1000).unref();
      } else {
        session.destroy();
      }
    }
  }

  /** Reconnect after `ms`, by default on the network backoff. */
  private scheduleReconnect(ms?: number): void {
    this.clearReconnect();
    if (ms === undefined) {
      const { initial, max, jitter } = this.cfg.reconnect;
      ms = backoffMs(initial, max, jitter, this.attempt);
      this.attempt += 1;
    }
    this.count('reconnects');
    this.reconnectTimer = setTimeout(() => this.connect(), Math.max(50, ms));
  }

  private clearReconnect(): void {
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
  }

  private async unbind(waitMs: number): Promise<void> {
    const session = this.session;
    if (!session) return;
    this.setState('unbinding', {});
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, waitMs);
      const sent = session.send(new smpp.PDU('unbind', {}), () => {
        clearTimeout(timer);
        resolve();
      });
      if (!sent) {
        clearTimeout(timer);
        resolve();
      }
    });
  }

  // ---- keepalive and timeouts -----------------------------------------------------------

  private scheduleEnquireLink(session: Session): void {
    this.enquireTimer = setTimeout(() => {
      if (session !== this.session) return;
      if (this.enquirePendingSince !== null) {
        this.linkDown(session, 'enquire_link unanswered: link dead');
        return;
      }
      this.enquirePendingSince = Date.now();
      session.send(new smpp.PDU('enquire_link', {}), () => {
        this.enquirePendingSince = null;
      });
      // The next tick checks the answer after the response timeout, then keeps the period.
      this.scheduleEnquireLink(session);
    }, (this.enquirePendingSince === null ? this.cfg.enquire_link_interval : this.cfg.response_timeout) * 1000);
    this.enquireTimer.unref();
  }

  /** One timer per bind, not per PDU: the window is in send order, so stop at the first young entry. */
  private sweepTimeouts(): void {
    const limit = Date.now() - this.cfg.response_timeout * 1000;
    for (const [seq, entry] of this.inflight) {
      if (entry.sentAt > limit) break;
      this.inflight.delete(seq);
      this.count('timeouts');
      if (this.session) delete (this.session as any)._callbacks?.[seq];
      entry.resolve({ kind: 'timeout' });
    }
  }

  // ---- outbound -------------------------------------------------------------------------

  /**
   * The PDUs sent in one turn of the event loop leave in one write: the socket is corked at the
   * first and uncorked when the turn ends, instead of a syscall per submit_sm.
   */
  private cork(session: Session): void {
    if (this.corked === session) return;
    this.corked = session;
    session.socket.cork();
    process.nextTick(() => {
      this.corked = null;
      session.socket.uncork();
    });
  }

  private send(part: SubmitPart): Promise<SubmitOutcome> {
    const session = this.session;
    if (!session) return Promise.resolve({ kind: 'link_lost', sent: false });
    const src = sourceAddress(part.source, this.cfg);
    const pdu = new smpp.PDU('submit_sm', {
      source_addr_ton: src.ton,
      source_addr_npi: src.npi,
      source_addr: src.addr,
      dest_addr_ton: 1,
      dest_addr_npi: 1,
      destination_addr: part.destination.replace(/^\+/, ''),
      esm_class: part.udhi ? EsmClass.UDHI : 0,
      registered_delivery: part.registeredDelivery ? 1 : 0,
      data_coding: part.dataCoding,
      short_message: part.shortMessage,
    });
    this.cork(session);
    return new Promise<SubmitOutcome>((resolve) => {
      if (!session.send(pdu)) {
        resolve({ kind: 'link_lost', sent: false });
        return;
      }
      this.count('submitted');
      this.inflight.set(pdu.sequence_number, { resolve, sentAt: Date.now() });
    });
  }

  private settle(pdu: PDU): void {
    const entry = this.inflight.get(pdu.sequence_number);
    if (!entry) return; // answered after its timeout: already counted and retried
    this.inflight.delete(pdu.sequence_number);
    const status = pdu.command_status;
    const latencyMs = Date.now() - entry.sentAt;
    this.govern(THROTTLING.has(status), entry.sentAt);
    if (status === Status.ESME_ROK && pdu.command === 'submit_sm_resp') {
      this.count('accepted');
      const rawId = String(pdu.message_id ?? '');
      entry.resolve({ kind: 'accepted', rawId, smscId: normalizeSmscId(rawId, this.op.submit_id_format ?? this.op.receipt_id_format), latencyMs });
      return;
    }
    if (THROTTLING.has(status)) {
      this.count('throttled');
    } else {
      this.count('failed');
    }
    // A generic_nack names a malformed PDU of ours: resending the same bytes cannot help.
    const permanent = pdu.command === 'generic_nack' ? status === Status.ESME_RINVCMDLEN || status === Status.ESME_RINVCMDID : !TRANSIENT.has(status);
    entry.resolve(permanent ? { kind: 'permanent', status } : { kind: 'transient', status: status || Status.ESME_RSYSERR });
  }

  private govern(throttled: boolean, sentAt: number): void {
    const decision = this.governor.record(throttled, sentAt);
    if (!decision) return;
    if (decision.pauseMs > 0) this.pacer.pause(decision.pauseMs);
    this.pacer.setRate(decision.rate);
    const at = { bind: this.name, operator: this.operator, rate: Math.round(decision.rate), tps: this.cfg.tps, throttled: Math.round(decision.share * 1000) / 1000 };
    switch (decision.verdict) {
      case 'probe':
        this.log.info(at, 'SMSC throttling above tolerance: rate cut to what it accepted, to see whether the throttles follow the rate');
        return;
      case 'limit':
        this.log.warn({ ...at, limit: Math.round(this.governor.limit ?? decision.rate) }, 'SMSC enforces a lower rate than configured: bind follows it');
        return;
      case 'random':
        this.log.info({ ...at, random: Math.round(this.governor.noise * 1000) / 1000 }, 'SMSC throttles at random, whatever the rate: bind keeps its rate, throttled messages are retried');
        return;
      case 'overload':
        this.log.warn({ ...at, pause_ms: decision.pauseMs }, 'SMSC throttles most submits whatever the rate: bind paused and slowed down');
        return;
      case 'climb':
        if (decision.rate >= this.cfg.tps) this.log.info(at, 'bind back to its configured rate');
    }
  }

  /** Current sending rate (submit_sm/s): the configured TPS unless the SMSC is throttling. */
  get rate(): number {
    return this.governor.rate;
  }

  // ---- inbound --------------------------------------------------------------------------

  private onPdu(session: Session, pdu: PDU): void {
    if (session !== this.session) return;
    if (pdu.malformed) {
      this.onMalformed(session, pdu);
      return;
    }
    switch (pdu.command) {
      case 'submit_sm_resp':
        this.settle(pdu);
        return;
      case 'generic_nack':
        if (this.inflight.has(pdu.sequence_number)) this.settle(pdu);
        else this.log.warn({ bind: this.name, seq: pdu.sequence_number, status: hex(pdu.command_status) }, 'generic_nack for no pending request');
        return;
      case 'enquire_link':
        session.send(pdu.response());
        return;
      case 'unbind':
        this.log.warn({ bind: this.name }, 'SMSC unbound us');
        session.send(pdu.response(), undefined, () => this.linkDown(session, 'unbound by SMSC'));
        this.setState('unbinding', { reason: 'unbound by SMSC' });
        return;
      case 'deliver_sm':
      case 'data_sm':
        this.onDeliver(session, pdu);
        return;
      case 'alert_notification':
      case 'outbind':
        // Requests without a response PDU (SMPP 3.4 §4.12, §4.1.7): nothing to answer, nothing Relais acts on.
        this.log.info({ bind: this.name, command: pdu.command }, 'SMSC sent a PDU Relais does not act on: ignored');
        return;
      case 'unknown':
        session.send(pdu.response({ command_status: Status.ESME_RINVCMDID }));
        return;
      default:
        if (!pdu.isResponse()) session.send(pdu.response({ command_status: Status.ESME_RINVCMDID }));
    }
  }

  /**
   * A PDU whose body did not decode, the framing intact: a request is answered generic_nack
   * ESME_RINVCMDLEN; a response is dropped, so what it answered times out and is retried
   * (counted as a possible duplicate) rather than settled on fields nobody could read.
   */
  private onMalformed(session: Session, pdu: PDU): void {
    this.log.warn({ bind: this.name, command: pdu.command, seq: pdu.sequence_number, reason: pdu.malformed }, 'malformed PDU from the SMSC: ignored, the link kept');
    if (!pdu.isResponse()) session.send(new smpp.PDU('generic_nack', { sequence_number: pdu.sequence_number, command_status: Status.ESME_RINVCMDLEN }));
  }

  private onDeliver(session: Session, pdu: PDU): void {
    const respond: Ack = (status = Status.ESME_ROK) => {
      if (session === this.session) session.send(pdu.response({ command_status: status }));
    };
    if (this.state !== 'bound') {
      respond(Status.ESME_RINVBNDSTS); // the SMSC retries it once we are bound
      return;
    }
    // The package stops reading fields where command_length ends: a body cut short has none of the last ones.
    if (pdu.command === 'data_sm' ? pdu.data_coding === undefined : pdu.short_message === undefined) {
      this.log.warn({ bind: this.name, command: pdu.command, seq: pdu.sequence_number }, `${pdu.command} without its mandatory fields answered with an error`);
      respond(Status.ESME_RINVCMDLEN);
      return;
    }
    try {
      const type = (pdu.esm_class ?? 0) & EsmClass.MASK_TYPE;
      if (type === 0x04 || type === 0x20) this.onReceipt(pdu, respond);
      else this.onMo(pdu, respond);
    } catch (err) {
      this.log.warn({ bind: this.name, err: describeError(err) }, 'malformed deliver_sm answered with an error');
      respond(Status.ESME_RX_P_APPN);
    }
  }

  private onReceipt(pdu: PDU, ack: Ack): void {
    const body = messageBytes(pdu);
    const text = body.toString('latin1');
    const parsed = parseReceiptText(text);
    const format = this.op.submit_id_format ?? this.op.receipt_id_format;
    // The TLVs carry the id in the submit_sm_resp form and the state unambiguously: prefer them.
    const tlvId = pdu.receipted_message_id ? String(pdu.receipted_message_id) : null;
    const smscId = tlvId ? normalizeSmscId(tlvId, format) : parsed ? normalizeReceiptId(parsed.id, format, this.op.receipt_id_format) : null;
    const stat = (typeof pdu.message_state === 'number' ? statFromMessageState(pdu.message_state) : null) ?? parsed?.stat ?? null;
    if (!smscId || !stat) {
      this.log.warn({ bind: this.name, text: text.slice(0, 160) }, 'unparsable delivery receipt acknowledged and dropped');
      ack();
      return;
    }
    this.count('receipts');
    this.emit('receipt', { operator: this.operator, bind: this.name, smscId, stat, err: parsed?.err ?? null, text: text ? text.slice(0, 255) : null }, ack);
  }

  private onMo(pdu: PDU, ack: Ack): void {
    const udhi = ((pdu.esm_class ?? 0) & EsmClass.UDHI) !== 0;
    const decoded = decodeShortMessage(messageBytes(pdu), pdu.data_coding ?? 0, udhi, this.op.default_alphabet);
    const text = this.reassemble(String(pdu.source_addr), decoded);
    if (text === null) {
      ack(); // a part held in memory until its siblings arrive
      return;
    }
    this.count('mo');
    this.emit('mo', { operator: this.operator, bind: this.name, from: toE164(String(pdu.source_addr), pdu.source_addr_ton), to: String(pdu.destination_addr), text }, ack);
  }

  private reassemble(from: string, msg: DecodedShortMessage): string | null {
    if (!msg.concat || msg.concat.total <= 1) return msg.text;
    const key = `${from}|${msg.concat.reference}|${msg.concat.total}`;
    const now = Date.now();
    for (const [k, v] of this.moParts) if (now - v.at > 10 * 60_000) this.moParts.delete(k);
    const entry = this.moParts.get(key) ?? { parts: new Array<string | undefined>(msg.concat.total).fill(undefined), at: now };
    entry.parts[msg.concat.sequence - 1] = msg.text;
    this.moParts.set(key, entry);
    if (entry.parts.some((p) => p === undefined)) return null;
    this.moParts.delete(key);
    return entry.parts.join('');
  }

  private count(kind: keyof BindCounters): void {
    this.counters[kind] += 1;
    this.lastMinute.add(kind);
    this.perMinute.add(kind);
  }

  private setState(state: BindState, detail: { reason?: string }): void {
    if (this.state === state) return;
    this.state = state;
    this.stateSince = Date.now();
    const level = state === 'bound' || state === 'stopped' ? 'info' : 'debug';
    this.log[level]({ bind: this.name, operator: this.operator, state, ...detail }, 'bind state');
    this.emit('state', state, detail);
  }
}

function messageBytes(pdu: PDU): Buffer {
  const sm: unknown = pdu.short_message;
  if (Buffer.isBuffer(sm) && sm.length > 0) return sm;
  const payload: unknown = pdu.message_payload;
  return Buffer.isBuffer(payload) ? payload : Buffer.alloc(0);
}

/** TON/NPI for a sender id: alphanumeric (5/0), international number (1/1) or short code (0/1). */
function sourceAddress(source: string, cfg: BindConfig): { ton: number; npi: number; addr: string } {
  const numeric = /^\+?\d+$/.test(source);
  const ton = cfg.source_ton ?? (!numeric ? 5 : source.startsWith('+') || source.length > 8 ? 1 : 0);
  const npi = cfg.source_npi ?? (numeric ? 1 : 0);
  return { ton, npi, addr: numeric ? source.replace(/^\+/, '') : source };
}

function toE164(addr: string, ton: unknown): string {
  return ton === 1 && /^\d+$/.test(addr) ? `+${addr}` : addr;
}

/** Capped exponential backoff with ± `jitter` spread: the delay after `failures` failures in a row, in ms. */
function backoffMs(initial: number, max: number, jitter: number, failures: number): number {
  return Math.min(max, initial * 2 ** failures) * 1000 * (1 + jitter * (Math.random() * 2 - 1));
}

const STATUS_NAMES: Record<number, string> = Object.fromEntries(Object.entries(Status).map(([k, v]) => [v, k]));
export const statusName = (status: number): string => STATUS_NAMES[status] ?? hex(status);
const hex = (n: number): string => `0x${n.toString(16).padStart(2, '0')}`;
const describeError = (err: unknown): string => (err instanceof Error ? (err as NodeJS.ErrnoException).code ?? err.message : String(err));
const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** On the clock of Inflight.sentAt: each answer is counted at the rate its submit was sent. */
function governorFor(cfg: BindConfig): ThrottleGovernor {
  return new ThrottleGovernor(cfg.tps, cfg.throttle_tolerance, cfg.throttle_backoff * 1000, Date.now);
}

/** Whether a submit_sm went out for this outcome (answered or not). */
function wentOut(outcome: SubmitOutcome): boolean {
  return outcome.kind !== 'link_lost' || outcome.sent;
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}
