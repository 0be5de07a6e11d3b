/**
 * `relais smsc-sim`: run the SMSC simulator as a standalone process (benchmark, demos).
 *
 * stdout carries JSON lines only:
 *   {"event":"listening","host":"127.0.0.1","port":2775}
 *   {"event":"faults-off","after_s":10}       with --faults-for, when the faults end
 *   {"event":"stats","stats":{...}}           every 5 s when the counters changed
 *   {"event":"stopped","stats":{...}}         on SIGTERM/SIGINT, then exit 0
 * Logs (warnings, and everything with --verbose) go to stderr as JSON lines.
 *
 * Runnable directly: `node --import tsx src/smpp/simulator/cli.ts --port 2775`.
 */
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import type { ReceiptStat } from '../receipt.js';
import { SmscSimulator, type SimulatorFaults, type SimulatorLogger, type SimulatorOptions } from './simulator.js';

const USAGE = `usage: smsc-sim [options]
  --host <addr>              listen address (default 127.0.0.1)
  --port <n>                 listen port (default 2775, 0 = ephemeral)
  --system-id <id>           required system_id (default: any)
  --password <pw>            required password (default: any)
  --receipts / --no-receipts send delivery receipts (default on)
  --receipt-delay <ms>       receipt delay (default 50)
  --receipt-mix <spec>       final state weights, e.g. DELIVRD=90,UNDELIV=10
  --receipt-via <cmd>        deliver_sm | data_sm (default deliver_sm)
  --receipt-id-format <f>    hex | decimal: id form in the receipt text (default = --id-format)
  --no-receipt-tlvs          omit receipted_message_id / message_state TLVs
  --receipt-before-resp      send the receipt before the submit_sm_resp
  --resp-delay <ms>          delay every submit_sm_resp (default 0)
  --id-format <f>            hex | decimal (default hex)
  --throttle-share <0..1>    share answered ESME_RTHROTTLED
  --queue-full-share <0..1>  share answered ESME_RMSGQFUL
  --reject-share <0..1>      share answered ESME_RINVDSTADR
  --no-answer-share <0..1>   share never answered
  --max-tps <n>              per-session limit over a sliding 1 s window (above: ESME_RTHROTTLED)
  --drop-after <n>           destroy the link after n submit_sm on a session
  --refuse-binds             refuse every bind (ESME_RBINDFAIL); bound sessions stay bound
  --faults-for <s>           the faults above last s seconds from the start, then the SMSC is healthy
  --stats-interval <ms>      stats line period (default 5000)
  --verbose                  debug logs on stderr
  --help`;

const RECEIPT_STATS: readonly ReceiptStat[] = ['DELIVRD', 'UNDELIV', 'EXPIRED', 'REJECTD', 'DELETED', 'UNKNOWN', 'ACCEPTD', 'ENROUTE'];

function num(name: string, value: string | undefined, opts: { min?: number; max?: number; int?: boolean } = {}): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || (opts.int && !Number.isInteger(n)) || (opts.min !== undefined && n < opts.min) || (opts.max !== undefined && n > opts.max)) {
    throw new Error(`invalid --${name}: ${value}`);
  }
  return n;
}

function share(name: string, value: string | undefined): number | undefined {
  return num(name, value, { min: 0, max: 1 });
}

function idFormat(name: string, value: string | undefined): 'hex' | 'decimal' | undefined {
  if (value === undefined) return undefined;
  if (value !== 'hex' && value !== 'decimal') throw new Error(`invalid --${name}: ${value} (hex | decimal)`);
  return value;
}

export function parseReceiptMix(spec: string): Partial<Record<ReceiptStat, number>> {
  const mix: Partial<Record<ReceiptStat, number>> = {};
  for (const item of spec.split(',')) {
    const trimmed = item.trim();
    if (!trimmed) continue;
    const [rawStat, rawWeight] = trimmed.split('=');
    const stat = (rawStat ?? '').trim().toUpperCase() as ReceiptStat;
    if (!RECEIPT_STATS.includes(stat)) throw new Error(`invalid --receipt-mix state: ${rawStat}`);
    const weight = rawWeight === undefined ? 1 : Number(rawWeight);
    if (!Number.isFinite(weight) || weight < 0) throw new Error(`invalid --receipt-mix weight: ${trimmed}`);
    mix[stat] = weight;
  }
  if (Object.keys(mix).length === 0) throw new Error(`invalid --receipt-mix: ${spec}`);
  return mix;
}

function stderrLogger(verbose: boolean): SimulatorLogger {
  const write = (level: string, o: object, msg?: string) => {
    const record: Record<string, unknown> = { level, time: new Date().toISOString(), ...o };
    if (msg) record.msg = msg;
    if (record.err instanceof Error) record.err = { message: record.err.message, stack: record.err.stack };
    process.stderr.write(`${JSON.stringify(record)}\n`);
  };
  return {
    info: (o, msg) => verbose && write('info', o, msg),
    warn: (o, msg) => write('warn', o, msg),
    debug: (o, msg) => verbose && write('debug', o, msg),
  };
}

export async function runSimulatorCli(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      host: { type: 'string' },
      port: { type: 'string' },
      'system-id': { type: 'string' },
      password: { type: 'string' },
      receipts: { type: 'boolean' },
      'no-receipts': { type: 'boolean' },
      'receipt-delay': { type: 'string' },
      'receipt-mix': { type: 'string' },
      'receipt-via': { type: 'string' },
      'receipt-id-format': { type: 'string' },
      'no-receipt-tlvs': { type: 'boolean' },
      'receipt-before-resp': { type: 'boolean' },
      'resp-delay': { type: 'string' },
      'id-format': { type: 'string' },
      'throttle-share': { type: 'string' },
      'queue-full-share': { type: 'string' },
      'reject-share': { type: 'string' },
      'no-answer-share': { type: 'string' },
      'max-tps': { type: 'string' },
      'drop-after': { type: 'string' },
      'refuse-binds': { type: 'boolean' },
      'faults-for': { type: 'string' },
      'stats-interval': { type: 'string' },
      verbose: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }

  const faults: SimulatorFaults = {};
  const throttleShare = share('throttle-share', values['throttle-share']);
  const queueFullShare = share('queue-full-share', values['queue-full-share']);
  const rejectShare = share('reject-share', values['reject-share']);
  const noAnswerShare = share('no-answer-share', values['no-answer-share']);
  const maxTps = num('max-tps', values['max-tps'], { min: 0 });
  const dropAfter = num('drop-after', values['drop-after'], { min: 0, int: true });
  if (throttleShare !== undefined) faults.throttleShare = throttleShare;
  if (queueFullShare !== undefined) faults.queueFullShare = queueFullShare;
  if (rejectShare !== undefined) faults.rejectShare = rejectShare;
  if (noAnswerShare !== undefined) faults.noAnswerShare = noAnswerShare;
  if (maxTps !== undefined) faults.maxTps = maxTps;
  if (dropAfter !== undefined) faults.dropAfterSubmits = dropAfter;
  if (values['refuse-binds']) faults.refuseBinds = true;
  const faultsFor = num('faults-for', values['faults-for'], { min: 0 });

  const receiptVia = values['receipt-via'];
  if (receiptVia !== undefined && receiptVia !== 'deliver_sm' && receiptVia !== 'data_sm') {
    throw new Error(`invalid --receipt-via: ${receiptVia} (deliver_sm | data_sm)`);
  }

  const options: SimulatorOptions = {
    host: values.host ?? '127.0.0.1',
    port: num('port', values.port, { min: 0, max: 65535, int: true }) ?? 2775,
    receipts: values['no-receipts'] ? false : (values.receipts ?? true),
    receiptTlvs: !values['no-receipt-tlvs'],
    receiptBeforeResp: values['receipt-before-resp'] ?? false,
    faults,
    // A standalone simulator can run for millions of submits: keep counters only.
    recordReceived: false,
    logger: stderrLogger(values.verbose ?? false),
  };
  if (values['system-id'] !== undefined) options.systemId = values['system-id'];
  if (values.password !== undefined) options.password = values.password;
  const receiptDelay = num('receipt-delay', values['receipt-delay'], { min: 0 });
  if (receiptDelay !== undefined) options.receiptDelayMs = receiptDelay;
  const respDelay = num('resp-delay', values['resp-delay'], { min: 0 });
  if (respDelay !== undefined) options.respDelayMs = respDelay;
  if (values['receipt-mix'] !== undefined) options.receiptMix = parseReceiptMix(values['receipt-mix']);
  if (receiptVia !== undefined) options.receiptVia = receiptVia;
  const idf = idFormat('id-format', values['id-format']);
  if (idf) options.idFormat = idf;
  const ridf = idFormat('receipt-id-format', values['receipt-id-format']);
  if (ridf) options.receiptIdFormat = ridf;
  const statsInterval = num('stats-interval', values['stats-interval'], { min: 100 }) ?? 5000;

  const sim = new SmscSimulator(options);
  const { host, port } = await sim.start();
  process.stdout.write(`${JSON.stringify({ event: 'listening', host, port })}\n`);
  const healthy = faultsFor === undefined ? null : setTimeout(() => {
    sim.setFaults({});
    process.stdout.write(`${JSON.stringify({ event: 'faults-off', after_s: faultsFor })}\n`);
  }, faultsFor * 1000);

  let last = JSON.stringify(sim.stats);
  const interval = setInterval(() => {
    const now = JSON.stringify(sim.stats);
    if (now === last) return;
    last = now;
    process.stdout.write(`${JSON.stringify({ event: 'stats', stats: sim.stats })}\n`);
  }, statsInterval);

  await new Promise<void>((resolve) => {
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping) return;
      stopping = true;
      clearInterval(interval);
      if (healthy) clearTimeout(healthy);
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
      sim
        .stop()
        .catch((err: unknown) => process.stderr.write(`${JSON.stringify({ level: 'warn', msg: 'stop failed', err: String(err) })}\n`))
        .finally(() => {
          process.stdout.write(`${JSON.stringify({ event: 'stopped', signal, stats: sim.stats })}\n`);
          resolve();
        });
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
  process.exit(0);
}

const entry = process.argv[1];
if (entry && import.meta.url === pathToFileURL(entry).href) {
  runSimulatorCli(process.argv.slice(2)).catch((err: unknown) => {
    process.stderr.write(`smsc-sim: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(2);
  });
}
