/** How a simulator is set up: credentials, receipts, answer timing, faults, logging. */
import type { ReceiptStat } from '../receipt.js';
import type { SimulatorFaults } from './faults.js';

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

export const NOOP_LOGGER: SimulatorLogger = { info() {}, warn() {}, debug() {} };
