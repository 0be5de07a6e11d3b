/**
 * The benchmark's two child processes (SMSC simulator, daemon): spawning them from source or from
 * dist/, stopping them, and their /proc figures.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type { SimulatorOptions } from '../src/smpp/simulator/simulator.js';

// ---- the simulator process ------------------------------------------------------------------

export interface SimulatorProcess {
  child: ChildProcess;
  host: string;
  port: number;
  /** Peak RSS in bytes (VmHWM from /proc, Linux only), NaN elsewhere or once it exited. */
  peakRss(): number;
  /**
   * SIGTERM, then the stats of its `stopped` line: the simulator's counters and the arrival
   * figures of bench/smsc.ts (null if it died or was killed first; NaN figures come as null).
   */
  stop(timeoutMs?: number): Promise<Record<string, number> | null>;
  /** Last lines it wrote to stderr (for diagnostics). */
  stderrTail(): string;
}

/**
 * Start the benchmark's SMSC (`bench/smsc`: the bundled simulator with the given SimulatorOptions,
 * which also keeps every submit_sm's arrival time) as its own process: the compiled .js when this
 * file runs from dist/, else the .ts through tsx. Resolves once its `listening` line arrived.
 */
export async function spawnSimulator(options: SimulatorOptions, startTimeoutMs = 20_000): Promise<SimulatorProcess> {
  const { root, nodeArgs } = nodeCommand('bench/smsc', ['--options', JSON.stringify(options)]);
  const child = spawn(process.execPath, nodeArgs, { cwd: root, env: childEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  const stderr = keepChunks(child.stderr!, 50);

  let exited = false;
  child.once('exit', () => { exited = true; });
  // 'close' comes after stdout was read to its end: the `stopped` line is parsed by then.
  const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
  let onListening: (address: { host: string; port: number }) => void = () => undefined;
  const lines = readSimulatorLines(child, (address) => onListening(address));

  const listening = await new Promise<{ host: string; port: number }>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`simulator did not report listening within ${startTimeoutMs} ms\n${stderr.join('')}`));
    }, startTimeoutMs);
    onListening = (address) => {
      clearTimeout(timer);
      resolve(address);
    };
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`simulator exited before listening (code ${code}, signal ${signal})\n${stderr.join('')}`));
    });
  });

  return {
    child,
    ...listening,
    peakRss: () => (exited ? NaN : procMemory(child.pid).peakBytes),
    async stop(timeoutMs = 5000) {
      if (!exited) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      await closed;
      clearTimeout(timer);
      return lines.finalStats();
    },
    stderrTail: () => stderr.join('').split('\n').slice(-20).join('\n'),
  };
}

/** The simulator's stdout JSON lines: its address once it listens, and its counters once it stopped. */
function readSimulatorLines(child: ChildProcess, listening: (address: { host: string; port: number }) => void): { finalStats(): Record<string, number> | null } {
  let stoppedStats: Record<string, number> | null = null;
  createInterface({ input: child.stdout! }).on('line', (line) => {
    let msg: { event?: string; host?: string; port?: number; stats?: Record<string, number> };
    try {
      msg = JSON.parse(line);
    } catch {
      return;
    }
    if (msg.event === 'listening' && typeof msg.port === 'number') listening({ host: msg.host ?? '127.0.0.1', port: msg.port });
    else if (msg.event === 'stopped' && msg.stats) stoppedStats = msg.stats;
  });
  return { finalStats: () => stoppedStats };
}

/** The last `max` chunks a stream wrote (it is read as text). */
function keepChunks(stream: Readable, max: number): string[] {
  const chunks: string[] = [];
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    chunks.push(chunk);
    if (chunks.length > max) chunks.splice(0, chunks.length - max);
  });
  return chunks;
}

// ---- the daemon process ---------------------------------------------------------------------

export interface DaemonProcess {
  child: ChildProcess;
  pid: number;
  /** Whether it exited (on its own or stopped). */
  hasExited(): boolean;
  /** Resolves when it exited, with how. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGTERM (an orderly stop: the daemon drains its windows), then SIGKILL after `timeoutMs`. */
  stop(timeoutMs: number): Promise<{ code: number | null; signal: NodeJS.Signals | null; killed: boolean }>;
  /** Last lines it wrote (stdout and stderr, unfiltered), for diagnostics. */
  outputTail(): string;
}

/**
 * Start `relais serve --config <file>` as its own process: dist/src/main.js when this file runs
 * from dist/, else src/main.ts through tsx; working directory = project root. The daemon logs
 * pino JSON on stdout; crashes and config errors go to stderr as text.
 *
 * `verbose`: both streams are copied to this process's stderr. Otherwise only lines of level 50
 * (error) and above are copied; the rest is dropped but the last lines are kept for outputTail().
 */
export function spawnDaemon(configPath: string, opts: { verbose: boolean; env?: Record<string, string>; nodeFlags?: readonly string[] }): DaemonProcess {
  const { root, nodeArgs } = nodeCommand('src/main', ['serve', '--config', configPath], opts.nodeFlags);
  const child = spawn(process.execPath, nodeArgs, { cwd: root, env: childEnv(opts.env), stdio: ['ignore', 'pipe', 'pipe'] });
  if (child.pid === undefined) throw new Error('could not spawn the daemon');

  const tail: string[] = [];
  for (const stream of [child.stdout!, child.stderr!]) {
    createInterface({ input: stream }).on('line', (line) => {
      tail.push(line);
      if (tail.length > 40) tail.shift();
      if (opts.verbose || levelOf(line) >= 50) process.stderr.write(`[daemon] ${line}\n`);
    });
  }
  let done = false;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      done = true;
      resolve({ code, signal });
    });
  });
  return {
    child,
    pid: child.pid,
    hasExited: () => done,
    exited,
    async stop(timeoutMs) {
      let killed = false;
      if (!done) child.kill('SIGTERM');
      const timer = setTimeout(() => {
        killed = true;
        child.kill('SIGKILL');
      }, timeoutMs);
      const how = await exited;
      clearTimeout(timer);
      return { ...how, killed };
    },
    outputTail: () => tail.join('\n'),
  };
}

/** pino's numeric level of a JSON log line; 0 for anything else. */
function levelOf(line: string): number {
  const m = /"level":(\d+)/.exec(line);
  return m ? Number(m[1]) : 0;
}

/** The compiled .js (when this file runs from dist/) or the .ts through tsx, from the project root. */
function nodeCommand(scriptNoExt: string, args: readonly string[], nodeFlags: readonly string[] = []): { root: string; nodeArgs: string[] } {
  const fromDist = import.meta.url.includes('/dist/');
  const root = fileURLToPath(new URL(fromDist ? '../../' : '../', import.meta.url));
  const script = fileURLToPath(new URL(`../${scriptNoExt}.${fromDist ? 'js' : 'ts'}`, import.meta.url));
  return { root, nodeArgs: [...nodeFlags, ...(fromDist ? [] : ['--import', 'tsx']), script, ...args] };
}

/**
 * This process's environment without any RELAIS_* variable: a shell set up for a demo daemon
 * (RELAIS_HTTP_PORT, RELAIS_DB_PATH, RELAIS_CONFIG…) must not redirect the benchmark's children.
 */
function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('RELAIS_')) env[k] = v;
  return { ...env, ...extra };
}

/** A TCP port that was free a moment ago on `host` (listen on 0, read it, close). */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : NaN;
      server.close(() => (Number.isInteger(port) ? resolve(port) : reject(new Error('no port'))));
    });
  });
}

// ---- /proc ----------------------------------------------------------------------------------

/** Current (VmRSS) and peak (VmHWM) resident memory of a process in bytes (Linux only), NaN elsewhere. */
export function procMemory(pid: number | undefined): { rssBytes: number; peakBytes: number } {
  if (pid === undefined) return { rssBytes: NaN, peakBytes: NaN };
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (key: string) => {
      const m = new RegExp(`^${key}:\\s+(\\d+)\\s+kB`, 'm').exec(status);
      return m ? Number(m[1]) * 1024 : NaN;
    };
    return { rssBytes: kb('VmRSS'), peakBytes: kb('VmHWM') };
  } catch {
    return { rssBytes: NaN, peakBytes: NaN };
  }
}

/**
 * Set a process's VmHWM back to its current RSS (Linux ≥ 4.0: `5` into /proc/<pid>/clear_refs), so
 * that the next peak read covers only what follows. False when that is not possible here.
 */
export function resetPeakMemory(pid: number | undefined): boolean {
  if (pid === undefined) return false;
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

/** CPU seconds (user + system) a process used so far, from /proc (Linux only), NaN elsewhere. */
export function procCpuSeconds(pid: number | undefined): number {
  if (pid === undefined) return NaN;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name: state is field 3, utime 14, stime 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return Number.isFinite(ticks) ? ticks / CLOCK_TICKS : NaN;
  } catch {
    return NaN;
  }
}

/** USER_HZ: 100 on every mainstream Linux build. */
const CLOCK_TICKS = 100;
