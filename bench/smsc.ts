/**
 * The benchmark's SMSC: the bundled simulator (src/smpp/simulator, the same class as
 * `relais smsc-sim`) in a process of its own, that also keeps the arrival time of every submit_sm,
 * so that the rates can be taken where the SMSC sees them.
 *
 *   node bench/smsc.js --options '{"port":0,"systemId":"bench","password":"bench","receipts":false}'
 *
 * `--options`: SimulatorOptions as JSON (recordReceived and logger are set here). stdout carries the
 * JSON lines the `smsc-sim` CLI writes: `listening` once it listens; `stopped` on SIGTERM/SIGINT,
 * whose `stats` are the simulator's counters plus the arrival figures (ArrivalStats), then exit 0.
 */
import { parseArgs } from 'node:util';
import { SmscSimulator, type SimulatorOptions } from '../src/smpp/simulator/simulator.js';
import { maxInWindow } from './stats.js';

/** What the SMSC's clock said (epoch ms, Date.now(): the same clock as the benchmark's t0). */
export interface ArrivalStats {
  /** Arrival of the first and the last submit_sm answered ESME_ROK; NaN when none was. */
  firstAcceptedAt: number;
  lastAcceptedAt: number;
  /** Most submit_sm answered ESME_ROK in any sliding second, every session together. */
  maxAcceptedInOneSecond: number;
  /** Most submit_sm (whatever their answer) in any sliding second, every session together. */
  maxSubmitsInOneSecondAll: number;
}

/** How often the simulator's record of received submits is emptied into the two time lists. */
const DRAIN_MS = 100;

async function main(): Promise<void> {
  const { values } = parseArgs({ args: process.argv.slice(2), strict: true, options: { options: { type: 'string', default: '{}' } } });
  const options = JSON.parse(values.options) as SimulatorOptions;
  const sim = new SmscSimulator({
    ...options,
    recordReceived: true,
    logger: { info() {}, debug() {}, warn: (o, msg) => process.stderr.write(`${JSON.stringify({ level: 'warn', msg, ...o })}\n`) },
  });
  // The simulator's own record holds a whole object per submit: only the times are kept, and it is emptied often.
  const submitTimes: number[] = [];
  const acceptedTimes: number[] = [];
  const drain = () => {
    for (const r of sim.received.splice(0)) {
      submitTimes.push(r.at);
      if (r.status === 0) acceptedTimes.push(r.at);
    }
  };
  const timer = setInterval(drain, DRAIN_MS);

  const { host, port } = await sim.start();
  process.stdout.write(`${JSON.stringify({ event: 'listening', host, port })}\n`);

  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
  clearInterval(timer);
  await sim.stop().catch((err: unknown) => process.stderr.write(`${JSON.stringify({ level: 'warn', msg: 'stop failed', err: String(err) })}\n`));
  drain();
  process.stdout.write(`${JSON.stringify({ event: 'stopped', signal, stats: { ...sim.stats, ...arrivalStats(submitTimes, acceptedTimes) } })}\n`);
}

function arrivalStats(submitTimes: number[], acceptedTimes: number[]): ArrivalStats {
  submitTimes.sort((a, b) => a - b);
  acceptedTimes.sort((a, b) => a - b);
  return {
    firstAcceptedAt: acceptedTimes[0] ?? NaN,
    lastAcceptedAt: acceptedTimes[acceptedTimes.length - 1] ?? NaN,
    maxAcceptedInOneSecond: maxInWindow(acceptedTimes, 1000),
    maxSubmitsInOneSecondAll: maxInWindow(submitTimes, 1000),
  };
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`bench smsc: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(2);
  },
);
