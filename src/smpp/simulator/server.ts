/**
 * The simulator's TCP server (`smpp.createServer`) and its controls: start/stop, options and
 * faults changed at runtime, and the helpers tests drive it with (MO injection, unbind, drop).
 * What happens on each connection is the session's business (session.ts).
 */
import { smpp } from '../pdu.js';
import type { PDU, Session, Server } from '../pdu.js';
import { encodeMessage } from '../codec.js';
import { DelayQueue } from './delay-queue.js';
import type { SimulatorFaults } from './faults.js';
import { NOOP_LOGGER, type SimulatorOptions } from './options.js';
import { injectedReceiptPdu, ReceiptCourier, type InjectedReceipt } from './receipts.js';
import { SimSession, type SessionContext } from './session.js';
import { emptyStats, maxInAnyWindow, type ReceivedSubmit, type SimulatorStats } from './stats.js';
import { moDeliverSm } from './wire.js';

export class SmscSimulator {
  readonly received: ReceivedSubmit[] = [];
  readonly stats: SimulatorStats = emptyStats();

  private readonly ctx: SessionContext;
  private server: Server | null = null;
  private listening: { host: string; port: number } | null = null;
  private readonly sessions = new Map<Session, SimSession>();
  private moRef = Math.floor(Math.random() * 256);
  private moCursor = 0;

  constructor(options: SimulatorOptions = {}) {
    const opts = { ...options };
    const log = options.logger ?? NOOP_LOGGER;
    const queue = new DelayQueue((err) => this.ctx.log.warn({ err }, 'simulator timer task failed'));
    this.ctx = {
      opts,
      faults: {},
      log,
      stats: this.stats,
      received: this.received,
      queue,
      receipts: new ReceiptCourier(() => this.ctx.opts, this.stats, queue, () => this.sessions.values()),
      lingerTimers: new Set(),
      nextId: 0x10000000 + Math.floor(Math.random() * 0x6fffffff),
    };
    this.setFaults(options.faults ?? {});
  }

  // ----------------------------------------------------------------------------------------
  // lifecycle

  async start(): Promise<{ host: string; port: number }> {
    if (this.listening) return this.listening;
    const { opts, log } = this.ctx;
    const host = opts.host ?? '127.0.0.1';
    const server = smpp.createServer({}, (session: Session) => this.onSession(session));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error) => {
        this.server = null;
        reject(err);
      };
      server.once('error', onError);
      server.listen(opts.port ?? 0, host, () => {
        server.off('error', onError);
        resolve();
      });
    });
    server.on('error', (err: Error) => this.ctx.log.warn({ err }, 'simulator server error'));
    const addr = server.address();
    const port = typeof addr === 'object' && addr ? addr.port : (opts.port ?? 0);
    this.listening = { host, port };
    log.info({ host, port }, 'SMSC simulator listening');
    return this.listening;
  }

  async stop(): Promise<void> {
    this.ctx.queue.clear();
    for (const t of this.ctx.lingerTimers) clearTimeout(t);
    this.ctx.lingerTimers.clear();
    for (const s of [...this.sessions.values()]) {
      try {
        s.drop('simulator stopped');
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
    const tpsChanged = faults.maxTps !== this.ctx.faults.maxTps;
    this.ctx.faults = { ...faults };
    if (tpsChanged) for (const s of this.sessions.values()) s.tps.reset();
  }

  setOptions(partial: Partial<SimulatorOptions>): void {
    this.ctx.opts = { ...this.ctx.opts, ...partial };
    if (partial.logger) this.ctx.log = partial.logger;
    if (partial.faults) this.setFaults(partial.faults);
    if ('receiptMix' in partial) this.ctx.receipts.remix();
  }

  // ----------------------------------------------------------------------------------------
  // test helpers

  boundSessions(): number {
    let n = 0;
    for (const s of this.sessions.values()) if (s.isBound()) n++;
    return n;
  }

  maxSubmitsInAnyWindow(windowMs = 1000, filter?: (r: ReceivedSubmit) => boolean): number {
    return maxInAnyWindow(filter ? this.received.filter(filter) : this.received, windowMs);
  }

  /**
   * A delivery receipt for any message id — one this SMSC never issued, say — on a bound
   * receiver or transceiver session; settles with the command_status of its deliver_sm_resp (or
   * data_sm_resp), fails when no session can take it or the session closes first.
   */
  injectReceipt(receipt: InjectedReceipt): Promise<number> {
    const target = [...this.sessions.values()].find((s) => s.canReceive(receipt.systemId));
    if (!target) return Promise.reject(new Error('no bound receiver/transceiver session'));
    const pdu = new smpp.PDU(injectedReceiptPdu(receipt, target.nextSequence(), this.ctx.opts));
    return target.request(pdu).then((resp) => resp.command_status);
  }

  /** Bytes written as they are on a bound session (else any open one): garbage, bad lengths, PDUs the package cannot build. */
  sendRaw(bytes: Buffer | PDU): void {
    const s = this.firstSession();
    if (!s) throw new Error('no session to send to');
    const buf = Buffer.isBuffer(bytes) ? bytes : bytes.toBuffer();
    s.session.socket.write(buf);
  }

  unbindAll(): void {
    for (const s of this.sessions.values()) if (s.isBound()) s.unbind();
  }

  dropAll(): void {
    for (const s of [...this.sessions.values()]) s.drop('session dropped');
  }

  /** A mobile-originated message, on the bound receivers in turn; settles with every part's resp. */
  injectMo(mo: { from: string; to: string; text: string }): Promise<void> {
    const receivers = [...this.sessions.values()].filter((s) => s.canReceive());
    if (receivers.length === 0) return Promise.reject(new Error('no bound receiver/transceiver session'));
    const target = receivers[this.moCursor++ % receivers.length] as SimSession;
    let encoded: ReturnType<typeof encodeMessage>;
    try {
      encoded = encodeMessage(mo.text, this.moRef);
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
    if (encoded.udhi) this.moRef = (this.moRef + 1) & 0xff;
    this.stats.moSent++;
    const parts = encoded.parts.map((part) => target.deliverMo(moDeliverSm(mo, part, encoded.dataCoding, encoded.udhi)));
    return Promise.all(parts).then(() => undefined);
  }

  // ----------------------------------------------------------------------------------------
  // sessions

  private onSession(session: Session): void {
    this.sessions.set(session, new SimSession(session, this.ctx));
    this.stats.sessions++;
    session.on('close', () => this.sessions.delete(session));
  }

  /** A bound session, else any open one. */
  private firstSession(): SimSession | undefined {
    let fallback: SimSession | undefined;
    for (const s of this.sessions.values()) {
      if (s.closed) continue;
      if (s.bindType) return s;
      fallback ??= s;
    }
    return fallback;
  }
}
