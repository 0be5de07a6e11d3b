/**
 * An SMSC simulator speaking real SMPP 3.4 over TCP, built on `smpp.createServer`.
 *
 * Used by the test suite, the daemon's demo mode (in-process) and the benchmark (separate
 * process): it must be fast, deterministic enough for tests, and never crash on bad input.
 *
 * This is its public entry; the parts:
 *   server.ts       the TCP server and the simulator's controls (SmscSimulator)
 *   session.ts      one connection: bind state machine, answers to every PDU
 *   faults.ts       fault policy: throttling, queue full, rejects, silence, dropped links, max TPS, refused binds
 *   receipts.ts     delivery receipts: final state, text, routing, holding and retries
 *   delay-queue.ts  timed work (delayed answers and receipts) on one timer
 *   wire.ts         PDUs encoded by hand on the hot paths, and the other PDUs it builds
 *   stats.ts        counters and the record of received submit_sm
 *   options.ts      SimulatorOptions
 */
export { SmscSimulator } from './server.js';
export type { SimulatorOptions, SimulatorLogger } from './options.js';
export type { SimulatorFaults } from './faults.js';
export type { InjectedReceipt } from './receipts.js';
export type { ReceivedSubmit, SimulatorStats } from './stats.js';
export { encodeReceiptPdu, type ReceiptPduFields } from './wire.js';
